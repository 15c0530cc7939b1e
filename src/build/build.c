#include "esp01/build.h"

#include <stdlib.h>
#include <string.h>

void esp01_build_defaults(esp01_build_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->chip_size = 1u << 20;
    opt->flash_mode = ESP01_MODE_DOUT;
    opt->flash_freq = ESP01_FREQ_40M;
    opt->fs = ESP01_FS_NONE;
    opt->fs_only = false;
    opt->variant = ESP01_VARIANT_1M;
}

void esp01_build_result_free(esp01_build_result *result)
{
    if (result) {
        free(result->image);
        result->image = NULL;
        result->image_len = 0;
    }
}

/* The tree is the caller's; normalising reorders it, so work on a copy. */
static int copy_tree(const esp01_tree *src, esp01_tree *dst, esp01_err *err)
{
    esp01_tree_init(dst);
    for (size_t i = 0; i < src->count; i++) {
        const esp01_entry *e = &src->entries[i];
        int rc;
        if (e->type == ESP01_ENTRY_DIR)
            rc = esp01_tree_add_dir(dst, e->path, err);
        else if (e->has_mtime)
            rc = esp01_tree_add_file_mtime(dst, e->path, e->data, e->size,
                                           e->mtime_ns, err);
        else
            rc = esp01_tree_add_file(dst, e->path, e->data, e->size, err);
        if (rc < 0) {
            esp01_tree_free(dst);
            return rc;
        }
    }
    return esp01_tree_normalize(dst, err);
}

static int check_firmware(const esp01_image_info *fw, esp01_err *err)
{
    if (!fw->checksum_ok)
        return esp01_fail(err, ESP01_E_CHECKSUM,
                          "firmware header checksum is wrong (stored 0x%02x, "
                          "computed 0x%02x): the file is damaged",
                          fw->checksum_stored, fw->checksum_computed);
    if (!fw->has_irom)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "firmware has no MicroPython irom0 section at 0x9000: "
                          "not a MicroPython ESP8266 firmware");
    if (fw->has_md5 && !fw->md5_ok)
        return esp01_fail(err, ESP01_E_CHECKSUM,
                          "firmware MD5 trailer does not match its contents: "
                          "the file is damaged (esp.check_fw() would fail)");
    if (fw->is_flash_dump)
        return esp01_fail(err, ESP01_E_INVAL,
                          "this is a flash dump or a built image, not a "
                          "firmware file (%zu bytes of firmware, %zu in the "
                          "file)", fw->firmware_len, fw->file_len);
    return 0;
}

static int choose_fs(const esp01_build_options *opt,
                     const esp01_build_result *res, esp01_fs_kind *out,
                     esp01_err *err)
{
    esp01_fs_kind fs = opt->fs != ESP01_FS_NONE ? opt->fs : res->layout.fs_default;
    if (fs == ESP01_FS_NONE)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the firmware formats no filesystem on a %u KiB chip",
                          res->layout.chip_size / 1024);
    if (res->have_firmware) {
        const esp01_image_info *fw = &res->firmware;
        bool known = fw->has_vfs_lfs2 || fw->has_vfs_fat;
        if (known && fs == ESP01_FS_LITTLEFS && !fw->has_vfs_lfs2)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "this firmware cannot mount littlefs (no VfsLfs2 "
                              "in it); use --fs fat");
        if (known && fs == ESP01_FS_FAT && !fw->has_vfs_fat)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "this firmware cannot mount FAT (no VfsFat in "
                              "it); use --fs littlefs");
    }
    *out = fs;
    return 0;
}

int esp01_build(const uint8_t *firmware, size_t firmware_len,
                const esp01_tree *tree, const esp01_build_options *opt,
                esp01_build_result *res, esp01_err *err)
{
    memset(res, 0, sizeof *res);
    if (esp01_flash_size_code(opt->chip_size) < 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "%u bytes is not a flash size the ESP8266 header "
                          "can describe", opt->chip_size);
    int rc;
    if (firmware) {
        rc = esp01_image_parse(firmware, firmware_len, &res->firmware, err);
        if (rc < 0)
            return rc;
        if ((rc = check_firmware(&res->firmware, err)) < 0)
            return rc;
        res->have_firmware = true;
        rc = esp01_layout_for(&res->firmware, opt->chip_size, &res->layout, err);
    } else {
        rc = esp01_layout_for_variant(opt->variant, opt->chip_size,
                                      &res->layout, err);
    }
    if (rc < 0)
        return rc;
    const esp01_layout *lay = &res->layout;
    if (!lay->runs)
        return esp01_fail(err, ESP01_E_NOSPACE, "%s", lay->why_not);
    if (!lay->has_fs)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "%s", lay->why_not[0] ? lay->why_not
                                : "this firmware has no filesystem on this chip");
    if ((rc = choose_fs(opt, res, &res->fs, err)) < 0)
        return rc;

    esp01_tree files;
    if ((rc = copy_tree(tree, &files, err)) < 0)
        return rc;

    size_t part_len = (size_t)lay->fs_blocks * ESP01_SECTOR;
    bool whole = res->have_firmware && !opt->fs_only;
    size_t total = whole ? (size_t)lay->fs_start + part_len : part_len;
    res->image = malloc(total ? total : 1);
    if (!res->image) {
        esp01_tree_free(&files);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory for a %zu-byte image",
                          total);
    }
    res->image_len = total;
    res->write_offset = whole ? 0 : lay->fs_start;
    uint8_t *part = whole ? res->image + lay->fs_start : res->image;
    rc = esp01_fs_write(res->fs, &files, lay->fs_blocks, part, part_len,
                        NULL, err);
    esp01_tree_free(&files);
    /* Counted from the partition as built, the way `esp01 fs df` counts
       any partition, so the budget and df never disagree. */
    if (rc == 0)
        rc = esp01_fs_usage_of(part, part_len, &res->usage, err);
    if (rc == 0 && whole) {
        memset(res->image, 0xFF, lay->fs_start);
        memcpy(res->image, firmware, res->firmware.firmware_len);
        rc = esp01_image_patch_header(res->image, res->firmware.firmware_len,
                                      opt->flash_mode,
                                      esp01_flash_size_code(opt->chip_size),
                                      opt->flash_freq, err);
    }
    if (rc < 0)
        esp01_build_result_free(res);
    return rc;
}
