/*
 * elf2c - turn the stub's lx106 ELF into src/flash/stub_image.c (the segments
 * esp01 uploads with MEM_BEGIN/MEM_DATA and the MEM_END entry point).
 *
 *   elf2c STUB.elf VERSION OUT.c
 *
 * The output depends on nothing but the ELF's loaded bytes, addresses and
 * entry and the version text (no paths, no dates), so rebuilding the stub
 * with the same compiler gives the same file.  Every allocated section
 * must lie where the ROM loader leaves memory alone during the upload
 * (facts 5b): code in IRAM 0x4010C500-0x4010FB00, data and .bss in DRAM
 * 0x3FFE8100-0x3FFFA000; anything else is refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IRAM_LO 0x4010C500u
#define IRAM_HI 0x4010FB00u
#define DRAM_LO 0x3FFE8100u
#define DRAM_HI 0x3FFFA000u
#define MAX_SEG 4

#define SHT_NOBITS 8
#define SHF_ALLOC 2

struct seg {
    uint32_t addr, len;
    uint8_t *data;
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int die(const char *what)
{
    fprintf(stderr, "elf2c: %s\n", what);
    return 1;
}

static int in_range(uint32_t a, uint32_t n, uint32_t lo, uint32_t hi)
{
    return a >= lo && a <= hi && n <= hi - a;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static void emit_bytes(FILE *o, const char *name, const struct seg *s)
{
    fprintf(o, "static const uint8_t %s[%u] = {", name, (unsigned)s->len);
    for (uint32_t i = 0; i < s->len; i++)
        fprintf(o, "%s0x%02x,", i % 12 ? " " : "\n    ", s->data[i]);
    fprintf(o, "\n};\n\n");
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return die("usage: elf2c STUB.elf VERSION OUT.c");
    size_t n;
    uint8_t *e = slurp(argv[1], &n);
    if (!e)
        return die("cannot read the ELF");
    if (n < 52 || memcmp(e, "\x7f" "ELF\x01\x01", 6) || le16(e + 18) != 94)
        return die("not a little-endian ELF32 for Xtensa");
    uint32_t entry = le32(e + 24), shoff = le32(e + 32);
    uint16_t shentsize = le16(e + 46), shnum = le16(e + 48);
    if (shentsize < 40 || shoff > n || (size_t)shnum * shentsize > n - shoff)
        return die("bad section header table");

    struct seg seg[MAX_SEG];
    unsigned nseg = 0;
    uint32_t bss_lo = 0, bss_hi = 0;
    for (uint16_t i = 0; i < shnum; i++) {
        const uint8_t *sh = e + shoff + (size_t)i * shentsize;
        uint32_t type = le32(sh + 4), flags = le32(sh + 8), addr = le32(sh + 12);
        uint32_t off = le32(sh + 16), size = le32(sh + 20);
        if (!(flags & SHF_ALLOC) || size == 0)
            continue;
        int iram = in_range(addr, size, IRAM_LO, IRAM_HI);
        int dram = in_range(addr, size, DRAM_LO, DRAM_HI);
        if (!iram && !dram)
            return die("a section lies outside the upload-safe IRAM/DRAM ranges");
        if (type == SHT_NOBITS) {
            if (!dram)
                return die(".bss must be in DRAM");
            bss_lo = addr;
            bss_hi = addr + size;
            continue;
        }
        if (off > n || size > n - off)
            return die("section data past the end of the file");
        if (nseg == MAX_SEG)
            return die("more than 4 segments");
        /* Uploads go in whole words: pad with zeros. */
        uint32_t len = (size + 3) & ~3u;
        if (!in_range(addr, len, iram ? IRAM_LO : DRAM_LO, iram ? IRAM_HI : DRAM_HI))
            return die("a padded section leaves its range");
        seg[nseg].addr = addr;
        seg[nseg].len = len;
        seg[nseg].data = calloc(1, len);
        if (!seg[nseg].data)
            return die("out of memory");
        memcpy(seg[nseg].data, e + off, size);
        nseg++;
    }
    if (nseg == 0 || !in_range(entry, 1, IRAM_LO, IRAM_HI))
        return die("no code, or the entry point is not in the code");

    FILE *o = fopen(argv[3], "w");
    if (!o)
        return die("cannot write the output");
    uint32_t total = 0;
    for (unsigned i = 0; i < nseg; i++)
        total += seg[i].len;
    fprintf(o, "/*\n * src/flash/stub_image.c - the flasher stub esp01 uploads to the ESP8266, generated\n"
               " * by `make stub-image` from stub/ (docs/stub.md).  Do not edit.\n"
               " * %u bytes in %u segment%s; .bss 0x%08X-0x%08X is zeroed by the stub.\n */\n",
            (unsigned)total, nseg, nseg == 1 ? "" : "s", (unsigned)bss_lo,
            (unsigned)bss_hi);
    fprintf(o, "#include \"stub_image.h\"\n\n");
    char name[16];
    for (unsigned i = 0; i < nseg; i++) {
        snprintf(name, sizeof name, "seg%u", i);
        emit_bytes(o, name, &seg[i]);
    }
    fprintf(o, "const esp01_stub_image esp01_stub_esp8266 = {\n");
    fprintf(o, "    .entry = 0x%08X,\n    .nseg = %u,\n    .seg = {\n", (unsigned)entry, nseg);
    for (unsigned i = 0; i < nseg; i++)
        fprintf(o, "        {0x%08X, %u, seg%u},\n", (unsigned)seg[i].addr,
                (unsigned)seg[i].len, i);
    fprintf(o, "    },\n    .version = \"%s\",\n};\n", argv[2]);
    if (fclose(o))
        return die("cannot write the output");
    for (unsigned i = 0; i < nseg; i++)
        free(seg[i].data);
    free(e);
    return 0;
}
