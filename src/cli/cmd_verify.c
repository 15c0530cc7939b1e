/* esp01 verify: does the flash hold an image?  MD5 sums on the chip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/fs.h"
#include "esp01/image.h"
#include "esp01/layout.h"
#include "esp01/littlefs.h"
#include "esp01/stub.h"
#include "romcli.h"

/*
 * What the image holds where, so a differing sector can be named: the
 * firmware, and in an esp01 build's littlefs partition the file or
 * directory owning each block.
 */
struct image_map {
    bool firmware;
    uint32_t firmware_end;
    uint32_t fs_start, fs_blocks; /* 0 blocks: no littlefs partition */
    char **owner;                  /* per block: path, or NULL (free) */
    bool *meta;
};

static void own(void *ctx, uint32_t block, bool metadata, const char *path)
{
    struct image_map *m = ctx;
    if (block >= m->fs_blocks || m->owner[block])
        return;
    m->owner[block] = strdup(path);
    m->meta[block] = metadata;
}

static void map_image(const uint8_t *img, size_t len, uint32_t chip,
                      struct image_map *m)
{
    memset(m, 0, sizeof *m);
    esp01_image_info info;
    esp01_layout lay;
    if (esp01_image_parse(img, len, &info, NULL) < 0)
        return;
    m->firmware = true;
    m->firmware_end = (uint32_t)info.firmware_len;
    if (esp01_layout_for(&info, chip, &lay, NULL) < 0 || !lay.has_fs ||
        lay.fs_start >= len)
        return;
    size_t plen = (size_t)lay.fs_blocks * 4096;
    if (plen > len - lay.fs_start ||
        esp01_fs_detect(img + lay.fs_start, plen) != ESP01_FS_LITTLEFS)
        return;
    m->owner = calloc(lay.fs_blocks, sizeof *m->owner);
    m->meta = calloc(lay.fs_blocks, sizeof *m->meta);
    if (!m->owner || !m->meta)
        return;
    m->fs_start = lay.fs_start;
    m->fs_blocks = lay.fs_blocks;
    if (esp01_lfs_owners(img + lay.fs_start, plen, own, m, NULL) < 0)
        m->fs_blocks = 0; /* unreadable: say nothing rather than guess */
}

static void unmap_image(struct image_map *m)
{
    for (uint32_t b = 0; m->owner && b < m->fs_blocks; b++)
        free(m->owner[b]);
    free(m->owner);
    free(m->meta);
}

/* "main.py, lib/ (directory)" for flash [addr, end), or what else it is. */
static void describe(const struct image_map *m, uint32_t addr, uint32_t end,
                     char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = 0;
    if (m->firmware && addr < m->firmware_end)
        n += (size_t)snprintf(out + n, cap - n, "firmware");
    for (uint32_t a = addr; a < end && n < cap; a += 4096) {
        if (!m->fs_blocks || a < m->fs_start ||
            a >= m->fs_start + m->fs_blocks * 4096u)
            continue;
        uint32_t b = (a - m->fs_start) / 4096;
        const char *what = m->owner[b] ? m->owner[b] : NULL;
        char item[300];
        if (!what)
            snprintf(item, sizeof item, "free space");
        else if (m->meta[b])
            snprintf(item, sizeof item, "%s/ (directory)", *what ? what : "");
        else
            snprintf(item, sizeof item, "%s", what);
        if (strstr(out, item))
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", item);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: esp01 verify IMAGE.bin [--offset N] [options]\n\n"
            "Check that the flash holds IMAGE.bin, by MD5 sums the flasher stub\n"
            "computes on the chip (the whole image, then 64 KiB blocks, then\n"
            "4 KiB sectors): no flash data crosses the wire.  Differing sectors\n"
            "are listed by offset, with what they hold in the image: the\n"
            "firmware, or in an esp01 build the littlefs files and directories\n"
            "owning them.  For a firmware image at 0x0, header bytes\n"
            "2-3 (flash mode and size, which 'esp01 flash' sets for the chip)\n"
            "are compared as the chip has them.  Exit status 0 when the flash\n"
            "holds the image, 1 when it does not.\n\n"
            "  --offset N         flash address of the image (default 0)\n"
            "options:\n%s", romcli_options_help);
}

/* The runs of differing sectors (the first 64), each with what the image
 * holds there. */
