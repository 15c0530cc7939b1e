/*
 * romsim - an ESP8266 in download mode, on a pty, for the tests.
 *
 *   romsim --link /tmp/tty --flash flash.bin [options]
 *
 * It creates a pty, prints the slave's path (and symlinks it to --link),
 * and answers the ROM loader protocol the way the ESP8266 ROM does: SLIP
 * frames, commands 0x02-0x0A only (anything else gets the invalid-command
 * error), replies with two status bytes, eight answers to a SYNC, the ROM's
 * erase-size bug, FLASH_BEGIN erasing before it answers, the chip magic and
 * eFuse words on READ_REG, the SPI0 user-command registers that read a
 * JEDEC id, a NOR flash array (writes AND into it) kept in a file through
 * mmap, and FLASH_END (0 reboots into the loader, 1 runs the firmware).
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "esp01/port.h"
#include "esp01/slip.h"

#define SECTOR 4096u
#define MAX_FRAME 0x4100u

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static struct {
    int master, slave;
    const char *link;
    const char *stats_path;
    FILE *log;
    uint8_t *flash;
    uint32_t size;
    uint32_t magic;
    uint32_t efuse[4];
    uint32_t jedec;
    uint32_t baud;
    uint32_t erase_ms;
    bool erase_bug;
    bool boot_text;
    bool garbage;
    uint64_t power_on_ms;
    bool powered;
    /* faults: per-frame probabilities in parts per million */
    uint64_t seed;
    uint32_t p_drop, p_corrupt, p_stall, p_reset;
    uint32_t stall_ms;
    /* state */
    bool synced;
    bool flash_mode;
    bool attached;
    bool running; /* user code or RAM code is running: no more loader */
    uint32_t fb_offset, fb_blocks, fb_block_size, fb_next_seq;
    uint32_t regs_addr[64], regs_val[64];
    size_t nregs;
    double rx_clock;
    double last_boot_text;
    /* stats */
    uint64_t rx_bytes, tx_bytes, frames, data_bytes, erased_sectors,
        flash_begins, faults_drop, faults_corrupt, faults_stall, faults_reset,
        ran_user_code, reboots, invalid;
} S;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep in slices so that SIGTERM is honoured promptly. */
static void sleep_s(double d)
{
    double end = now_s() + d;
    while (!stop) {
        double left = end - now_s();
        if (left <= 0)
            break;
        esp01_sleep_ms(left > 0.05 ? 50 : (uint32_t)(left * 1000.0) + 1);
    }
}

static void sleep_until(double t) { sleep_s(t - now_s()); }

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible from --seed */
    S.seed ^= S.seed >> 12;
    S.seed ^= S.seed << 25;
    S.seed ^= S.seed >> 27;
    return S.seed * 0x2545F4914F6CDD1Dull;
}

static bool chance(uint32_t ppm) { return ppm && rnd() % 1000000u < ppm; }

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (!S.log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(S.log, fmt, ap);
    va_end(ap);
    fputc('\n', S.log);
    fflush(S.log);
}

static double byte_time(void) { return S.baud ? 10.0 / S.baud : 0.0; }

