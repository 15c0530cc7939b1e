/*
 * esp01 info FILE [--json]: explain a MicroPython ESP8266 firmware file, a
 * flash dump or `esp01 build` output, offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fat.h"
#include "esp01/fileio.h"
#include "esp01/fs.h"
#include "esp01/hash.h"
#include "esp01/image.h"
#include "esp01/layout.h"

/* A 16 MiB flash dump plus slack; anything larger is not an ESP8266 image. */
#define INFO_MAX_FILE (32u << 20)

static const char info_help[] =
    "usage: esp01 info FILE [--json]\n"
    "       esp01 info [--port DEV]   (no FILE: the connected board)\n"
    "\n"
    "Explain a MicroPython ESP8266 firmware file, a whole-flash dump or an\n"
    "'esp01 build' image: header (flash mode/size/frequency, entry point,\n"
    "segments, checksum), MicroPython trailer (irom0 length word, MD5 as\n"
    "esp.check_fw() verifies it), version, variant, filesystems the firmware\n"
    "can mount, and its flash map on 512K, 1M, 2M, 4M, 8M and 16M chips.\n"
    "A bad checksum or MD5 is reported, not fatal.\n"
    "\n"
    "  --json     the same as JSON (keys documented in docs/info.md)\n"
    "  -h, --help this text\n";

/* What the file holds beyond the firmware, probed at the filesystem start
 * of the chip size the file implies. */
struct fs_presence {
    bool probed;
    uint32_t chip_size;
    const char *chip_from; /* "file size" or "header" */
    uint32_t offset;
    esp01_fs_probe found;
};

struct report {
    const char *path;
    const esp01_image_info *info;
    int layout_code;
    esp01_err layout_err;
    esp01_layout maps[ESP01_CHIP_SIZE_COUNT];
    struct fs_presence fs;
};

static const char *chip_name(uint32_t bytes)
{
    const char *n = esp01_flash_size_name(esp01_flash_size_code(bytes));
    return n ? n : "?";
}

/* Bytes a fresh filesystem leaves for files.  littlefs keeps its superblock
 * pair in blocks 0-1 (MicroPython's statvfs on a fresh 98-block ESP-01
 * partition reports 96 free, see $SHARED/fixtures/fs/manifest.json).  FAT
 * loses its reserved sector, FAT and root directory: the data clusters of
 * the geometry VfsFat.mkfs picks (none if it would need FAT32). */
static bool fs_free_bytes(const esp01_layout *l, uint64_t *out)
{
    if (!l->has_fs)
        return false;
    if (l->fs_default == ESP01_FS_LITTLEFS && l->fs_blocks >= 2) {
        *out = (uint64_t)(l->fs_blocks - 2) * ESP01_SECTOR;
        return true;
    }
    esp01_fat_geometry geo;
    if (l->fs_default == ESP01_FS_FAT && esp01_fat_plan(l->fs_blocks, &geo, NULL) == 0) {
        *out = (uint64_t)geo.cluster_count * geo.sectors_per_cluster * geo.sector_size;
        return true;
    }
    return false;
}

static void probe_fs(const uint8_t *buf, size_t len, struct report *r)
{
    const esp01_image_info *info = r->info;
    if (!info->is_flash_dump || r->layout_code < 0)
        return;
    /* A whole-flash dump is as long as the chip; build output ends at the
     * end of its filesystem and says the chip size in its header. */
    uint32_t chip = 0;
    const char *from = NULL;
    if (esp01_flash_size_code((uint32_t)len) >= 0 && len <= UINT32_MAX) {
        chip = (uint32_t)len;
        from = "file size";
    } else {
        chip = esp01_flash_size_bytes(info->flash_size_code);
        from = "header";
    }
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++) {
        const esp01_layout *l = &r->maps[i];
        if (l->chip_size != chip || !l->has_fs)
            continue;
        r->fs.probed = true;
        r->fs.chip_size = chip;
        r->fs.chip_from = from;
        r->fs.offset = l->fs_start;
        r->fs.found = esp01_fs_probe_at(buf, len, l->fs_start);
    }
}

