/*
 * romsim - an ESP8266 in download mode, on a pty, for the tests.
 *
 *   romsim --link /tmp/tty --flash flash.bin [options]
 *
 * It creates a pty, prints the slave's path (and symlinks it to --link),
 * and answers the ROM loader protocol the way the ESP8266 ROM's code does
 * (rom.c, with the rules and their sources), over a NOR flash chip kept in
 * a file (flash.c).  With --stub, an uploaded copy of esp01's flasher stub
 * is run by the QEMU build of the same source (stub.c).
 *
 * The line: the chip auto-bauds to the host's rate at the first SYNC and
 * keeps that rate (the stub may change it).  When the rate the host set on
 * the pty differs from the chip's by more than 4%, every byte in either
 * direction arrives as garbage, as on a real UART.  --throttle paces bytes
 * at the line rate (10 bits a byte).
 *
 * Fault injection (seeded, per frame): drop or corrupt one byte of a
 * request or reply, stall before replying, reset the chip.  The --stats
 * file written at exit records what happened, as counted by the chip.
 * Stops on SIGTERM/SIGINT.
 */
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "esp01/port.h"
#include "esp01/slip.h"
#include "sim.h"

struct sim S;
volatile int sim_stop;

static void on_signal(int sig)
{
    (void)sig;
    sim_stop = 1;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep in slices so that SIGTERM is honoured promptly. */
void sleep_s(double d)
{
    double end = now_s() + d;
    while (!sim_stop) {
        double left = end - now_s();
        if (left <= 0)
            break;
        esp01_sleep_ms(left > 0.05 ? 50 : (uint32_t)(left * 1000.0) + 1);
    }
}

static void sleep_until(double t) { sleep_s(t - now_s()); }

uint64_t rnd(void)
{
    /* xorshift64*: reproducible from --seed */
    S.seed ^= S.seed >> 12;
    S.seed ^= S.seed << 25;
    S.seed ^= S.seed >> 27;
    return S.seed * 0x2545F4914F6CDD1Dull;
}

bool chance(uint32_t ppm) { return ppm && rnd() % 1000000u < ppm; }

void logf_(const char *fmt, ...)
{
    if (!S.log)
        return;
    static double t0;
    if (t0 == 0)
        t0 = now_s();
    fprintf(S.log, "%9.3f ", now_s() - t0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(S.log, fmt, ap);
    va_end(ap);
    fputc('\n', S.log);
    fflush(S.log);
}

/* ---- the line ------------------------------------------------------------ */

uint32_t host_baud_now(void)
{
    struct termios tio;
    if (tcgetattr(S.slave, &tio) < 0)
        return S.host_baud;
    static const struct { speed_t s; uint32_t b; } rates[] = {
        {B9600, 9600},     {B19200, 19200},     {B38400, 38400},
        {B57600, 57600},   {B115200, 115200},   {B230400, 230400},
        {B460800, 460800}, {B500000, 500000},   {B576000, 576000},
        {B921600, 921600}, {B1000000, 1000000}, {B1500000, 1500000},
        {B2000000, 2000000}, {B3000000, 3000000},
    };
    speed_t sp = cfgetospeed(&tio);
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (rates[i].s == sp)
            return rates[i].b;
    return S.host_baud;
}

static uint32_t line_baud(void)
{
    return S.chip_baud ? S.chip_baud : S.host_baud;
}

static bool rates_mismatch(void)
{
    if (S.max_baud && (S.host_baud > S.max_baud || S.chip_baud > S.max_baud))
        return true;
    if (!S.chip_baud || !S.host_baud)
        return false;
    double r = (double)S.host_baud / S.chip_baud;
    return r < 0.96 || r > 1.04;
}

static double byte_time(void)
{
    uint32_t b = line_baud();
    return S.throttle && b ? 10.0 / b : 0.0;
}

/*
 * A receiver at another rate than the sender sees framing errors and
 * wrong bits: about one garbage byte per byte at near rates, fewer when
 * the receiver is much slower.  Rewrites buf in place; returns the length.
 */
static size_t garble(uint8_t *buf, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 2)
            continue;
        buf[out++] = (uint8_t)rnd();
    }
    S.garbled_bytes += n;
    return out;
}

static void raw_out(const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(S.master, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || sim_stop)
            return;
        struct pollfd pfd = {S.master, POLLOUT, 0};
        if (poll(&pfd, 1, 1000) == 0) {
            /* Nobody is reading the port: the bytes fall on the floor,
             * as they would from a real UART. */
            tcflush(S.slave, TCIFLUSH);
        }
    }
    S.tx_bytes += n;
}

