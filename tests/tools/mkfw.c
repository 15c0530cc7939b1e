/*
 * mkfw - write a synthetic MicroPython ESP8266 firmware file for tests.
 *
 * The structure is what ports/esp8266/makeimg.py produces: a v1 image
 * (.text in IRAM, .data and .rodata in DRAM, zero padding, XOR checksum),
 * 0xFF up to 0x8FFC, the length word, irom0 "code" (deterministic noise with
 * the strings MicroPython keeps there: version banner, board name, VFS type
 * names), then the MD5 of file[4:end].  The code itself is noise: nothing
 * here runs on a chip.  Corruptions and flash-dump extras are options.
 *
 *   mkfw [options] OUT.bin
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/fileio.h"
#include "esp01/hash.h"

static void usage(void)
{
    fputs("usage: mkfw [options] OUT.bin\n"
          "  --variant 512K|1M|2M|romfs|none   board name in the banner (default 1M)\n"
          "  --version v1.22.1                 MICROPY_GIT_TAG (default v1.22.1)\n"
          "  --date 2024-01-05                 build date\n"
          "  --vfs lfs2,fat,rom|none           VFS type names in the string table\n"
          "                                    (default: what that variant/release has)\n"
          "  --irom-size N                     irom0 length (default per variant)\n"
          "  --segments 2|3                    v1 segments (default 3)\n"
          "  --tiny                            64/16/32-byte segments (small fuzz seeds)\n"
          "  --split-banner                    'MicroPython ' and the version apart\n"
          "  --no-banner                       no version text at all\n"
          "  --header MODE,SIZE,FREQ           header bytes 2-3 as numbers (default 0,2,0)\n"
          "  --no-trailer                      only the v1 image (no 0x8FFC word, irom0, MD5)\n"
          "  --dump-size N                     pad with 0xFF to N bytes (a flash dump)\n"
          "  --code FILE                       take code bytes from FILE, not noise\n"
          "  --code-noise PERCENT              replace that share of them by noise\n"
          "  --put OFFSET:FILE                 copy FILE into the output at OFFSET\n"
          "  --corrupt checksum|md5|magic|segment-past-end|length-word\n"
          "  --truncate N                      keep only the first N bytes\n"
          "  --irom-link ADDR                  address irom0 literal pools point at\n"
          "                                    (default 0x40209000; 0x40245000 = OTA build)\n"
          "  --ota-bundle                      prefix a yaota8266-like loader, firmware at 0x3C000\n"
          "  --seed N                          filler noise seed\n",
          stderr);
    exit(2);
}

static uint32_t rng_state = 0x2545F491u;
static uint8_t noise(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (uint8_t)rng_state;
}

static unsigned long num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*end == 'K' || *end == 'k')
        v *= 1024, end++;
    else if (*end == 'M' || *end == 'm')
        v *= 1024 * 1024, end++;
    if (*end) {
        fprintf(stderr, "mkfw: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

/* Put a NUL-terminated string into irom0 at *at, as a C literal would be. */
static void put_str(uint8_t *buf, size_t cap, size_t *at, const char *s)
{
    size_t n = strlen(s) + 1;
    if (*at + n > cap) {
        fprintf(stderr, "mkfw: irom0 too small for its strings\n");
        exit(2);
    }
    memcpy(buf + *at, s, n);
    *at += n + 37; /* some code between literals */
}

#define MAX_PUTS 4

/* --code FILE: segment and irom0 bytes taken from FILE (cyclically)
 * instead of noise, so that an image compresses like real machine code. */
static uint8_t *code_buf;
static size_t code_len, code_pos;
static unsigned code_noise; /* percent of code bytes replaced by noise */

static int load_code(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 20;
    code_buf = malloc(cap);
    code_len = code_buf ? fread(code_buf, 1, cap, f) : 0;
    fclose(f);
    if (!code_len) {
        fprintf(stderr, "mkfw: %s: nothing to take code from\n", path);
        return -1;
    }
    return 0;
}

static uint8_t code_byte(void)
{
    if (!code_len)
        return noise();
    uint8_t b = code_buf[code_pos++];
    if (code_pos == code_len)
        code_pos = 0;
    if (code_noise && noise() % 100 < code_noise)
        b = noise();
    return b;
}