static void print_text(const struct report *r)
{
    const esp01_image_info *in = r->info;
    char hex[33];
    const char *mode = esp01_flash_mode_name(in->flash_mode);
    const char *size = esp01_flash_size_name(in->flash_size_code);
    const char *freq = esp01_flash_freq_name(in->flash_freq);

    printf("%s: %zu bytes, %s\n", r->path, in->file_len,
           !in->has_irom ? "ESP8266 v1 image (no MicroPython trailer)"
           : in->is_flash_dump ? "MicroPython firmware followed by more flash (flash dump or esp01 build output)"
                               : "MicroPython firmware");
    printf("header:     flash mode %s, size %s, frequency %s, entry 0x%08X\n",
           mode ? mode : "?", size ? size : "?", freq ? freq : "?",
           (unsigned)in->entry);
    if (!mode || !size || !freq)
        printf("            (raw bytes 2-3: 0x%02X 0x%02X)\n", in->flash_mode,
               (unsigned)(in->flash_size_code << 4 | in->flash_freq));
    printf("segments:   %u\n", in->segment_count);
    for (unsigned i = 0; i < in->segment_count; i++) {
        const esp01_segment *s = &in->segments[i];
        printf("  %2u  load 0x%08X  %7u bytes  %-7s  file offset 0x%05X\n", i,
               (unsigned)s->load_addr, (unsigned)s->length,
               esp01_memory_name(s->memory), (unsigned)s->file_offset);
    }
    printf("checksum:   0x%02X at 0x%zX, %s\n", in->checksum_stored,
           in->v1_end - 1,
           in->checksum_ok ? "ok" : "BAD");
    if (!in->checksum_ok)
        printf("            (computed 0x%02X: the ROM loader will refuse to boot this)\n",
               in->checksum_computed);
    if (in->has_irom) {
        printf("irom0:      %u bytes at 0x9000 (length word 0x%X at 0x8FFC), linked at %s\n",
               (unsigned)in->irom_len, (unsigned)in->length_word,
               in->irom_link == 0x40209000u   ? "0x40209000 (standard build)"
               : in->irom_link == 0x40245000u ? "0x40245000 (OTA build)"
                                               : "an address the code does not make evident");
        esp01_hex(in->md5_stored, 16, hex);
        printf("md5:        %s at 0x%X, %s\n", hex, (unsigned)in->length_word,
               in->md5_ok ? "ok (as esp.check_fw() checks)" : "BAD");
        if (!in->md5_ok) {
            esp01_hex(in->md5_computed, 16, hex);
            printf("            (computed %s: file damaged or modified)\n", hex);
        }
        printf("firmware:   %zu bytes (0x0-0x%zX)\n", in->firmware_len,
               in->firmware_len);
    } else if (in->ota_bundle) {
        printf("irom0:      none at 0x8FFC: this is a boot loader with a MicroPython firmware at 0x3C000 (OTA download)\n");
    } else {
        printf("irom0:      none (no MicroPython length word at 0x8FFC)\n");
    }
    printf("version:    %s\n", in->has_version ? in->version : "not found");
    printf("board:      %s\n", in->board[0] ? in->board : "not found");
    /* v1.9-v1.12 had one generic build for 1 MiB and up: say so. */
    printf("variant:    %s\n", r->layout_code == 0 ? r->maps[0].build
                                                   : esp01_variant_name(in->variant));
    printf("can mount: ");
    if (in->has_vfs_lfs2)
        printf(" littlefs v2 (VfsLfs2)");
    if (in->has_vfs_fat)
        printf(" FAT (VfsFat)");
    if (in->has_romfs)
        printf(" ROMFS (VfsRom)");
    if (!in->has_vfs_lfs2 && !in->has_vfs_fat && !in->has_romfs)
        printf(" no filesystem");
    printf("\n");
    if (in->is_flash_dump)
        printf("flash dump: yes, %zu bytes after the firmware\n",
               in->file_len - in->firmware_len);

    if (r->layout_code < 0) {
        printf("flash map:  unknown: %s\n", r->layout_err.msg);
        return;
    }
    printf("flash map:  %s build, %s (%s)\n", r->maps[0].build,
           r->maps[0].releases, r->maps[0].source);
    printf("  chip  firmware           reserved  fs start   blocks  fs type   free bytes  sdk area\n");
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++) {
        const esp01_layout *l = &r->maps[i];
        const char *chip = chip_name(l->chip_size);
        if (!l->runs) {
            printf("  %-4s  cannot run: %s\n", chip, l->why_not);
            continue;
        }
        char fw[24], res[12] = "-";
        snprintf(fw, sizeof fw, "0x0-0x%06X", (unsigned)l->firmware_end);
        if (l->reserved_start)
            snprintf(res, sizeof res, "0x%06X", (unsigned)l->reserved_start);
        if (!l->has_fs) {
            printf("  %-4s  %-17s  %-8s  no filesystem: %s; sdk area 0x%06X\n",
                   chip, fw, res, l->why_not, (unsigned)l->sdk_start);
            continue;
        }
        uint64_t free_b;
        char free_s[16] = "unknown";
        if (fs_free_bytes(l, &free_b))
            snprintf(free_s, sizeof free_s, "%llu", (unsigned long long)free_b);
        printf("  %-4s  %-17s  %-8s  0x%06X  %6u  %-8s  %10s  0x%06X\n", chip, fw,
               res, (unsigned)l->fs_start, (unsigned)l->fs_blocks,
               esp01_fs_name(l->fs_default), free_s, (unsigned)l->sdk_start);
    }
    if (r->maps[0].romfs_size)
        printf("  ROMFS: %u bytes at 0x%X on every chip size\n",
               (unsigned)r->maps[0].romfs_size, (unsigned)r->maps[0].romfs_start);
    if (in->is_flash_dump) {
        if (!r->fs.probed)
            printf("filesystem: not checked (the file's length and header name no chip size with a filesystem)\n");
        else
            printf("filesystem: %s at 0x%X (chip size %s from the %s)\n",
                   r->fs.found == ESP01_PROBE_LITTLEFS ? "littlefs"
                   : r->fs.found == ESP01_PROBE_FAT    ? "FAT"
                   : r->fs.found == ESP01_PROBE_ERASED ? "none, erased (the firmware formats it at first boot)"
                   : r->fs.found == ESP01_PROBE_OTHER  ? "none recognised, data present (the firmware will call it corrupt)"
                                                       : "none, the file ends before",
                   (unsigned)r->fs.offset, chip_name(r->fs.chip_size), r->fs.chip_from);
    }
}

