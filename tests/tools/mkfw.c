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

struct mkfw {
    const char *variant, *version, *date, *vfs, *corrupt, *out, *code, *board;
    unsigned long irom_size, dump_size, truncate_to, irom_link;
    bool truncate, split, no_banner, no_trailer, tiny, ota_bundle, asm_xtensa;
    int segments, mode, size_code, freq;
    char *puts_spec[MAX_PUTS];
    int nputs;
};

static void parse_args(int argc, char **argv, struct mkfw *m)
{
    *m = (struct mkfw){.variant = "1M", .version = "v1.22.1", .date = "2024-01-05",
                       .irom_link = 0x40209000, .segments = 3, .size_code = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && (v ? (i++, true) : (usage(), false)))
        if (ARG("--variant")) m->variant = v;
        else if (ARG("--version")) m->version = v;
        else if (ARG("--date")) m->date = v;
        else if (ARG("--vfs")) m->vfs = v;
        else if (ARG("--irom-size")) m->irom_size = num(v);
        else if (ARG("--segments")) m->segments = (int)num(v);
        else if (strcmp(a, "--split-banner") == 0) m->split = true;
        else if (strcmp(a, "--no-banner") == 0) m->no_banner = true;
        else if (strcmp(a, "--tiny") == 0) m->tiny = true;
        else if (strcmp(a, "--ota-bundle") == 0) m->ota_bundle = true;
        else if (ARG("--irom-link")) m->irom_link = num(v);
        else if (strcmp(a, "--no-trailer") == 0) m->no_trailer = true;
        else if (ARG("--header")) {
            if (sscanf(v, "%d,%d,%d", &m->mode, &m->size_code, &m->freq) != 3)
                usage();
        } else if (ARG("--dump-size")) m->dump_size = num(v);
        else if (ARG("--put")) {
            if (m->nputs == MAX_PUTS)
                usage();
            m->puts_spec[m->nputs++] = v;
        } else if (ARG("--corrupt")) m->corrupt = v;
        else if (ARG("--code")) m->code = v;
        else if (ARG("--code-noise")) code_noise = (unsigned)num(v);
        else if (ARG("--truncate")) m->truncate_to = num(v), m->truncate = true;
        else if (ARG("--seed")) rng_state = (uint32_t)num(v) | 1u;
        else if (a[0] == '-') usage();
        else if (!m->out) m->out = a;
        else usage();
#undef ARG
    }
    if (!m->out || (m->segments != 2 && m->segments != 3))
        usage();
}

/* Board name, filesystems and irom0 size as each variant and release has
 * them, unless given. */
static void variant_defaults(struct mkfw *m)
{
    const char *version = m->version;
    bool old_release = strncmp(version, "v1.9", 4) == 0 ||
                       strncmp(version, "v1.10", 5) == 0 ||
                       strncmp(version, "v1.11", 5) == 0 ||
                       strncmp(version, "v1.12", 5) == 0;
    m->asm_xtensa = strcmp(m->variant, "512K") != 0 && strcmp(m->variant, "none") != 0;
    if (strcmp(m->variant, "512K") == 0) {
        /* v1.9-v1.11 named it plainly and froze inisetup.py (VfsFat) in */
        bool plain = old_release && strncmp(version, "v1.12", 5) != 0;
        m->board = plain ? "ESP module" : "ESP module (512K)";
        if (!m->vfs) m->vfs = plain ? "fat" : "none";
        if (!m->irom_size) m->irom_size = 0x64000;
    } else if (strcmp(m->variant, "1M") == 0) {
        m->board = "ESP module (1M)";
        if (!m->vfs) m->vfs = "lfs2";
        if (!m->irom_size) m->irom_size = 0x8C000;
    } else if (strcmp(m->variant, "2M") == 0) {
        m->board = "ESP module";
        if (!m->vfs) m->vfs = old_release ? "fat" : "lfs2,fat";
        if (!m->irom_size) m->irom_size = old_release ? 0x8B000 : 0x96000;
    } else if (strcmp(m->variant, "romfs") == 0) {
        m->board = "ESP module";
        if (!m->vfs) m->vfs = "lfs2,fat,rom";
        if (!m->irom_size) m->irom_size = 0x96000;
    } else if (strcmp(m->variant, "none") == 0) {
        if (!m->vfs) m->vfs = "none";
        if (!m->irom_size) m->irom_size = 0x20000;
    } else {
        usage();
    }
}