int main(int argc, char **argv)
{
    const char *variant = "1M", *version = "v1.22.1", *date = "2024-01-05";
    const char *vfs = NULL, *corrupt = NULL, *out = NULL, *code = NULL;
    unsigned long irom_size = 0, dump_size = 0, truncate_to = 0;
    bool truncate = false, split = false, no_banner = false, no_trailer = false;
    bool tiny = false, ota_bundle = false;
    unsigned long irom_link = 0x40209000;
    int segments = 3, mode = 0, size_code = 2, freq = 0;
    const char *puts_spec[MAX_PUTS];
    int nputs = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && (v ? (i++, true) : (usage(), false)))
        if (ARG("--variant")) variant = v;
        else if (ARG("--version")) version = v;
        else if (ARG("--date")) date = v;
        else if (ARG("--vfs")) vfs = v;
        else if (ARG("--irom-size")) irom_size = num(v);
        else if (ARG("--segments")) segments = (int)num(v);
        else if (strcmp(a, "--split-banner") == 0) split = true;
        else if (strcmp(a, "--no-banner") == 0) no_banner = true;
        else if (strcmp(a, "--tiny") == 0) tiny = true;
        else if (strcmp(a, "--ota-bundle") == 0) ota_bundle = true;
        else if (ARG("--irom-link")) irom_link = num(v);
        else if (strcmp(a, "--no-trailer") == 0) no_trailer = true;
        else if (ARG("--header")) {
            if (sscanf(v, "%d,%d,%d", &mode, &size_code, &freq) != 3)
                usage();
        } else if (ARG("--dump-size")) dump_size = num(v);
        else if (ARG("--put")) {
            if (nputs == MAX_PUTS)
                usage();
            puts_spec[nputs++] = v;
        } else if (ARG("--corrupt")) corrupt = v;
        else if (ARG("--code")) code = v;
        else if (ARG("--code-noise")) code_noise = (unsigned)num(v);
        else if (ARG("--truncate")) truncate_to = num(v), truncate = true;
        else if (ARG("--seed")) rng_state = (uint32_t)num(v) | 1u;
        else if (a[0] == '-') usage();
        else if (!out) out = a;
        else usage();