static void raw_write(const uint8_t *p, size_t n)
{
    if (S.baud)
        sleep_until(now_s() + (double)n * byte_time());
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(S.master, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || stop)
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

static void text_out(const char *s) { raw_write((const uint8_t *)s, strlen(s)); }

static void reply(uint8_t op, uint32_t value, uint8_t status, uint8_t error)
{
    uint8_t raw[10], enc[ESP01_SLIP_ENCODED_MAX(10)];
    raw[0] = 0x01;
    raw[1] = op;
    esp01_put_le16(raw + 2, 2);
    esp01_put_le32(raw + 4, value);
    raw[8] = status;
    raw[9] = error;
    size_t n = esp01_slip_encode(raw, sizeof raw, enc, sizeof enc);
    if (chance(S.p_drop)) {
        size_t i = rnd() % n;
        memmove(enc + i, enc + i + 1, n - i - 1);
        n--;
        S.faults_drop++;
    } else if (chance(S.p_corrupt)) {
        enc[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
        S.faults_corrupt++;
    }
    raw_write(enc, n);
}

static void boot_message(int mode_a, int mode_b, int cause)
{
    char buf[160];
    snprintf(buf, sizeof buf,
             "\r\n ets Jan  8 2013,rst cause:%d, boot mode:(%d,%d)\r\n\r\n",
             cause, mode_a, mode_b);
    text_out(buf);
}

static void chip_reset(const char *why)
{
    S.synced = false;
    S.flash_mode = false;
    S.attached = false;
    S.reboots++;
    logf_("reset (%s)", why);
    boot_message(1, 7, 2);
    text_out("waiting for host\r\n");
}

static uint32_t *reg_slot(uint32_t addr, bool create)
{
    for (size_t i = 0; i < S.nregs; i++)
        if (S.regs_addr[i] == addr)
            return &S.regs_val[i];
    if (!create || S.nregs == 64)
        return NULL;
    S.regs_addr[S.nregs] = addr;
    S.regs_val[S.nregs] = 0;
    return &S.regs_val[S.nregs++];
}

static uint32_t read_reg(uint32_t addr)
{
    if (addr == 0x40001000u)
        return S.magic;
    if (addr >= 0x3FF00050u && addr <= 0x3FF0005Cu && addr % 4 == 0)
        return S.efuse[(addr - 0x3FF00050u) / 4];
    if (addr == 0x60000014u) {
        /* The divider the ROM's auto-baud leaves with a 26 MHz crystal. */
        uint32_t baud = S.baud ? S.baud : 115200;
        return (uint32_t)(52000000.0 / baud + 0.5);
    }
    uint32_t *v = reg_slot(addr, false);
    return v ? *v : 0;
}

static void spi_user_command(void)
{
    uint32_t usr2 = read_reg(0x60000224u), usr = read_reg(0x6000021Cu);
    uint32_t *w0 = reg_slot(0x60000240u, true);
    if (!w0)
        return;
    uint8_t cmd = (uint8_t)usr2;
    if (!S.attached) {
        /* nothing drives MISO until the ROM has attached the flash */
        *w0 = 0xFFFFFFFFu;
    } else if (cmd == 0x9F && (usr2 >> 28) == 7 &&
               (usr & 0x90000000u) == 0x90000000u) {
        *w0 = S.jedec;
    } else if (cmd == 0x03 && (usr & 0xD0000000u) == 0xD0000000u) {
        uint32_t usr1 = read_reg(0x60000220u);
        uint32_t addr_bits = ((usr1 >> 26) & 0x3F) + 1;
        uint32_t miso_bytes = (((usr1 >> 8) & 0x1FF) + 8) / 8;
        uint32_t addr = read_reg(0x60000204u) >> (32 - addr_bits);
        if (miso_bytes > 64)
            miso_bytes = 64;
        for (uint32_t i = 0; i < miso_bytes; i += 4) {
            uint8_t b[4];
            for (uint32_t k = 0; k < 4; k++)
                b[k] = S.flash[(addr + i + k) % S.size];
            uint32_t *w = reg_slot(0x60000240u + i, true);
            if (w)
                *w = esp01_le32(b);
        }
        return;
    }
    logf_("SPI user command 0x%02x -> W0=0x%08x", cmd, *w0);
}

static void write_reg(uint32_t addr, uint32_t value, uint32_t mask)
{
    uint32_t *v = reg_slot(addr, true);
    if (!v)
        return;
    *v = (*v & ~mask) | (value & mask);
    if (addr == 0x60000200u && (*v & (1u << 18))) {
        spi_user_command();
        *v &= ~(1u << 18);
    }
}

static void erase_sectors(uint32_t first, uint32_t count)
{
    double t = 0;
    for (uint32_t s = first; s < first + count; s++) {
        if ((uint64_t)s * SECTOR >= S.size) {
            logf_("erase past the end of flash at sector %u ignored", s);
            break;
        }
        memset(S.flash + (size_t)s * SECTOR, 0xFF, SECTOR);
        S.erased_sectors++;
        /* 64 KiB-aligned runs go as block erases, the rest per sector. */
        if (s % 16 == 0 && s + 16 <= first + count) {
            t += 4.0 * S.erase_ms;
            for (uint32_t k = 1; k < 16; k++) {
                memset(S.flash + (size_t)(s + k) * SECTOR, 0xFF, SECTOR);
                S.erased_sectors++;
            }
            s += 15;
        } else {
            t += S.erase_ms;
        }
    }
    if (t > 0)
        sleep_s(t / 1000.0);
}

static void handle(uint8_t *f, size_t n)
{
    S.frames++;
    if (S.garbage) {
        uint8_t junk[24];
        for (size_t i = 0; i < sizeof junk; i++) {
            junk[i] = (uint8_t)rnd();
            if (junk[i] == 0xC0)
                junk[i] = 0x3F;
        }
        raw_write(junk, sizeof junk);
        return;
    }
    if (chance(S.p_reset)) {
        S.faults_reset++;
        chip_reset("injected");
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
    if (n < 8 || f[0] != 0x00) {
        S.invalid++;
        return;
    }
    uint8_t op = f[1];
    size_t len = esp01_le16(f + 2);
    uint32_t chk = esp01_le32(f + 4);
    const uint8_t *d = f + 8;
    if (!S.synced && op != 0x08)
        return; /* still auto-bauding: only the sync pattern gets through */
    if (chance(S.p_stall)) {
        S.faults_stall++;
        sleep_s(S.stall_ms / 1000.0);
    }
    if (len != n - 8) {
        S.invalid++;
        reply(op, 0, 1, 0x05);
        return;
    }
    switch (op) {
    case 0x08: {
        static const uint8_t head[4] = {0x07, 0x07, 0x12, 0x20};
        bool ok = len == 36 && memcmp(d, head, 4) == 0;
        for (size_t i = 4; ok && i < 36; i++)
            ok = d[i] == 0x55;
        if (!ok) {
            if (S.synced)
                reply(op, 0, 1, 0x05);
            return;
        }
        S.synced = true;
        for (int i = 0; i < 8; i++)
            reply(op, 0x20120707u, 0, 0);
        return;
    }
    case 0x0A:
        if (len != 4) {
            reply(op, 0, 1, 0x05);
            return;
        }
        reply(op, read_reg(esp01_le32(d)), 0, 0);
        return;
    case 0x09:
        if (len == 0 || len % 16) {
            reply(op, 0, 1, 0x05);
            return;
        }
        for (size_t i = 0; i < len; i += 16) {
            write_reg(esp01_le32(d + i), esp01_le32(d + i + 4),
                      esp01_le32(d + i + 8));
            uint32_t us = esp01_le32(d + i + 12);
            if (us)
                sleep_s(us / 1e6);
        }
        reply(op, 0, 0, 0);
        return;
    case 0x02: {
        if (len != 16 && len != 20) {
            reply(op, 0, 1, 0x05);
            return;
        }
        uint32_t erase = esp01_le32(d), blocks = esp01_le32(d + 4),
                 bsize = esp01_le32(d + 8), off = esp01_le32(d + 12);
        if (bsize == 0 || bsize > 0x4000 || off >= S.size) {
            reply(op, 0, 1, 0x05);
            return;
        }
        S.flash_begins++;
        uint32_t first = off / SECTOR;
        uint32_t nsec = (erase + SECTOR - 1) / SECTOR;
        uint32_t head = 16 - first % 16;
        /* The ROM's bug: the head of the 64 KiB block is erased on top of
         * the full count instead of as part of it. */
        uint32_t count = S.erase_bug ? nsec + (nsec < head ? nsec : head) : nsec;
        logf_("FLASH_BEGIN erase=0x%x blocks=%u block_size=%u offset=0x%x -> "
              "erasing %u sectors from 0x%x", erase, blocks, bsize, off, count,
              first * SECTOR);
        erase_sectors(first, count);
        S.flash_mode = true;
        S.attached = true;
        S.fb_offset = off;
        S.fb_blocks = blocks;
        S.fb_block_size = bsize;
        S.fb_next_seq = 0;
        reply(op, 0, 0, 0);
        return;
    }
    case 0x03: {
        if (!S.flash_mode || len < 16) {
            reply(op, 0, 1, 0x05);
            return;
        }
        uint32_t dlen = esp01_le32(d), seq = esp01_le32(d + 4);
        const uint8_t *payload = d + 16;
        if (dlen != len - 16 || dlen > S.fb_block_size || seq != S.fb_next_seq) {
            logf_("FLASH_DATA refused: len %u seq %u (expected %u)", dlen, seq,
                  S.fb_next_seq);
            reply(op, 0, 1, 0x05);
            return;
        }
        uint8_t sum = 0xEF;
        for (uint32_t i = 0; i < dlen; i++)
            sum ^= payload[i];
        if (sum != (uint8_t)chk) {
            logf_("FLASH_DATA seq %u: checksum mismatch", seq);
            reply(op, 0, 1, 0x07);
            return;
        }
        uint64_t addr = (uint64_t)S.fb_offset + (uint64_t)seq * S.fb_block_size;
        if (addr + dlen > S.size) {
            reply(op, 0, 1, 0x08);
            return;
        }
        for (uint32_t i = 0; i < dlen; i++)
            S.flash[addr + i] &= payload[i];
        S.data_bytes += dlen;
        S.fb_next_seq++;
        reply(op, 0, 0, 0);
        return;
    }
    case 0x04: {
        if (len != 4 || !S.flash_mode) {
            reply(op, 0, 1, 0x05);
            return;
        }
        uint32_t flag = esp01_le32(d);
        reply(op, 0, 0, 0);
        S.flash_mode = false;
        if (flag) {
            logf_("FLASH_END: running user code");
            S.ran_user_code++;
            S.running = true;
            text_out("\r\n(firmware running)\r\n");
        } else {
            logf_("FLASH_END: reboot");
            chip_reset("FLASH_END reboot");
        }
        return;
    }
    case 0x05:
        reply(op, 0, len == 16 ? 0 : 1, len == 16 ? 0 : 0x05);
        return;
    case 0x07: {
        if (len < 16) {
            reply(op, 0, 1, 0x05);
            return;
        }
        uint8_t sum = 0xEF;
        for (size_t i = 16; i < len; i++)
            sum ^= d[i];
        reply(op, 0, sum == (uint8_t)chk ? 0 : 1, sum == (uint8_t)chk ? 0 : 0x07);
        return;
    }
    case 0x06:
        if (len != 8) {
            reply(op, 0, 1, 0x05);
            return;
        }
        reply(op, 0, 0, 0);
        if (esp01_le32(d) == 0) {
            /* Jumps to the uploaded code, which a simulator cannot run. */
            logf_("MEM_END: jumping to RAM code at 0x%08x", esp01_le32(d + 4));
            S.running = true;
        }
        return;
    default:
        /* Not a ROM command: the ROM's "invalid message" reply, which does
         * not echo the opcode. */
        S.invalid++;
        logf_("unsupported command 0x%02x", op);
        reply(0x00, 0, 1, 0x05);
        return;
    }
}

static void write_stats(void)
{
    if (!S.stats_path)
        return;
    FILE *f = fopen(S.stats_path, "w");
    if (!f)
        return;
    fprintf(f,
            "rx_bytes=%llu\ntx_bytes=%llu\nframes=%llu\ndata_bytes=%llu\n"
            "erased_sectors=%llu\nflash_begins=%llu\nfaults_drop=%llu\n"
            "faults_corrupt=%llu\nfaults_stall=%llu\nfaults_reset=%llu\n"
            "ran_user_code=%llu\nreboots=%llu\ninvalid=%llu\n",
            (unsigned long long)S.rx_bytes, (unsigned long long)S.tx_bytes,
            (unsigned long long)S.frames, (unsigned long long)S.data_bytes,
            (unsigned long long)S.erased_sectors,
            (unsigned long long)S.flash_begins,
            (unsigned long long)S.faults_drop,
            (unsigned long long)S.faults_corrupt,
            (unsigned long long)S.faults_stall,
            (unsigned long long)S.faults_reset,
            (unsigned long long)S.ran_user_code, (unsigned long long)S.reboots,
            (unsigned long long)S.invalid);
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
          "  [--baud N (throttle; 0 = unthrottled)] [--erase-ms N per sector]\n"
          "  [--no-erase-bug] [--boot-text] [--garbage] [--power-on-after MS]\n"
          "  [--seed N] [--drop P] [--corrupt P] [--stall P] [--stall-ms N]\n"
          "  [--reset P] [--stats FILE] [--log FILE]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *flash_path = NULL;
    long long size = -1;
    S.magic = 0xFFF0C101u;
    S.efuse[0] = 0xA6000000u;
    S.efuse[1] = 0x0000C3B2u;
    S.efuse[2] = 0;
    S.efuse[3] = 0x005CCF7Fu;
    S.jedec = 0x1440EFu; /* Winbond W25Q80: 1 MiB */
    S.erase_bug = true;
    S.seed = 1;
    S.stall_ms = 1500;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--link")) S.link = v;
        else if (ARG("--flash")) flash_path = v;
        else if (ARG("--size")) size = strtoll(v, NULL, 0);
        else if (ARG("--jedec")) {
            uint32_t x = (uint32_t)strtoul(v, NULL, 16);
            /* given as the bytes arrive: manufacturer, type, capacity */
            S.jedec = ((x >> 16) & 0xFF) | (x & 0xFF00) | ((x & 0xFF) << 16);
        } else if (ARG("--chip")) {
            if (strcmp(v, "esp8285") == 0)
                S.efuse[0] |= 1u << 4;
            else if (strcmp(v, "esp32") == 0)
                S.magic = 0x00F01D83u;
            else if (strcmp(v, "esp8266") != 0)
                return usage();
        } else if (ARG("--magic")) S.magic = (uint32_t)strtoul(v, NULL, 16);
        else if (ARG("--efuse")) {
            if (sscanf(v, "%x,%x,%x,%x", &S.efuse[0], &S.efuse[1], &S.efuse[2],
                       &S.efuse[3]) != 4)
                return usage();
        } else if (ARG("--baud")) S.baud = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--erase-ms")) S.erase_ms = (uint32_t)strtoul(v, NULL, 0);
        else if (strcmp(a, "--no-erase-bug") == 0) S.erase_bug = false;
        else if (strcmp(a, "--boot-text") == 0) S.boot_text = true;
        else if (strcmp(a, "--garbage") == 0) S.garbage = true;
        else if (ARG("--power-on-after")) S.power_on_ms = strtoull(v, NULL, 0);
        else if (ARG("--seed")) S.seed = strtoull(v, NULL, 0) * 2654435761u + 1;
        else if (ARG("--drop")) S.p_drop = parse_ppm(v);
        else if (ARG("--corrupt")) S.p_corrupt = parse_ppm(v);
        else if (ARG("--stall")) S.p_stall = parse_ppm(v);
        else if (ARG("--stall-ms")) S.stall_ms = (uint32_t)strtoul(v, NULL, 0);
        else if (ARG("--reset")) S.p_reset = parse_ppm(v);
        else if (ARG("--stats")) S.stats_path = v;
        else if (ARG("--log")) {
            S.log = fopen(v, "w");
            if (!S.log) {
                perror(v);
                return 1;
            }
        } else
            return usage();
#undef ARG
    }
    if (size < 0) {
        uint32_t cap = (S.jedec >> 16) & 0xFF;
        size = cap >= 0x12 && cap <= 0x18 ? (1ll << cap) : 1024 * 1024;
    }
    if (size <= 0 || size > 16 * 1024 * 1024 || size % SECTOR) {
        fputs("romsim: --size must be whole sectors up to 16 MiB\n", stderr);
        return 2;
    }
    S.size = (uint32_t)size;

    if (flash_path) {
        int fd = open(flash_path, O_RDWR | O_CREAT, 0644);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            perror(flash_path);
            return 1;
        }
        bool fresh = st.st_size == 0;
        if (ftruncate(fd, S.size) < 0) {
            perror(flash_path);
            return 1;
        }
        S.flash = mmap(NULL, S.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (S.flash == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        if (fresh)
            memset(S.flash, 0xFF, S.size);
        else if ((uint64_t)st.st_size < S.size)
            memset(S.flash + st.st_size, 0xFF, S.size - (size_t)st.st_size);
    } else {
        S.flash = malloc(S.size);
        if (!S.flash)
            return 1;
        memset(S.flash, 0xFF, S.size);
    }

    S.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (S.master < 0 || grantpt(S.master) < 0 || unlockpt(S.master) < 0) {
        perror("pty");
        return 1;
    }
    const char *slave_name = ptsname(S.master);
    /* Hold the slave open (raw) so the line discipline never echoes and the
     * master never sees a hang-up between client sessions. */
    S.slave = open(slave_name, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (S.slave < 0 || tcgetattr(S.slave, &tio) < 0) {
        perror(slave_name);
        return 1;
    }
    cfmakeraw(&tio);
    tcsetattr(S.slave, TCSANOW, &tio);
    fcntl(S.master, F_SETFL, fcntl(S.master, F_GETFL) | O_NONBLOCK);
    if (S.link) {
        unlink(S.link);
        if (symlink(slave_name, S.link) < 0) {
            perror(S.link);
            return 1;
        }
    }
    printf("%s\n", slave_name);
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static uint8_t framebuf[MAX_FRAME];
    esp01_slip_decoder dec;
    esp01_slip_decoder_init(&dec, framebuf, sizeof framebuf);
    double start = now_s();
    S.powered = S.power_on_ms == 0;
    while (!stop) {
        if (!S.powered && now_s() - start >= (double)S.power_on_ms / 1000.0) {
            S.powered = true;
            boot_message(1, 7, 1);
            text_out("waiting for host\r\n");
        }
        struct pollfd pfd = {S.master, POLLIN, 0};
        int r = poll(&pfd, 1, 50);
        if (r <= 0 || !(pfd.revents & POLLIN))
            continue;
        uint8_t buf[4096];
        ssize_t n = read(S.master, buf, sizeof buf);
        if (n <= 0)
            continue;
        double t = now_s();
        S.rx_bytes += (uint64_t)n;
        if (S.rx_clock < t)
            S.rx_clock = t;
        if (!S.powered || S.running)
            continue;
        if (S.boot_text) {
            /* A chip that booted from flash: text, never a loader reply. */
            if (t - S.last_boot_text > 0.3) {
                S.last_boot_text = t;
                boot_message(3, 6, 2);
                text_out("load 0x40100000, len 31088, room 16 \r\n"
                         "tail 0\r\nchksum 0x2c\r\n");
            }
            continue;
        }
        size_t pos = 0;
        while (pos < (size_t)n) {
            size_t used = 0;
            size_t flen = esp01_slip_feed(&dec, buf + pos, (size_t)n - pos, &used);
            pos += used;
            S.rx_clock += (double)used * byte_time();
            if (flen) {
                sleep_until(S.rx_clock);
                handle(framebuf, flen);
                if (S.running)
                    break;
            }
        }
    }
    if (flash_path)
        msync(S.flash, S.size, MS_SYNC);
    write_stats();
    if (S.link)
        unlink(S.link);
    return 0;
}