static void list_differing(const uint8_t *img, size_t len, uint64_t offset,
                           uint32_t flash_size, const uint8_t *differs,
                           uint32_t nsec)
{
    struct image_map map;
    memset(&map, 0, sizeof map);
    if (offset == 0)
        map_image(img, len, flash_size, &map);
    unsigned shown = 0;
    for (uint32_t s = 0; s < nsec; s++) {
        if (!(differs[s / 8] & (1u << (s % 8))))
            continue;
        uint32_t e = s;
        while (e + 1 < nsec && (differs[(e + 1) / 8] & (1u << ((e + 1) % 8))))
            e++;
        if (shown++ < 64) {
            char what[512];
            describe(&map, (uint32_t)offset + s * 4096u,
                     (uint32_t)offset + (e + 1) * 4096u, what, sizeof what);
            printf("  0x%06llx-0x%06llx  %u sector%s%s%s\n",
                   (unsigned long long)(offset + s * 4096u),
                   (unsigned long long)(offset + (e + 1) * 4096u),
                   e - s + 1, e == s ? "" : "s", *what ? "  " : "", what);
        }
        s = e;
    }
    if (shown > 64)
        printf("  ... and %u more ranges\n", shown - 64);
    unmap_image(&map);
}

int cmd_verify(int argc, char **argv)
{
    struct romcli o;
    romcli_init(&o);
    const char *path = NULL;
    uint64_t offset = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--offset") == 0) {
            if (i + 1 >= argc || !cli_parse_size(argv[i + 1], &offset) ||
                offset % 4096 || offset >= 16u << 20)
                return cli_usage_error("verify", "--offset needs a multiple "
                                       "of 4096 below 16M");
            i++;
            continue;
        }
        int r = romcli_option(&o, "verify", argc, argv, &i);
        if (r < 0)
            return EXIT_USAGE;
        if (r == 1)
            continue;
        if (a[0] == '-' && a[1])
            return cli_usage_error("verify", "unknown option '%s'", a);
        if (path)
            return cli_usage_error("verify", "one image at a time");
        path = a;
    }
    if (!path)
        return cli_usage_error("verify", "which image? (esp01 verify "
                               "IMAGE.bin)");
    if (o.no_stub)
        return cli_usage_error("verify", "needs esp01's flasher stub (the "
                               "ROM loader has no MD5): drop --no-stub");
    esp01_err err;
    esp01_err_clear(&err);
    uint8_t *img = NULL;
    size_t len = 0;
    int rc = esp01_read_file(path, 16u << 20, &img, &len, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    if (len == 0) {
        free(img);
        return cli_error("'%s' is empty", path);
    }
    if ((rc = romcli_open(&o, "verify", true)) != EXIT_OK) {
        free(img);
        return rc;
    }
    int code = EXIT_FAIL;
    uint8_t *differs = NULL;
    char image_desc[300];
    snprintf(image_desc, sizeof image_desc, "'%s' (%zu bytes)", path, len);
    if (romcli_check_range(&o, offset, len, image_desc) != EXIT_OK)
        goto out;
    if (offset == 0 && len >= 4 && img[0] == ESP01_IMAGE_MAGIC) {
        uint8_t head[4];
        if ((rc = esp01_stub_read_flash(&o.rom, 0, 4, head, &err)) < 0) {
            code = cli_lib_error(rc, &err);
            goto out;
        }
        if (head[0] == img[0]) {
            img[2] = head[2];
            img[3] = head[3];
        }
    }
    uint32_t nsec = (uint32_t)((len + 4095) / 4096), ndiff = 0;
    differs = calloc((nsec + 7) / 8, 1);
    if (!differs) {
        cli_error("out of memory");
        goto out;
    }
    uint64_t t0 = esp01_now_ms();
    rc = esp01_stub_diff(&o.rom, (uint32_t)offset, img, len, differs, &ndiff,
                         &err);
    if (rc < 0) {
        code = cli_lib_error(rc, &err);
        goto out;
    }
    double secs = (double)(esp01_now_ms() - t0) / 1000.0;
    if (ndiff == 0) {
        printf("Flash at 0x%06llx holds %s (%zu bytes, %u sectors; MD5 on "
               "the chip, %.1f s)\n", (unsigned long long)offset, path, len,
               nsec, secs);
        code = romcli_finish(&o);
        goto out;
    }
    printf("%u of %u sectors differ from %s:\n", ndiff, nsec, path);
    list_differing(img, len, offset, o.flash.size, differs, nsec);
    romcli_finish(&o);
    code = EXIT_FAIL;
out:
    free(differs);
    free(img);
    romcli_close(&o);
    return code;
}
