/*
 * fake_repl - a protocol-level raw REPL device on stdin/stdout, following
 * the raw-paste rules of MicroPython's docs/reference/repl.rst: window W
 * granted up front, one 0x01 per W bytes consumed, 0x04 from the device to
 * end early, 0x04 echoed at the end of data.  It does not run Python: a
 * program's stdout is "len=N crc=XXXXXXXX" for the code it received, so a
 * test can check every byte arrived.  It can misbehave on request.
 *
 *   fake_repl [--window N] [--old] [--r0] [--early N] [--stall N]
 *             [--garbage] [--slow-credit MS]
 *
 *   --old        firmware before raw-paste: re-prints the banner instead
 *   --r0         answers "R\x00" (raw-paste refused)
 *   --early N    ends raw-paste after N bytes
 *   --stall N    stops granting credit after N bytes
 *   --garbage    answers every exec with noise instead of "OK"
 *   --slow-credit MS  waits MS before each credit byte (a slow device)
 *
 * Code containing "busy_loop" never finishes and ignores Ctrl-C; code
 * containing "raise_enoent" fails like a missing file.  A host that sends
 * more than the granted window is reported in the error text
 * ("WINDOW VIOLATION"), which makes the exec fail.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static long window = 128, early = -1, stall = -1, slow_credit_ms = 0;
static bool old_fw, refuse, garbage;

static void out(const void *b, size_t n)
{
    const char *p = b;
    while (n) {
        ssize_t w = write(1, p, n);
        if (w <= 0)
            exit(0);
        p += w;
        n -= (size_t)w;
    }
}

static void outs(const char *s)
{
    out(s, strlen(s));
}

static int in_byte(int timeout_ms)
{
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    unsigned char c;
    if (read(0, &c, 1) != 1)
        exit(0);
    return c;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *code;
static size_t code_len, code_cap;

static void code_add(int c)
{
    if (code_len == code_cap) {
        code_cap = code_cap ? code_cap * 2 : 4096;
        code = realloc(code, code_cap);
        if (!code)
            exit(1);
    }
    code[code_len++] = (char)c;
}

static void run_code(bool violation)
{
    char buf[128];
    code_add(0);
    code_len--;
    if (strstr(code, "busy_loop")) {
        for (;;)
            if (in_byte(1000) < 0)
                continue; /* swallow Ctrl-C like `except KeyboardInterrupt` */
    }
    if (violation) {
        outs("\x04" "WINDOW VIOLATION\r\n\x04>");
    } else if (strstr(code, "raise_enoent")) {
        outs("\x04Traceback (most recent call last):\r\n"
             "OSError: [Errno 2] ENOENT\r\n\x04>");
    } else {
        unsigned long crc = crc32(0L, (const Bytef *)code, (uInt)code_len);
        snprintf(buf, sizeof buf, "len=%zu crc=%08lx\r\n\x04\x04>", code_len,
                 crc);
        outs(buf);
    }
    code_len = 0;
}

static void raw_paste(void)
{
    if (refuse) {
        out("R\0", 2);
        return;
    }
    unsigned char hdr[4] = {'R', 1, (unsigned char)(window & 0xff),
                            (unsigned char)(window >> 8)};
    out(hdr, 4);
    long granted = window, got = 0;
    bool violation = false;
    code_len = 0;
    for (;;) {
        if (early >= 0 && got >= early) {
            outs("\x04");
            /* The host acknowledges with 0x04; drop anything before it. */
            int c;
            while ((c = in_byte(5000)) >= 0 && c != 4) {
            }
            run_code(violation);
            return;
        }
        int c = in_byte(10000);
        if (c < 0)
            return;
        if (c == 4) {
            outs("\x04");
            run_code(violation);
            return;
        }
        code_add(c);
        got++;
        if (got > granted)
            violation = true;
        if (got % window == 0 && (stall < 0 || got < stall)) {
            if (slow_credit_ms)
                sleep_ms(slow_credit_ms);
            outs("\x01");
            granted += window;
        }
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--window") && i + 1 < argc)
            window = atol(argv[++i]);
        else if (!strcmp(argv[i], "--early") && i + 1 < argc)
            early = atol(argv[++i]);
        else if (!strcmp(argv[i], "--stall") && i + 1 < argc)
            stall = atol(argv[++i]);
        else if (!strcmp(argv[i], "--slow-credit") && i + 1 < argc)
            slow_credit_ms = atol(argv[++i]);
        else if (!strcmp(argv[i], "--old"))
            old_fw = true;
        else if (!strcmp(argv[i], "--r0"))
            refuse = true;
        else if (!strcmp(argv[i], "--garbage"))
            garbage = true;
        else {
            fprintf(stderr, "fake_repl: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (window < 1 || window > 65535)
        return 2;
    struct termios t;
    if (tcgetattr(0, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(0, TCSANOW, &t);
    }
    bool raw = false;
    outs("MicroPython fake\r\n>>> ");
    for (;;) {
        int c = in_byte(60000);
        if (c < 0)
            continue;
        if (!raw) {
            if (c == 1) {
                raw = true;
                code_len = 0;
                outs("\r\nraw REPL; CTRL-B to exit\r\n>");
            } else if (c == 3) {
                outs("\r\n>>> ");
            }
            continue;
        }
        switch (c) {
        case 1:
            code_len = 0;
            outs("raw REPL; CTRL-B to exit\r\n>");
            break;
        case 2:
            raw = false;
            outs("\r\nMicroPython fake\r\n>>> ");
            break;
        case 3:
            code_len = 0;
            break;
        case 4:
            if (garbage) {
                outs("\xfe\x7fZZ noise\r\n");
                code_len = 0;
                break;
            }
            outs("OK");
            run_code(false);
            break;
        case 5:
            if (old_fw)
                break; /* the "A" and 0x01 that follow re-print the banner */
            c = in_byte(1000);
            if (c == 'A' && in_byte(1000) == 1)
                raw_paste();
            break;
        default:
            code_add(c);
        }
    }
}