#undef ARG
    }
    if (!out || (segments != 2 && segments != 3))
        usage();

    const char *board = NULL;
    bool old_release = strncmp(version, "v1.9", 4) == 0 ||
                       strncmp(version, "v1.10", 5) == 0 ||
                       strncmp(version, "v1.11", 5) == 0 ||
                       strncmp(version, "v1.12", 5) == 0;
    bool asm_xtensa = strcmp(variant, "512K") != 0 && strcmp(variant, "none") != 0;
    if (strcmp(variant, "512K") == 0) {
        /* v1.9-v1.11 named it plainly and froze inisetup.py (VfsFat) in */
        bool plain = old_release && strncmp(version, "v1.12", 5) != 0;
        board = plain ? "ESP module" : "ESP module (512K)";
        if (!vfs) vfs = plain ? "fat" : "none";
        if (!irom_size) irom_size = 0x64000;
    } else if (strcmp(variant, "1M") == 0) {
        board = "ESP module (1M)";
        if (!vfs) vfs = "lfs2";
        if (!irom_size) irom_size = 0x8C000;
    } else if (strcmp(variant, "2M") == 0) {
        board = "ESP module";
        if (!vfs) vfs = old_release ? "fat" : "lfs2,fat";
        if (!irom_size) irom_size = old_release ? 0x8B000 : 0x96000;
    } else if (strcmp(variant, "romfs") == 0) {
        board = "ESP module";
        if (!vfs) vfs = "lfs2,fat,rom";
        if (!irom_size) irom_size = 0x96000;
    } else if (strcmp(variant, "none") == 0) {
        if (!vfs) vfs = "none";
        if (!irom_size) irom_size = 0x20000;
    } else {
        usage();
    }
    if (irom_size % 4 || irom_size > 0x100000 - 0x9000) {
        fprintf(stderr, "mkfw: bad irom0 size\n");
        return 2;
    }

    size_t fw_len = no_trailer ? 0 : 0x9000 + irom_size + 16;
    size_t cap = fw_len > dump_size ? fw_len : dump_size;
    if (cap < 0x9000)
        cap = 0x9000;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 1;
    memset(buf, 0xFF, cap);
    if (code && load_code(code) < 0)
        return 1;

    /* v1 image: .text (IRAM), .data and .rodata (DRAM), as makeimg.py names them. */
    static const uint32_t seg_addr[3] = {0x40100000u, 0x3FFE8000u, 0x3FFE8368u};
    static const uint32_t real_len[3] = {0x6F14, 0x368, 0x10B8};
    static const uint32_t tiny_len[3] = {0x40, 0x10, 0x20};
    const uint32_t *seg_len = tiny ? tiny_len : real_len;
    buf[0] = 0xE9;
    buf[1] = (uint8_t)segments;
    buf[2] = (uint8_t)mode;
    buf[3] = (uint8_t)(size_code << 4 | freq);
    esp01_put_le32(buf + 4, 0x40100298u);
    size_t off = 8, last_hdr = 8;
    uint8_t sum = 0xEF;
    for (int s = 0; s < segments; s++) {
        last_hdr = off;
        esp01_put_le32(buf + off, seg_addr[s]);
        esp01_put_le32(buf + off + 4, seg_len[s]);
        off += 8;
        for (uint32_t k = 0; k < seg_len[s]; k++) {
            buf[off + k] = code_byte();
            sum ^= buf[off + k];
        }
        off += seg_len[s];
    }
    while (off % 16 != 15)
        buf[off++] = 0;
    buf[off++] = sum;
    size_t v1_len = off;

    if (!no_trailer) {
        esp01_put_le32(buf + 0x8FFC, (uint32_t)(0x9000 + irom_size));
        uint8_t *irom = buf + 0x9000;
        for (size_t k = 0; k < irom_size; k++)
            irom[k] = code_byte();
        /* Literal pools: code loads irom0 addresses (functions, strings)
         * from words next to it, about one word in sixteen. */
        if (irom_link)
            for (size_t k = 0; k + 4 <= irom_size; k += 64) {
                uint32_t target = (uint32_t)(irom_link + (rng_state % irom_size)) & ~3u;
                esp01_put_le32(irom + k + 4 * (noise() % 16), target);
                (void)noise();
            }
        /* Literals sit in .irom0.text's rodata part, around the middle. */
        size_t at = irom_size / 3;
        char text[160];
        if (!no_banner) {
            if (split) {
                put_str(irom, irom_size, &at, "MicroPython ");
                snprintf(text, sizeof text, "%s on %s", version, date);
                put_str(irom, irom_size, &at, text);
            } else {
                snprintf(text, sizeof text, "MicroPython %s on %s", version, date);
                put_str(irom, irom_size, &at, text);
            }
        }
        if (board) {
            snprintf(text, sizeof text, "; %s with ESP8266", board);
            put_str(irom, irom_size, &at, text);
            snprintf(text, sizeof text, "%s with ESP8266", board);
            put_str(irom, irom_size, &at, text);
        }
        /* The inline assembler's decorator name: every build but 512K. */
        if (asm_xtensa) put_str(irom, irom_size, &at, "asm_xtensa");
        if (strstr(vfs, "lfs2")) put_str(irom, irom_size, &at, "VfsLfs2");
        if (strstr(vfs, "fat")) put_str(irom, irom_size, &at, "VfsFat");
        if (strstr(vfs, "rom")) put_str(irom, irom_size, &at, "VfsRom");
    }

    if (corrupt && strcmp(corrupt, "checksum") == 0)
        buf[v1_len - 1] ^= 0x5A;
    else if (corrupt && strcmp(corrupt, "magic") == 0)
        buf[0] = 0xEA;
    else if (corrupt && strcmp(corrupt, "segment-past-end") == 0)
        esp01_put_le32(buf + last_hdr + 4, 0x00FFFFF0u);
    else if (corrupt && strcmp(corrupt, "length-word") == 0)
        esp01_put_le32(buf + 0x8FFC, 0x000FF000u);
    else if (corrupt && strcmp(corrupt, "md5") != 0) {
        fprintf(stderr, "mkfw: unknown corruption '%s'\n", corrupt);
        return 2;
    }

    size_t len = no_trailer ? v1_len : fw_len;
    if (!no_trailer && !(corrupt && strcmp(corrupt, "length-word") == 0)) {
        /* MD5 last, so only the corruption asked for is wrong. */
        esp01_md5(buf + 4, 0x9000 + irom_size - 4, buf + 0x9000 + irom_size);
        if (corrupt && strcmp(corrupt, "md5") == 0)
            buf[0x9000 + irom_size + 3] ^= 0x01;
    }
    if (dump_size > len)
        len = dump_size;
    for (int p = 0; p < nputs; p++) {
        char *colon = strchr(puts_spec[p], ':');
        if (!colon)
            usage();
        *colon = '\0';
        unsigned long at = num(puts_spec[p]);
        uint8_t *data;
        size_t n;
        esp01_err err;
        if (esp01_read_file(colon + 1, 64u << 20, &data, &n, &err) < 0) {
            fprintf(stderr, "mkfw: %s\n", err.msg);
            return 1;
        }
        if (at + n > len) {
            uint8_t *nb = realloc(buf, at + n);
            if (!nb)
                return 1;
            buf = nb;
            memset(buf + len, 0xFF, at + n - len);
            len = at + n;
        }
        memcpy(buf + at, data, n);
        free(data);
    }
    if (ota_bundle) {
        /* A one-segment boot loader image, 0xFF to 0x3C000, then the firmware. */
        const size_t at = 0x3C000;
        uint8_t *nb = malloc(at + len);
        if (!nb)
            return 1;
        memset(nb, 0xFF, at);
        memcpy(nb + at, buf, len);
        static const uint8_t loader[8] = {0xE9, 1, 0, 0x20, 0x04, 0x00, 0x10, 0x40};
        memcpy(nb, loader, 8);
        esp01_put_le32(nb + 8, 0x40100000u);
        esp01_put_le32(nb + 12, 0x40);
        uint8_t lsum = 0xEF;
        for (size_t k = 16; k < 16 + 0x40; k++)
            lsum ^= nb[k] = noise();
        memset(nb + 0x50, 0, 15);
        nb[0x5F] = lsum;
        free(buf);
        buf = nb;
        len += at;
    }
    if (truncate && truncate_to < len)
        len = truncate_to;

    esp01_err err;
    if (esp01_write_file_atomic(out, buf, len, &err) < 0) {
        fprintf(stderr, "mkfw: %s\n", err.msg);
        return 1;
    }
    free(buf);
    return 0;
}
