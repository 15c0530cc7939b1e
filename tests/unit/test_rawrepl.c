/*
 * Raw REPL client against tests/tools/fake_repl (raw-paste rules, and
 * misbehaviour on request) behind tests/tools/relay on a pty.  The fake
 * device answers each program with the length and CRC-32 of the code it
 * received; expected values come from zlib here, not from the client.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "esp01/devfs.h"
#include "esp01/port.h"
#include "esp01/rawrepl.h"

static pid_t relay_pid;
static char link_path[256];

/* Start fake_repl with `args` behind the relay; open the port. */
static esp01_port *start_device(const char *const *args, long baud)
{
    const char *tools = getenv("TOOLS");
    static char relay[512], fake[512], baudtxt[32];
    snprintf(relay, sizeof relay, "%s/relay", tools ? tools : "build/tests/tools");
    snprintf(fake, sizeof fake, "%s/fake_repl", tools ? tools : "build/tests/tools");
    snprintf(link_path, sizeof link_path, "/tmp/esp01-rawrepl-%d", (int)getpid());
    snprintf(baudtxt, sizeof baudtxt, "%ld", baud);
    const char *argv[24] = {relay, "--link", link_path, "--baud", baudtxt,
                            "--", fake};
    int n = 7;
    for (int i = 0; args && args[i] && n < 22; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(link_path);
    relay_pid = fork();
    if (relay_pid == 0) {
        execv(relay, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct stat st;
        if (stat(link_path, &st) == 0)
            break;
        esp01_sleep_ms(10);
    }
    esp01_port *p = NULL;
    esp01_err err;
    if (esp01_port_open_serial(&p, link_path, 115200, false, false, &err) < 0)
        return NULL;
    /* The relay paces the line; the client paces by what the port says. */
    p->baud = (uint32_t)baud;
    return p;
}

static void stop_device(esp01_port *p)
{
    if (p)
        esp01_port_close(p);
    kill(relay_pid, SIGTERM);
    waitpid(relay_pid, NULL, 0);
}

struct sink {
    char out[4096];
    size_t len;
};

static void to_sink(void *ctx, int stream, const uint8_t *b, size_t n)
{
    struct sink *s = ctx;
    (void)stream;
    if (s->len + n >= sizeof s->out)
        n = sizeof s->out - 1 - s->len;
    memcpy(s->out + s->len, b, n);
    s->len += n;
    s->out[s->len] = '\0';
}

static uint8_t *make_code(size_t len)
{
    uint8_t *c = malloc(len);
    for (size_t i = 0; i < len; i++)
        c[i] = (uint8_t)(' ' + (i * 7 + i / 13) % 90);
    return c;
}

static void expect_echo(const struct sink *s, const uint8_t *code, size_t len)
{
    char want[64];
    snprintf(want, sizeof want, "len=%zu crc=%08lx\r\n", len,
             crc32(0L, code, (uInt)len));
    CHECK_STR(s->out, want);
}

/* Run one exec of `len` bytes against a device started with `args`. */
static int one_exec(const char *const *args, size_t len, esp01_paste_mode mode,
                    int *paste_after, struct sink *s, esp01_err *err)
{
    esp01_port *p = start_device(args, 2000000);
    CHECK(p != NULL);
    if (!p)
        return -1;
    esp01_rawrepl r;
    esp01_rawrepl_init(&r, p);
    r.paste_mode = mode;
    int rc = esp01_rawrepl_enter(&r, false, 3000, err);
    CHECK_EQ(rc, 0);
    uint8_t *code = make_code(len);
    memset(s, 0, sizeof *s);
    rc = esp01_rawrepl_exec(&r, code, len, to_sink, s, 3000, err);
    if (rc == 0)
        expect_echo(s, code, len);
    if (paste_after)
        *paste_after = r.paste;
    free(code);
    stop_device(p);
    return rc;
}

TEST(raw_paste_with_window_flow_control)
{
    const char *args[] = {"--window", "32", "--slow-credit", "1", NULL};
    struct sink s;
    esp01_err err = {0};
    int paste = -1;
    CHECK_EQ(one_exec(args, 5000, ESP01_PASTE_AUTO, &paste, &s, &err), 0);
    CHECK_EQ(paste, 1);
}

TEST(raw_paste_default_window)
{
    struct sink s;
    esp01_err err = {0};
    int paste = -1;
    CHECK_EQ(one_exec(NULL, 20000, ESP01_PASTE_AUTO, &paste, &s, &err), 0);
    CHECK_EQ(paste, 1);
}

TEST(refused_with_R0_falls_back_to_plain)
{
    const char *args[] = {"--r0", NULL};
    struct sink s;
    esp01_err err = {0};
    int paste = -1;
    CHECK_EQ(one_exec(args, 3000, ESP01_PASTE_AUTO, &paste, &s, &err), 0);
    CHECK_EQ(paste, 0);
}

TEST(old_firmware_banner_falls_back_to_plain)
{
    const char *args[] = {"--old", NULL};
    struct sink s;
    esp01_err err = {0};
    int paste = -1;
    CHECK_EQ(one_exec(args, 3000, ESP01_PASTE_AUTO, &paste, &s, &err), 0);
    CHECK_EQ(paste, 0);
}

TEST(early_end_is_an_error_not_a_silent_truncation)
{
    const char *args[] = {"--early", "100", NULL};
    struct sink s;
    esp01_err err = {0};
    int paste = -1;
    CHECK_EQ(one_exec(args, 1000, ESP01_PASTE_AUTO, &paste, &s, &err),
             ESP01_E_PROTOCOL);
    CHECK(strstr(err.msg, "ended raw-paste") != NULL);
}

TEST(stalled_credit_times_out)
{
    const char *args[] = {"--stall", "256", NULL};
    struct sink s;
    esp01_err err = {0};
    CHECK_EQ(one_exec(args, 2000, ESP01_PASTE_AUTO, NULL, &s, &err),
             ESP01_E_TIMEOUT);
}

TEST(garbage_instead_of_OK)
{
    const char *args[] = {"--garbage", NULL};
    struct sink s;
    esp01_err err = {0};
    CHECK_EQ(one_exec(args, 100, ESP01_PASTE_NEVER, NULL, &s, &err),
             ESP01_E_PROTOCOL);
}

TEST(device_error_is_classified)
{
    esp01_port *p = start_device(NULL, 2000000);
    CHECK(p != NULL);
    if (!p)
        return;
    esp01_rawrepl r;
    esp01_rawrepl_init(&r, p);
    esp01_err err = {0};
    CHECK_EQ(esp01_rawrepl_enter(&r, false, 3000, &err), 0);
    const char code[] = "raise_enoent";
    CHECK_EQ(esp01_rawrepl_exec(&r, (const uint8_t *)code, sizeof code - 1,
                                NULL, NULL, 3000, &err),
             ESP01_E_NOTFOUND);
    CHECK(strstr(err.msg, "ENOENT") != NULL);
    stop_device(p);
}

static volatile sig_atomic_t cancel_flag;

TEST(busy_device_ignoring_ctrl_c)
{
    esp01_port *p = start_device(NULL, 2000000);
    CHECK(p != NULL);
    if (!p)
        return;
    esp01_rawrepl r;
    esp01_rawrepl_init(&r, p);
    r.cancel = &cancel_flag;
    esp01_err err = {0};
    CHECK_EQ(esp01_rawrepl_enter(&r, false, 3000, &err), 0);
    const char code[] = "busy_loop";
    CHECK_EQ(esp01_rawrepl_exec(&r, (const uint8_t *)"x=1", 3, NULL, NULL,
                                3000, &err), 0);
    cancel_flag = 1;
    CHECK_EQ(esp01_rawrepl_exec(&r, (const uint8_t *)code, sizeof code - 1,
                                NULL, NULL, 0, &err),
             ESP01_E_INTERRUPTED);
    cancel_flag = 0;
    /* A second session cannot get in either, and says why. */
    esp01_rawrepl r2;
    esp01_rawrepl_init(&r2, p);
    int rc = esp01_rawrepl_enter(&r2, false, 1500, &err);
    CHECK_EQ(rc, ESP01_E_TIMEOUT);
    CHECK(strstr(err.msg, "ignores Ctrl-C") != NULL);
    stop_device(p);
}

TEST(classify_micropython_errors)
{
    char line[100];
    const char *t1 = "Traceback (most recent call last):\r\n  File \"<stdin>\", "
                     "line 1, in <module>\r\nOSError: [Errno 28] ENOSPC\r\n";
    CHECK_EQ(esp01_rawrepl_classify_error((const uint8_t *)t1, strlen(t1), line,
                                          sizeof line),
             ESP01_E_NOSPACE);
    CHECK_STR(line, "OSError: [Errno 28] ENOSPC");
    const char *t2 = "OSError: file not found\r\n";
    CHECK_EQ(esp01_rawrepl_classify_error((const uint8_t *)t2, strlen(t2), line,
                                          sizeof line),
             ESP01_E_NOTFOUND);
    const char *t3 = "OSError: 19\r\n\x1b[31mNameError: x\xff";
    CHECK_EQ(esp01_rawrepl_classify_error((const uint8_t *)t3, strlen(t3), line,
                                          sizeof line),
             ESP01_E_DEVICE);
    CHECK_STR(line, "?[31mNameError: x?");
    CHECK_EQ(esp01_rawrepl_classify_error((const uint8_t *)"", 0, line, 1),
             ESP01_E_DEVICE);
}

TEST(bytes_literal_escapes_everything_risky)
{
    char out[64];
    const uint8_t in[] = {'a', '\'', '\\', '\n', 0x01, 0x04, 0x7f, 0xff, 'z'};
    size_t n = esp01_devfs_bytes_literal(in, sizeof in, out, sizeof out);
    CHECK_STR(out, "b'a\\'\\\\\\n\\x01\\x04\\x7f\\xffz'");
    CHECK_EQ(n, strlen(out));
    CHECK_EQ(esp01_devfs_bytes_literal(in, sizeof in, out, 8), 0);
}

int main(void)
{
    RUN(raw_paste_with_window_flow_control);
    RUN(raw_paste_default_window);
    RUN(refused_with_R0_falls_back_to_plain);
    RUN(old_firmware_banner_falls_back_to_plain);
    RUN(early_end_is_an_error_not_a_silent_truncation);
    RUN(stalled_credit_times_out);
    RUN(garbage_instead_of_OK);
    RUN(device_error_is_classified);
    RUN(busy_device_ignoring_ctrl_c);
    RUN(classify_micropython_errors);
    RUN(bytes_literal_escapes_everything_risky);
    CHECK_DONE();
}