/* JSON string with the escapes RFC 8259 requires. */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void json_key_str(const char *key, const char *val, bool comma)
{
    printf("  \"%s\": ", key);
    if (val)
        json_str(val);
    else
        fputs("null", stdout);
    fputs(comma ? ",\n" : "\n", stdout);
}

static void print_json(const struct report *r)
{
    const esp01_image_info *in = r->info;
    char hex[33];
    const char *t = "true", *f = "false";
    printf("{\n");
    json_key_str("file", r->path, true);
    printf("  \"file_size\": %zu,\n", in->file_len);
    printf("  \"header\": {\"flash_mode\": ");
    const char *mode = esp01_flash_mode_name(in->flash_mode);
    const char *size = esp01_flash_size_name(in->flash_size_code);
    const char *freq = esp01_flash_freq_name(in->flash_freq);
    mode ? json_str(mode) : (void)fputs("null", stdout);
    printf(", \"flash_mode_code\": %u, \"flash_size\": ", in->flash_mode);
    size ? json_str(size) : (void)fputs("null", stdout);
    printf(", \"flash_size_code\": %u, \"flash_freq\": ", in->flash_size_code);
    freq ? json_str(freq) : (void)fputs("null", stdout);
    printf(", \"flash_freq_code\": %u, \"entry\": %u, \"segment_count\": %u},\n",
           in->flash_freq, (unsigned)in->entry, in->segment_count);
    printf("  \"segments\": [");
    for (unsigned i = 0; i < in->segment_count; i++) {
        const esp01_segment *s = &in->segments[i];
        printf("%s\n    {\"load_address\": %u, \"length\": %u, \"file_offset\": %u, \"memory\": \"%s\"}",
               i ? "," : "", (unsigned)s->load_addr, (unsigned)s->length,
               (unsigned)s->file_offset, esp01_memory_name(s->memory));
    }
    printf("\n  ],\n");
    printf("  \"checksum\": {\"offset\": %zu, \"stored\": %u, \"computed\": %u, \"ok\": %s},\n",
           in->v1_end - 1, in->checksum_stored, in->checksum_computed,
           in->checksum_ok ? t : f);
    if (in->has_irom) {
        printf("  \"trailer\": {\"length_word\": %u, \"irom0_offset\": %u, \"irom0_size\": %u, \"firmware_size\": %zu, ",
               (unsigned)in->length_word, ESP01_IROM_OFFSET, (unsigned)in->irom_len,
               in->firmware_len);
        esp01_hex(in->md5_stored, 16, hex);
        printf("\"md5\": \"%s\", ", hex);
        esp01_hex(in->md5_computed, 16, hex);
        printf("\"md5_computed\": \"%s\", \"md5_ok\": %s, \"irom0_link\": ", hex,
               in->md5_ok ? t : f);
        if (in->irom_link)
            printf("%u},\n", (unsigned)in->irom_link);
        else
            printf("null},\n");
    } else {
        printf("  \"trailer\": null,\n");
    }
    json_key_str("version", in->has_version ? in->version : NULL, true);
    if (in->has_version)
        printf("  \"release\": \"%u.%u.%u\",\n  \"development_build\": %s,\n",
               in->version_major, in->version_minor, in->version_patch,
               in->version_dev ? t : f);
    else
        printf("  \"release\": null,\n  \"development_build\": null,\n");
    json_key_str("board", in->board[0] ? in->board : NULL, true);
    json_key_str("variant", in->variant ? esp01_variant_name(in->variant) : NULL, true);
    printf("  \"filesystems\": [");
    const char *sep = "";
    if (in->has_vfs_lfs2)
        printf("%s\"littlefs2\"", sep), sep = ", ";
    if (in->has_vfs_fat)
        printf("%s\"fat\"", sep), sep = ", ";
    if (in->has_romfs)
        printf("%s\"romfs\"", sep);
    printf("],\n");
    printf("  \"flash_dump\": %s,\n  \"ota_bundle\": %s,\n", in->is_flash_dump ? t : f,
           in->ota_bundle ? t : f);
    if (r->layout_code < 0) {
        json_key_str("layout_error", r->layout_err.msg, true);
        printf("  \"layout_source\": null,\n  \"flash_map\": [],\n");
    } else {
        printf("  \"layout_error\": null,\n  \"layout_source\": {\"build\": ");
        json_str(r->maps[0].build);
        printf(", \"releases\": ");
        json_str(r->maps[0].releases);
        printf(", \"files\": ");
        json_str(r->maps[0].source);
        printf("},\n  \"flash_map\": [");
        for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++) {
            const esp01_layout *l = &r->maps[i];
            printf("%s\n    {\"chip\": \"%s\", \"chip_size\": %u, \"runs\": %s", i ? "," : "",
                   chip_name(l->chip_size), (unsigned)l->chip_size, l->runs ? t : f);
            if (l->runs) {
                printf(", \"firmware_end\": %u, \"user_start\": %u, \"reserved_sector\": ",
                       (unsigned)l->firmware_end, (unsigned)l->user_start);
                if (l->reserved_start)
                    printf("%u", (unsigned)l->reserved_start);
                else
                    fputs("null", stdout);
                printf(", \"has_fs\": %s", l->has_fs ? t : f);
                if (l->has_fs) {
                    uint64_t free_b;
                    printf(", \"fs_start\": %u, \"fs_blocks\": %u, \"fs_bytes\": %u, \"fs_default\": \"%s\", \"fs_free_bytes\": ",
                           (unsigned)l->fs_start, (unsigned)l->fs_blocks,
                           (unsigned)(l->fs_blocks * ESP01_SECTOR),
                           esp01_fs_name(l->fs_default));
                    if (fs_free_bytes(l, &free_b))
                        printf("%llu", (unsigned long long)free_b);
                    else
                        fputs("null", stdout);
                }
                if (l->romfs_size)
                    printf(", \"romfs_start\": %u, \"romfs_size\": %u",
                           (unsigned)l->romfs_start, (unsigned)l->romfs_size);
                printf(", \"sdk_start\": %u", (unsigned)l->sdk_start);
            }
            if (!l->runs || !l->has_fs) {
                printf(", \"why_not\": ");
                json_str(l->why_not);
            }
            printf("}");
        }
        printf("\n  ],\n");
    }
    if (r->fs.probed)
        printf("  \"filesystem_present\": {\"chip\": \"%s\", \"chip_from\": \"%s\", \"offset\": %u, \"found\": \"%s\"}\n",
               chip_name(r->fs.chip_size), r->fs.chip_from, (unsigned)r->fs.offset,
               esp01_fs_probe_name(r->fs.found));
    else
        printf("  \"filesystem_present\": null\n");
    printf("}\n");
}