/* The v1 image at 0: .text (IRAM), .data and .rodata (DRAM), as
 * makeimg.py names them.  Returns its length; *last_hdr is the last
 * segment header's offset. */
static size_t write_v1_image(uint8_t *buf, const struct mkfw *m, size_t *last_hdr)
{
    static const uint32_t seg_addr[3] = {0x40100000u, 0x3FFE8000u, 0x3FFE8368u};
    static const uint32_t real_len[3] = {0x6F14, 0x368, 0x10B8};
    static const uint32_t tiny_len[3] = {0x40, 0x10, 0x20};
    const uint32_t *seg_len = m->tiny ? tiny_len : real_len;
    buf[0] = 0xE9;
    buf[1] = (uint8_t)m->segments;
    buf[2] = (uint8_t)m->mode;
    buf[3] = (uint8_t)(m->size_code << 4 | m->freq);
    esp01_put_le32(buf + 4, 0x40100298u);
    size_t off = 8;
    *last_hdr = 8;
    uint8_t sum = 0xEF;
    for (int s = 0; s < m->segments; s++) {
        *last_hdr = off;
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
    return off;
}

/* The irom0 region at 0x9000 and its length word, with the texts a real
 * build has in its rodata. */
static void write_irom(uint8_t *buf, const struct mkfw *m)
{
    size_t irom_size = m->irom_size;
    esp01_put_le32(buf + 0x8FFC, (uint32_t)(0x9000 + irom_size));
    uint8_t *irom = buf + 0x9000;
    for (size_t k = 0; k < irom_size; k++)
        irom[k] = code_byte();
    /* Literal pools: code loads irom0 addresses (functions, strings)
     * from words next to it, about one word in sixteen. */
    if (m->irom_link)
        for (size_t k = 0; k + 4 <= irom_size; k += 64) {
            uint32_t target = (uint32_t)(m->irom_link + (rng_state % irom_size)) & ~3u;
            esp01_put_le32(irom + k + 4 * (noise() % 16), target);
            (void)noise();
        }
    /* Literals sit in .irom0.text's rodata part, around the middle. */
    size_t at = irom_size / 3;
    char text[160];
    if (!m->no_banner) {
        if (m->split) {
            put_str(irom, irom_size, &at, "MicroPython ");
            snprintf(text, sizeof text, "%s on %s", m->version, m->date);
            put_str(irom, irom_size, &at, text);
        } else {
            snprintf(text, sizeof text, "MicroPython %s on %s", m->version, m->date);
            put_str(irom, irom_size, &at, text);
        }
    }
    if (m->board) {
        snprintf(text, sizeof text, "; %s with ESP8266", m->board);
        put_str(irom, irom_size, &at, text);
        snprintf(text, sizeof text, "%s with ESP8266", m->board);
        put_str(irom, irom_size, &at, text);
    }
    /* The inline assembler's decorator name: every build but 512K. */
    if (m->asm_xtensa) put_str(irom, irom_size, &at, "asm_xtensa");
    if (strstr(m->vfs, "lfs2")) put_str(irom, irom_size, &at, "VfsLfs2");
    if (strstr(m->vfs, "fat")) put_str(irom, irom_size, &at, "VfsFat");
    if (strstr(m->vfs, "rom")) put_str(irom, irom_size, &at, "VfsRom");
}

/* 0, or 2 for an unknown corruption. */
static int corrupt_image(uint8_t *buf, const struct mkfw *m, size_t v1_len,
                         size_t last_hdr)
{
    const char *c = m->corrupt;
    if (c && strcmp(c, "checksum") == 0)
        buf[v1_len - 1] ^= 0x5A;
    else if (c && strcmp(c, "magic") == 0)
        buf[0] = 0xEA;
    else if (c && strcmp(c, "segment-past-end") == 0)
        esp01_put_le32(buf + last_hdr + 4, 0x00FFFFF0u);
    else if (c && strcmp(c, "length-word") == 0)
        esp01_put_le32(buf + 0x8FFC, 0x000FF000u);
    else if (c && strcmp(c, "md5") != 0) {
        fprintf(stderr, "mkfw: unknown corruption '%s'\n", c);
        return 2;
    }
    if (!m->no_trailer && !(c && strcmp(c, "length-word") == 0)) {
        /* MD5 last, so only the corruption asked for is wrong. */
        esp01_md5(buf + 4, 0x9000 + m->irom_size - 4, buf + 0x9000 + m->irom_size);
        if (c && strcmp(c, "md5") == 0)
            buf[0x9000 + m->irom_size + 3] ^= 0x01;
    }
    return 0;
}

/* --put OFFSET:FILE, growing the file when it reaches past the end.
 * 0, or 1 after saying why. */
static int put_files(uint8_t **bufp, size_t *lenp, const struct mkfw *m)
{
    for (int p = 0; p < m->nputs; p++) {
        char *colon = strchr(m->puts_spec[p], ':');
        if (!colon)
            usage();
        *colon = '\0';
        unsigned long at = num(m->puts_spec[p]);
        uint8_t *data;
        size_t n;
        esp01_err err;
        if (esp01_read_file(colon + 1, 64u << 20, &data, &n, &err) < 0) {
            fprintf(stderr, "mkfw: %s\n", err.msg);
            return 1;
        }
        if (at + n > *lenp) {
            uint8_t *nb = realloc(*bufp, at + n);
            if (!nb)
                return 1;
            *bufp = nb;
            memset(nb + *lenp, 0xFF, at + n - *lenp);
            *lenp = at + n;
        }
        memcpy(*bufp + at, data, n);
        free(data);
    }
    return 0;
}

/* A one-segment boot loader image, 0xFF to 0x3C000, then the firmware. */
static uint8_t *ota_bundle(uint8_t *buf, size_t *lenp)
{
    const size_t at = 0x3C000;
    uint8_t *nb = malloc(at + *lenp);
    if (!nb)
        return NULL;
    memset(nb, 0xFF, at);
    memcpy(nb + at, buf, *lenp);
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
    *lenp += at;
    return nb;
}

int main(int argc, char **argv)
{
    struct mkfw m;
    parse_args(argc, argv, &m);
    variant_defaults(&m);
    if (m.irom_size % 4 || m.irom_size > 0x100000 - 0x9000) {
        fprintf(stderr, "mkfw: bad irom0 size\n");
        return 2;
    }
    size_t fw_len = m.no_trailer ? 0 : 0x9000 + m.irom_size + 16;
    size_t cap = fw_len > m.dump_size ? fw_len : m.dump_size;
    if (cap < 0x9000)
        cap = 0x9000;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 1;
    memset(buf, 0xFF, cap);
    if (m.code && load_code(m.code) < 0)
        return 1;
    size_t last_hdr;
    size_t v1_len = write_v1_image(buf, &m, &last_hdr);
    if (!m.no_trailer)
        write_irom(buf, &m);
    int rc = corrupt_image(buf, &m, v1_len, last_hdr);
    if (rc)
        return rc;
    size_t len = m.no_trailer ? v1_len : fw_len;
    if (m.dump_size > len)
        len = m.dump_size;
    if ((rc = put_files(&buf, &len, &m)) != 0)
        return rc;
    if (m.ota_bundle && !(buf = ota_bundle(buf, &len)))
        return 1;
    if (m.truncate && m.truncate_to < len)
        len = m.truncate_to;
    esp01_err err;
    if (esp01_write_file_atomic(m.out, buf, len, &err) < 0) {
        fprintf(stderr, "mkfw: %s\n", err.msg);
        return 1;
    }
    free(buf);
    return 0;
}
