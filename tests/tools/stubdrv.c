/*
 * stubdrv - drive the flasher stub's QEMU build over its pty through what
 * esptool-js does not exercise: every error code, errors deferred past the
 * acknowledgement, READ_FLASH with small in-flight windows, the baud-rate
 * revert timers, SPI_SET_PARAMS limits, FLASH_END rebooting.
 *
 *   stubdrv TTY FLASH_FILE CTL_FILE
 *
 * FLASH_FILE is the stub's flash (read here to check what the stub wrote
 * and read), CTL_FILE its event file (docs/stub.md).  Prints one line per
 * case, "ok - name" or "FAIL - name: why", which tests/run.sh counts; the
 * last case makes the stub reboot, so QEMU exits.
 */
#include <md5.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "esp01/port.h"
#include "esp01/slip.h"

#define SECTOR 4096u

static esp01_port *port;
static esp01_slip_decoder dec;
static uint8_t frame[8192];
static uint8_t rxbuf[4096];
static size_t rx_len, rx_pos;
static const char *flash_path, *ctl_path;
static int failures;
static uint32_t div0;

static void result(bool good, const char *name, const char *fmt, ...)
{
    if (good) {
        printf("ok - %s\n", name);
    } else {
        va_list ap;
        printf("FAIL - %s: ", name);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        failures++;
    }
    fflush(stdout);
}