void line_write(const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    S.host_baud = host_baud_now();
    if (S.throttle)
        sleep_until(now_s() + (double)n * byte_time());
    if (rates_mismatch()) {
        uint8_t tmp[4096];
        while (n) {
            size_t k = n < sizeof tmp ? n : sizeof tmp;
            memcpy(tmp, p, k);
            raw_out(tmp, garble(tmp, k));
            p += k;
            n -= k;
        }
        return;
    }
    raw_out(p, n);
}

void text_out(const char *s) { line_write((const uint8_t *)s, strlen(s)); }

/* ---- ROM mode frames ---------------------------------------------------- */

static void handle_frame(uint8_t *f, size_t n)
{
    S.frames++;
    if (S.garbage) {
        uint8_t junk[24];
        for (size_t i = 0; i < sizeof junk; i++) {
            junk[i] = (uint8_t)rnd();
            if (junk[i] == 0xC0)
                junk[i] = 0x3F;
        }
        line_write(junk, sizeof junk);
        return;
    }
    if (chance(S.p_reset)) {
        S.faults_reset++;
        rom_reset("injected");
        return;
    }
    if (n > 0 && chance(S.p_drop)) {
        size_t i = rnd() % n;
        memmove(f + i, f + i + 1, n - i - 1);
        n--;
        S.faults_drop++;
    } else if (n > 0 && chance(S.p_corrupt)) {
        f[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
        S.faults_corrupt++;
    }
    if (S.synced && chance(S.p_stall)) {
        S.faults_stall++;
        sleep_s(S.stall_ms / 1000.0);
    }
    rom_handle(f, n);
}

static void write_stats(void)
{
    if (!S.stats_path)
        return;
    FILE *f = fopen(S.stats_path, "w");
    if (!f)
        return;
#define STAT(name) fprintf(f, #name "=%llu\n", (unsigned long long)S.name)
    STAT(rx_bytes);
    STAT(tx_bytes);
    STAT(frames);
    STAT(data_bytes);
    STAT(erased_sectors);
    STAT(erased_blocks);
    STAT(programmed_pages);
    STAT(flash_begins);
    STAT(faults_drop);
    STAT(faults_corrupt);
    STAT(faults_stall);
    STAT(faults_reset);
    STAT(ran_user_code);
    STAT(reboots);
    STAT(invalid);
    STAT(garbled_bytes);
#undef STAT
    fprintf(f, "chip_baud=%u\n", S.chip_baud);
    fclose(f);
}

static uint32_t parse_ppm(const char *s)
{
    double p = atof(s);
    if (p < 0)
        p = 0;
    if (p > 1)
        p = 1;
    return (uint32_t)(p * 1e6 + 0.5);
}

static int usage(void)
{
    fputs("usage: romsim [--link PATH] [--flash FILE] [--size BYTES]\n"
          "  [--jedec MMTTCC (manufacturer, type, capacity; default EF4014)]\n"
          "  [--chip esp8266|esp8285|esp32] [--magic HEX] [--efuse W0,W1,W2,W3]\n"
          "  [--crystal 26|40] [--rom-flash-size BYTES (the ROM's flashchip\n"
          "  size at reset; default 4 MiB)] [--throttle] [--no-flash-timing]\n"
          "  [--max-block N (FLASH_BEGIN block size limit; the ROM's is 0x1800)]\n"
          "  [--bad-checksum-at N (damage the Nth FLASH_DATA payload)]\n"
          "  [--boot-text] [--garbage] [--power-on-after MS]\n"
          "  [--seed N] [--drop P] [--corrupt P] [--stall P] [--stall-ms N]\n"
          "  [--reset P] [--stats FILE] [--log FILE]\n"
          "  [--stub --qemu PATH --stub-elf PATH] [--refuse-upload]\n"
          "  [--hang-reset-after MS (uploaded code hangs, then a reset)]\n"
          "  [--max-baud N (faster bytes arrive as garbage both ways)]\n",
          stderr);
    return 2;
}

/* QEMU is started from a directory of its own (stub.c), so a path the
 * user gave relative to where romsim was started must be made absolute
 * first.  A bare program name is left for the PATH search. */
static const char *absolute(const char *path, bool search_path)
{
    if (!path || path[0] == '/' || (search_path && !strchr(path, '/')))
        return path;
    char *abs = realpath(path, NULL);
    return abs ? abs : path;
}

static void set_defaults(struct flash_opts *fo)
{
    *fo = (struct flash_opts){NULL, -1, 0x1440EFu, 4u << 20, true};
    S.magic = 0xFFF0C101u;
    S.efuse[0] = 0xA6000000u;
    S.efuse[1] = 0x0000C3B2u;
    S.efuse[2] = 0;
    S.efuse[3] = 0x005CCF7Fu;
    S.crystal_hz = 26000000u;
    S.seed = 1;
    S.stall_ms = 1500;
    S.host_baud = 115200;
    S.max_block = 0x1800;
}

/* The chip's identity and the flash: 1 when taken, 0 when not one of these
 * options, -1 when the value is wrong. */
static int chip_option(const char *a, const char *v, struct flash_opts *fo)
{
    if (strcmp(a, "--flash") == 0) fo->path = v;
    else if (strcmp(a, "--size") == 0) fo->size = strtoll(v, NULL, 0);
    else if (strcmp(a, "--jedec") == 0) {
        uint32_t x = (uint32_t)strtoul(v, NULL, 16);
        /* given as the bytes arrive: manufacturer, type, capacity */
        fo->jedec = ((x >> 16) & 0xFF) | (x & 0xFF00) | ((x & 0xFF) << 16);
    } else if (strcmp(a, "--chip") == 0) {
        if (strcmp(v, "esp8285") == 0)
            S.efuse[0] |= 1u << 4;
        else if (strcmp(v, "esp32") == 0)
            S.magic = 0x00F01D83u;
        else if (strcmp(v, "esp8266") != 0)
            return -1;
    } else if (strcmp(a, "--magic") == 0) S.magic = (uint32_t)strtoul(v, NULL, 16);
    else if (strcmp(a, "--efuse") == 0) {
        if (sscanf(v, "%x,%x,%x,%x", &S.efuse[0], &S.efuse[1], &S.efuse[2],
                   &S.efuse[3]) != 4)
            return -1;
    } else if (strcmp(a, "--crystal") == 0) S.crystal_hz = (uint32_t)strtoul(v, NULL, 0) * 1000000u;
    else if (strcmp(a, "--rom-flash-size") == 0) fo->rom_chip_size = (uint32_t)strtoul(v, NULL, 0);
    else if (strcmp(a, "--max-block") == 0) S.max_block = (uint32_t)strtoul(v, NULL, 0);
    else
        return 0;
    return 1;
}

/* Faults, the line, the stub and the records: as chip_option. */
static int run_option(const char *a, const char *v)
{
    if (strcmp(a, "--link") == 0) S.link = v;
    else if (strcmp(a, "--bad-checksum-at") == 0) S.bad_data_at = (uint32_t)strtoul(v, NULL, 0);
    else if (strcmp(a, "--power-on-after") == 0) S.power_on_ms = strtoull(v, NULL, 0);
    else if (strcmp(a, "--seed") == 0) S.seed = strtoull(v, NULL, 0) * 2654435761u + 1;
    else if (strcmp(a, "--drop") == 0) S.p_drop = parse_ppm(v);
    else if (strcmp(a, "--corrupt") == 0) S.p_corrupt = parse_ppm(v);
    else if (strcmp(a, "--stall") == 0) S.p_stall = parse_ppm(v);
    else if (strcmp(a, "--stall-ms") == 0) S.stall_ms = (uint32_t)strtoul(v, NULL, 0);
    else if (strcmp(a, "--reset") == 0) S.p_reset = parse_ppm(v);
    else if (strcmp(a, "--stats") == 0) S.stats_path = v;
    else if (strcmp(a, "--hang-reset-after") == 0) S.hang_reset_ms = (uint32_t)strtoul(v, NULL, 0);
    else if (strcmp(a, "--max-baud") == 0) S.max_baud = (uint32_t)strtoul(v, NULL, 0);
    else if (strcmp(a, "--qemu") == 0) S.qemu = absolute(v, true);
    else if (strcmp(a, "--stub-elf") == 0) S.stub_elf = absolute(v, false);
    else if (strcmp(a, "--log") == 0) {
        S.log = fopen(v, "w");
        if (!S.log) {
            perror(v);
            return -1;
        }
    } else
        return 0;
    return 1;
}

static bool flag_option(const char *a, struct flash_opts *fo)
{
    if (strcmp(a, "--throttle") == 0) S.throttle = true;
    else if (strcmp(a, "--no-flash-timing") == 0) fo->timing = false;
    else if (strcmp(a, "--boot-text") == 0) S.boot_text = true;
    else if (strcmp(a, "--garbage") == 0) S.garbage = true;
    else if (strcmp(a, "--stub") == 0) S.stub_mode = true;
    else if (strcmp(a, "--refuse-upload") == 0) S.refuse_mem = true;
    else
        return false;
    return true;
}

/* 0 ok, else the exit status. */
static int parse_options(int argc, char **argv, struct flash_opts *fo)
{
    set_defaults(fo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flag_option(a, fo))
            continue;
        if (i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        int r = chip_option(a, v, fo);
        if (r == 0)
            r = run_option(a, v);
        if (r == 0 || (r < 0 && strcmp(a, "--log") != 0))
            return usage();
        if (r < 0)
            return 1;
    }
    if (S.crystal_hz != 26000000u && S.crystal_hz != 40000000u)
        return usage();
    return 0;
}

/* The pty whose slave the host opens; 0 ok, -1 after saying why. */
static int open_line(void)
{
    S.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (S.master < 0 || grantpt(S.master) < 0 || unlockpt(S.master) < 0) {
        perror("pty");
        return -1;
    }
    const char *slave_name = ptsname(S.master);
    /* Hold the slave open (raw) so the line discipline never echoes, the
     * master never sees a hang-up between client sessions, and the host's
     * baud rate can be read back. */
    S.slave = open(slave_name, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (S.slave < 0 || tcgetattr(S.slave, &tio) < 0) {
        perror(slave_name);
        return -1;
    }
    cfmakeraw(&tio);
    cfsetspeed(&tio, B115200);
    tcsetattr(S.slave, TCSANOW, &tio);
    fcntl(S.master, F_SETFL, fcntl(S.master, F_GETFL) | O_NONBLOCK);
    if (S.link) {
        unlink(S.link);
        if (symlink(slave_name, S.link) < 0) {
            perror(S.link);
            return -1;
        }
    }
    printf("%s\n", slave_name);
    fflush(stdout);
    return 0;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Power-on text and the reset of a hung chip, both due by the clock. */
static void timed_events(double start)
{
    if (!S.powered && now_s() - start >= (double)S.power_on_ms / 1000.0) {
        S.powered = true;
        rom_boot_message(1, 7, 1);
        text_out("waiting for host\r\n");
    }
    if (S.hang_since > 0 && now_s() - S.hang_since >= S.hang_reset_ms / 1000.0) {
        S.hang_since = 0;
        rom_reset("the hung chip was reset");
    }
}

/* Bytes from the host, as the chip in its current state takes them. */
static void take_bytes(uint8_t *buf, size_t len, esp01_slip_decoder *dec,
                       uint8_t *framebuf)
{
    static double last_boot_text;
    double t = now_s();
    S.rx_bytes += (uint64_t)len;
    S.host_baud = host_baud_now();
    if (S.rx_clock < t)
        S.rx_clock = t;
    if (!S.powered || S.running)
        return;
    if (S.boot_text) {
        /* A chip that booted from flash: text, never a loader reply. */
        if (t - last_boot_text > 0.3) {
            last_boot_text = t;
            rom_boot_message(3, 6, 2);
            text_out("load 0x40100000, len 31088, room 16 \r\n"
                     "tail 0\r\nchksum 0x2c\r\n");
        }
        return;
    }
    if (rates_mismatch())
        len = garble(buf, len);
    size_t pos = 0;
    while (pos < len && !S.running) {
        size_t used = 0;
        size_t flen = esp01_slip_feed(dec, buf + pos, len - pos, &used);
        pos += used;
        S.rx_clock += (double)used * byte_time();
        if (flen) {
            sleep_until(S.rx_clock);
            handle_frame(framebuf, flen);
        }
    }
}

static void serve(void)
{
    static uint8_t framebuf[ROM_RX_BUF];
    esp01_slip_decoder dec;
    esp01_slip_decoder_init(&dec, framebuf, sizeof framebuf);
    double start = now_s();
    S.powered = S.power_on_ms == 0;
    while (!sim_stop) {
        timed_events(start);
        struct pollfd pfd = {S.master, POLLIN, 0};
        int r = poll(&pfd, 1, 50);
        if (r <= 0 || !(pfd.revents & POLLIN))
            continue;
        uint8_t buf[4096];
        ssize_t n = read(S.master, buf, sizeof buf);
        if (n > 0)
            take_bytes(buf, (size_t)n, &dec, framebuf);
    }
}

int main(int argc, char **argv)
{
    struct flash_opts fo;
    int rc = parse_options(argc, argv, &fo);
    if (rc)
        return rc;
    if (flash_open(&fo) < 0 || open_line() < 0)
        return 1;
    catch_signals();
    serve();
    stub_shutdown();
    flash_close();
    write_stats();
    mem_clear();
    if (S.link)
        unlink(S.link);
    return 0;
}