/* No FILE, or any connection option: the user means the board. */
static bool wants_device(int argc, char **argv)
{
    static const char *const device_opts[] = {"-p", "--port", "--baud", "--timeout",
                                              "--encoding", "--no-paste"};
    bool have_file = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return false;
        for (size_t k = 0; k < sizeof device_opts / sizeof device_opts[0]; k++) {
            size_t n = strlen(device_opts[k]);
            if (strncmp(argv[i], device_opts[k], n) == 0 &&
                (argv[i][n] == '\0' || argv[i][n] == '='))
                return true;
        }
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            have_file = true;
    }
    return !have_file;
}

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    if (wants_device(argc, argv))
        return cmd_info_device(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(info_help, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("info", "one FILE at a time ('%s' is extra)", argv[i]);
        }
    }

    uint8_t *buf = NULL;
    size_t len = 0;
    esp01_err err;
    esp01_err_clear(&err);
    int rc = esp01_read_file(path, INFO_MAX_FILE, &buf, &len, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);

    esp01_image_info info;
    rc = esp01_image_parse(buf, len, &info, &err);
    if (rc < 0) {
        /* A partition image is a common mix-up: point at the right tool. */
        esp01_fs_kind kind = esp01_fs_detect(buf, len);
        free(buf);
        if (kind != ESP01_FS_NONE)
            return cli_error("%s: %s; it holds a %s partition (see 'esp01 fs ls %s')",
                             path, err.msg, esp01_fs_name(kind), path);
        return cli_error("%s: %s", path, err.msg);
    }
    struct report r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.info = &info;
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT && r.layout_code == 0; i++)
        r.layout_code = esp01_layout_for(&info, esp01_chip_sizes[i], &r.maps[i],
                                         &r.layout_err);
    probe_fs(buf, len, &r);
    if (json)
        print_json(&r);
    else
        print_text(&r);
    free(buf);
    return EXIT_OK;
}