static void expect(const char *name, int got, int want)
{
    result(got == want, name, "got %d, want %d", got, want);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Next SLIP frame within `ms`; its length, or 0 on timeout. */
static size_t next_frame(uint32_t ms)
{
    uint64_t deadline = esp01_deadline_in(ms);
    for (;;) {
        if (rx_pos < rx_len) {
            size_t used;
            size_t n = esp01_slip_feed(&dec, rxbuf + rx_pos, rx_len - rx_pos, &used);
            rx_pos += used;
            if (n)
                return n;
            continue;
        }
        int r = esp01_port_read(port, rxbuf, sizeof rxbuf, deadline, NULL);
        if (r <= 0)
            return 0;
        rx_len = (size_t)r;
        rx_pos = 0;
    }
}

static void send_raw_frame(const uint8_t *p, size_t n)
{
    size_t cap = ESP01_SLIP_ENCODED_MAX(n);
    uint8_t *enc = malloc(cap);
    size_t k = esp01_slip_encode(p, n, enc, cap);
    esp01_port_write(port, enc, k, esp01_deadline_in(5000), NULL);
    free(enc);
}

static void send_cmd(uint8_t op, const uint8_t *body, size_t n, uint32_t chk,
                     int len_field_delta)
{
    uint8_t *f = malloc(8 + n);
    size_t len = n + (size_t)len_field_delta;
    f[0] = 0;
    f[1] = op;
    f[2] = (uint8_t)len;
    f[3] = (uint8_t)(len >> 8);
    put_le32(f + 4, chk);
    memcpy(f + 8, body, n);
    send_raw_frame(f, 8 + n);
    free(f);
}

struct reply {
    bool got;
    uint32_t value;
    uint8_t status, error;
    uint8_t data[64];
    size_t len;
};

/* The reply to `op` within `ms`, skipping other frames. */
static struct reply wait_reply(uint8_t op, uint32_t ms)
{
    struct reply r = {0};
    uint64_t deadline = esp01_deadline_in(ms);
    while (esp01_now_ms() < deadline) {
        size_t n = next_frame((uint32_t)(deadline - esp01_now_ms()) + 1);
        if (n < 10 || frame[0] != 1 || frame[1] != op)
            continue;
        size_t dlen = (size_t)frame[2] | (size_t)frame[3] << 8;
        if (dlen + 8 != n || dlen < 2)
            continue;
        r.got = true;
        r.value = le32(frame + 4);
        r.len = dlen - 2;
        memcpy(r.data, frame + 8, r.len < sizeof r.data ? r.len : sizeof r.data);
        r.status = frame[8 + r.len];
        r.error = frame[9 + r.len];
        return r;
    }
    return r;
}

static struct reply cmd(uint8_t op, const uint8_t *body, size_t n)
{
    send_cmd(op, body, n, 0, 0);
    return wait_reply(op, 5000);
}

/* The error byte of the reply (0 for ok), -1 for no reply. */
static int code(struct reply r)
{
    return !r.got ? -1 : r.status ? r.error : 0;
}

static int begin(uint8_t op, uint32_t size, uint32_t block, uint32_t offset)
{
    uint8_t b[16];
    put_le32(b, size);
    put_le32(b + 4, (size + block - 1) / (block ? block : 1));
    put_le32(b + 8, block);
    put_le32(b + 12, offset);
    return code(cmd(op, b, 16));
}

static int data(uint8_t op, uint32_t seq, const uint8_t *p, size_t n,
                bool bad_checksum, int len_word_delta)
{
    uint8_t *b = malloc(16 + n);
    put_le32(b, (uint32_t)((int)n + len_word_delta));
    put_le32(b + 4, seq);
    put_le32(b + 8, 0);
    put_le32(b + 12, 0);
    memcpy(b + 16, p, n);
    uint32_t chk = 0xEF;
    for (size_t i = 0; i < n; i++)
        chk ^= p[i];
    send_cmd(op, b, 16 + n, bad_checksum ? chk ^ 0x5A : chk, 0);
    free(b);
    return code(wait_reply(op, 10000));
}

static int end(uint8_t op, uint32_t flag)
{
    uint8_t b[4];
    put_le32(b, flag);
    return code(cmd(op, b, 4));
}

static bool read_file(const char *path, uint32_t off, uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool good = fseek(f, off, SEEK_SET) == 0 && fread(buf, 1, n, f) == n;
    fclose(f);
    return good;
}

/* Lines of the event file, as one string (for searching). */
static char *ctl_text(void)
{
    static char buf[8192];
    FILE *f = fopen(ctl_path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    return buf;
}

static unsigned ctl_count(const char *line)
{
    unsigned n = 0;
    size_t k = strlen(line);
    for (const char *p = ctl_text(); (p = strstr(p, line)) != NULL; p += k)
        if ((p == ctl_text() || p[-1] == '\n') && p[k] == '\n')
            n++;
    return n;
}

/* Wait up to `ms` for `line` to appear `times` times; the ms it took, or -1. */
static long ctl_wait(const char *line, unsigned times, uint32_t ms)
{
    uint64_t t0 = esp01_now_ms(), deadline = t0 + ms;
    while (esp01_now_ms() < deadline) {
        if (ctl_count(line) >= times)
            return (long)(esp01_now_ms() - t0);
        esp01_sleep_ms(10);
    }
    return -1;
}

static bool sync_ok(void)
{
    uint8_t b[36] = {7, 7, 0x12, 0x20};
    memset(b + 4, 0x55, 32);
    send_cmd(0x08, b, 36, 0, 0);
    unsigned n = 0;
    struct reply r;
    while ((r = wait_reply(0x08, n ? 300 : 3000)).got) {
        if (r.value != 0 || r.status)
            return false;
        n++;
    }
    return n == 8;
}

static void case_greeting_and_sync(void)
{
    size_t n = next_frame(5000);
    result(n == 4 && memcmp(frame, "OHAI", 4) == 0, "stub greets with OHAI",
           "first frame %zu bytes", n);
    result(sync_ok(), "SYNC: eight replies, value 0", "wrong replies");
    uint8_t b[4];
    put_le32(b, 0x40001000u);
    struct reply r = cmd(0x0A, b, 4);
    result(code(r) == 0 && r.value == 0xFFF0C101u, "READ_REG of the chip magic",
           "code %d value %08x", code(r), r.value);
    put_le32(b, 0x60000014u);
    r = cmd(0x0A, b, 4);
    div0 = r.value;
    result(code(r) == 0 && r.value == 452, "UART divider is the one in clkdiv",
           "%u", r.value);
}

static void case_error_codes(void)
{
    uint8_t p[64] = {0};
    expect("FLASH_DATA before BEGIN: C6", data(0x03, 0, p, 64, false, 0), 0xC6);
    expect("FLASH_END before BEGIN: C6", end(0x04, 1), 0xC6);
    expect("block size over 0x4000: C2", begin(0x02, 256, 0x4001, 0), 0xC2);
    expect("offset not on a sector: C0", begin(0x02, 256, 0x400, 0x800), 0xC0);
    expect("region past 16 MiB: C4", begin(0x02, 256, 0x400, 16u << 20), 0xC4);
    expect("unknown command: C3", code(cmd(0x77, p, 0)), 0xC3);
    expect("MEM_BEGIN (ROM only): C3", code(cmd(0x05, p, 16)), 0xC3);
    send_cmd(0x0A, p, 4, 0, 4); /* header says 8 bytes, 4 follow */
    expect("length field not the frame's: C0", code(wait_reply(0x0A, 3000)), 0xC0);
    expect("READ_REG with 8 bytes: C0", code(cmd(0x0A, p, 8)), 0xC0);

    expect("FLASH_DEFL_BEGIN", begin(0x10, 8192, 0x400, 0x10000), 0);
    expect("bad data checksum: C1", data(0x11, 0, p, 64, true, 0), 0xC1);
    expect("out-of-sequence DATA: C3", data(0x11, 1, p, 64, false, 0), 0xC3);
    expect("DATA length word wrong: C0", data(0x11, 0, p, 64, false, 1), 0xC0);
    uint8_t big[0x401] = {0};
    expect("DATA longer than the block size: C0", data(0x11, 0, big, sizeof big, false, 0), 0xC0);
    expect("FLASH_DATA in a deflate session: C6", data(0x03, 0, p, 64, false, 0), 0xC6);
}

static void case_deferred(void)
{
    uint8_t junk[512];
    memset(junk, 0xEE, sizeof junk);
    int c;
    begin(0x10, 8192, 0x400, 0x10000);
    expect("broken stream: its DATA is still acknowledged", data(0x11, 0, junk, sizeof junk, false, 0), 0);
    expect("inflate error comes with the next DATA: C7", data(0x11, 1, junk, sizeof junk, false, 0), 0xC7);
    expect("and with END: C7", end(0x12, 1), 0xC7);

    /* A real stream, cut short / too long for the announced size. */
    uint8_t img[6000], z[8000];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 31 + i / 100);
    uLongf zn = sizeof z;
    compress2(z, &zn, img, sizeof img, 9);
    begin(0x10, 7000, 0x400, 0x10000);
    for (uint32_t seq = 0; seq * 0x400 < zn; seq++)
        data(0x11, seq, z + seq * 0x400, zn - seq * 0x400 < 0x400 ? zn - seq * 0x400 : 0x400,
             false, 0);
    expect("stream shorter than the size: C8 at END", end(0x12, 1), 0xC8);
    begin(0x10, 5000, 0x400, 0x10000);
    for (uint32_t seq = 0; seq * 0x400 < zn; seq++)
        data(0x11, seq, z + seq * 0x400, zn - seq * 0x400 < 0x400 ? zn - seq * 0x400 : 0x400,
             false, 0);
    expect("stream longer than the size: C9 at END", end(0x12, 1), 0xC9);

    /* The same stream, right size: on flash, the rest of the sector erased. */
    begin(0x10, sizeof img, 0x400, 0x10000);
    int worst = 0;
    for (uint32_t seq = 0; seq * 0x400 < zn; seq++) {
        c = data(0x11, seq, z + seq * 0x400, zn - seq * 0x400 < 0x400 ? zn - seq * 0x400 : 0x400,
                 false, 0);
        if (c)
            worst = c;
    }
    c = end(0x12, 1);
    uint8_t back[8192];
    bool same = read_file(flash_path, 0x10000, back, sizeof back) &&
                memcmp(back, img, sizeof img) == 0;
    for (size_t i = sizeof img; same && i < sizeof back; i++)
        same = back[i] == 0xFF;
    result(worst == 0 && c == 0 && same, "deflated write lands in the flash file",
           "data %d end %d same %d", worst, c, same);

    /* Plain FLASH_DATA: the last block padded with 0xFF is fine. */
    uint8_t blk[0x400];
    memset(blk, 0xFF, sizeof blk);
    memcpy(blk, img, 0x300);
    begin(0x02, 0x300, 0x400, 0x20000);
    c = data(0x03, 0, blk, sizeof blk, false, 0);
    int e = end(0x04, 1);
    same = read_file(flash_path, 0x20000, back, 0x1000) && memcmp(back, img, 0x300) == 0;
    result(c == 0 && e == 0 && same, "plain write with 0xFF padding", "%d %d %d", c, e, same);
}

static void md5_of(const uint8_t *p, size_t n, uint8_t out[16])
{
    MD5_CTX c;
    MD5Init(&c);
    MD5Update(&c, p, n);
    MD5Final(out, &c);
}

/* READ_FLASH of `len` bytes in `block`s with `window` frames in flight. */
static void case_read_window(uint32_t addr, uint32_t len, uint32_t block,
                             uint32_t window)
{
    char name[96];
    snprintf(name, sizeof name, "READ_FLASH %u bytes, blocks of %u, %u in flight",
             len, block, window);
    uint8_t b[16];
    put_le32(b, addr);
    put_le32(b + 4, len);
    put_le32(b + 8, block);
    put_le32(b + 12, window);
    if (code(cmd(0xD2, b, 16)) != 0) {
        result(false, name, "refused");
        return;
    }
    uint8_t *got = malloc(len + 1);
    uint32_t have = 0, acked = 0, over = 0;
    while (have < len) {
        size_t n = next_frame(5000);
        if (n == 0)
            break;
        memcpy(got + have, frame, n > len - have ? len - have : n);
        have += (uint32_t)n;
        uint32_t unacked = (have - acked + block - 1) / block;
        if (unacked > window)
            over++;
        if (unacked == window) {
            /* The stub must now wait: nothing may come without an ack. */
            if (have < len && next_frame(300) != 0)
                over++;
            uint8_t a[4];
            put_le32(a, have);
            send_raw_frame(a, 4);
            acked = have;
        }
    }
    if (acked < have) {
        uint8_t a[4];
        put_le32(a, have);
        send_raw_frame(a, 4);
    }
    size_t dn = next_frame(5000);
    uint8_t want[16], md5[16] = {0};
    memcpy(md5, frame, dn == 16 ? 16 : 0);
    uint8_t *ref = malloc(len + 1);
    bool file_ok = read_file(flash_path, addr, ref, len);
    md5_of(got, len, want);
    result(have == len && over == 0 && dn == 16 && memcmp(md5, want, 16) == 0 && file_ok &&
               memcmp(got, ref, len) == 0,
           name, "got %u of %u, %u over the window, digest frame %zu bytes", have, len,
           over, dn);
    free(got);
    free(ref);
}

static void case_reads(void)
{
    case_read_window(0x10000, 4 * 1024, 1024, 1);
    case_read_window(0x10001, 5 * 700 + 13, 700, 2);
    case_read_window(0x0, 3 * 4096, 4096, 3);

    uint8_t b[16] = {0}, ref[8192], want[16];
    put_le32(b, 0x10003);
    put_le32(b + 4, 6000);
    struct reply r = cmd(0x13, b, 16);
    read_file(flash_path, 0x10003, ref, 6000);
    md5_of(ref, 6000, want);
    result(code(r) == 0 && r.len == 16 && memcmp(r.data, want, 16) == 0,
           "SPI_FLASH_MD5 of an unaligned range", "code %d", code(r));

    /* A smaller chip: reads past its end are refused. */
    uint8_t p[24] = {0};
    put_le32(p + 4, 1u << 20);
    put_le32(p + 8, 65536);
    put_le32(p + 12, 4096);
    put_le32(p + 16, 256);
    put_le32(p + 20, 0xFFFF);
    int c = code(cmd(0x0B, p, 24));
    put_le32(b, (1u << 20) - 16);
    put_le32(b + 4, 32);
    put_le32(b + 8, 16);
    put_le32(b + 12, 1);
    int c2 = code(cmd(0xD2, b, 16));
    put_le32(p + 4, 2u << 20);
    int c3 = code(cmd(0x0B, p, 24));
    result(c == 0 && c2 == 0xC4 && c3 == 0, "SPI_SET_PARAMS size limits READ_FLASH: C4",
           "%d %d %d", c, c2, c3);
    put_le32(b + 8, 0x1001);
    expect("READ_FLASH block over 0x1000: C2", code(cmd(0xD2, b, 16)), 0xC2);
}

static void case_baud(void)
{
    uint8_t b[8];
    char line[32];
    /* Unconfirmed: back to the previous divider after 1 s. */
    put_le32(b, 460800);
    put_le32(b + 4, 115200);
    uint64_t t0 = esp01_now_ms();
    int c = code(cmd(0x0F, b, 8));
    snprintf(line, sizeof line, "clkdiv %u", div0);
    long t = ctl_wait(line, 1, 3000);
    long took = t < 0 ? -1 : (long)(esp01_now_ms() - t0);
    printf("# unconfirmed baud change undone %ld ms after the request\n", took);
    result(c == 0 && ctl_count("clkdiv 113") == 1 && took >= 900 && took < 2500,
           "CHANGE_BAUDRATE unanswered: back after 1 s", "code %d, back after %ld ms", c, took);
    result(sync_ok(), "the stub answers at the old rate again", "no SYNC");

    /* Confirmed by a request, then silence: back to the ROM's after 3 s. */
    put_le32(b, 921600);
    c = code(cmd(0x0F, b, 8));
    esp01_sleep_ms(200);
    uint8_t r[4];
    put_le32(r, 0x60000014u);
    struct reply rr = cmd(0x0A, r, 4);
    t0 = esp01_now_ms();
    t = ctl_wait(line, 2, 6000);
    took = t < 0 ? -1 : (long)(esp01_now_ms() - t0);
    printf("# confirmed baud change undone %ld ms after the last request\n", took);
    result(c == 0 && rr.value == 57 && took >= 2700 && took < 4500,
           "confirmed change: back to the ROM divider after 3 s of silence",
           "code %d div %u back after %ld ms", c, rr.value, took);
}

/*
 * Not a pass/fail case: how much of the flash time hides behind receiving
 * the next packet.  The same packets are sent once with a wrong checksum
 * (received and refused: the transfer alone) and once for real; without
 * pipelining the second run would take the first plus the fake flash's
 * busy time (block erases 150 ms, pages 0.7 ms).
 */
static void measure_pipelining(void)
{
    enum { N = 16, BLOCK = 0x4000 };
    uint8_t *img = malloc((size_t)N * BLOCK);
    for (size_t i = 0; i < (size_t)N * BLOCK; i++)
        img[i] = (uint8_t)(i * 2654435761u >> 13);
    uint64_t t[2];
    for (int real = 0; real < 2; real++) {
        uint64_t t0 = esp01_now_ms();
        begin(0x02, N * BLOCK, BLOCK, 0x100000);
        for (uint32_t seq = 0; seq < N; seq++)
            data(0x03, seq, img + (size_t)seq * BLOCK, BLOCK, !real, 0);
        if (real)
            end(0x04, 1);
        t[real] = esp01_now_ms() - t0;
    }
    unsigned busy = N * BLOCK / 65536 * 150 + N * BLOCK / 256 * 7 / 10;
    printf("# pipelining: %u x 16 KiB packets: transfer alone %llu ms, written %llu ms, "
           "fake flash busy %u ms (%llu ms of it hidden)\n", N, (unsigned long long)t[0],
           (unsigned long long)t[1], busy,
           (unsigned long long)(t[0] + busy > t[1] ? t[0] + busy - t[1] : 0));
    free(img);
}

static void case_reboot(void)
{
    int c1 = begin(0x02, 0, 0x400, 0);
    int c2 = end(0x04, 0);
    long t = ctl_wait("reset", 1, 3000);
    result(c1 == 0 && c2 == 0 && t >= 0, "FLASH_END 0 replies, then resets the chip",
           "%d %d %ld", c1, c2, t);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: stubdrv TTY FLASH_FILE CTL_FILE\n");
        return 2;
    }
    flash_path = argv[2];
    ctl_path = argv[3];
    esp01_err err;
    if (esp01_port_open_serial(&port, argv[1], 115200, false, false, &err) < 0) {
        fprintf(stderr, "stubdrv: %s\n", err.msg);
        return 2;
    }
    esp01_slip_decoder_init(&dec, frame, sizeof frame);
    case_greeting_and_sync();
    case_error_codes();
    case_deferred();
    case_reads();
    case_baud();
    measure_pipelining();
    case_reboot();
    esp01_port_close(port);
    return failures ? 1 : 0;
}
