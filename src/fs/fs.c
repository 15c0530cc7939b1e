#include "esp01/fs.h"

#include <string.h>

#include "esp01/fat.h"
#include "esp01/littlefs.h"

esp01_fs_kind esp01_fs_detect(const uint8_t *buf, size_t len)
{
    esp01_lfs_super sb;
    if (esp01_lfs_probe(buf, len, &sb, NULL) == 0)
        return ESP01_FS_LITTLEFS;
    /* FAT boot sector: jump instruction, a sector size FAT allows, and the
     * 0x55AA signature.  A damaged volume past that still counts as FAT so
     * that the FAT reader can say what is wrong with it. */
    if (len >= 512 && (buf[0] == 0xEB || buf[0] == 0xE9) && buf[510] == 0x55 &&
        buf[511] == 0xAA) {
        unsigned ss = (unsigned)buf[11] | (unsigned)buf[12] << 8;
        if (ss == 512 || ss == 1024 || ss == 2048 || ss == 4096)
            return ESP01_FS_FAT;
    }
    return ESP01_FS_NONE;
}

const char *esp01_fs_name(esp01_fs_kind kind)
{
    switch (kind) {
    case ESP01_FS_LITTLEFS:
        return "littlefs";
    case ESP01_FS_FAT:
        return "fat";
    case ESP01_FS_NONE:
        break;
    }
    return "none";
}

int esp01_fs_write(esp01_fs_kind kind, const esp01_tree *tree,
                   uint32_t block_count, uint8_t *out, size_t out_len,
                   esp01_fs_usage *usage, esp01_err *err)
{
    if (kind == ESP01_FS_LITTLEFS) {
        esp01_lfs_config cfg;
        esp01_lfs_config_micropython(&cfg, block_count);
        return esp01_lfs_write(&cfg, tree, out, out_len, usage, err);
    }
    if (kind == ESP01_FS_FAT)
        return esp01_fat_write(tree, block_count, out, out_len, usage, err);
    return esp01_fail(err, ESP01_E_INVAL, "no filesystem format chosen");
}

int esp01_fs_read(const uint8_t *buf, size_t len, esp01_tree *out,
                  esp01_err *err)
{
    switch (esp01_fs_detect(buf, len)) {
    case ESP01_FS_LITTLEFS:
        return esp01_lfs_read(buf, len, out, err);
    case ESP01_FS_FAT:
        return esp01_fat_read(buf, len, out, err);
    case ESP01_FS_NONE:
        break;
    }
    return esp01_fail(err, ESP01_E_FORMAT,
                      "no littlefs or FAT filesystem found (blank or damaged "
                      "partition?)");
}

int esp01_fs_usage_of(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                      esp01_err *err)
{
    switch (esp01_fs_detect(buf, len)) {
    case ESP01_FS_LITTLEFS:
        return esp01_lfs_usage(buf, len, usage, NULL, err);
    case ESP01_FS_FAT:
        return esp01_fat_usage(buf, len, usage, err);
    case ESP01_FS_NONE:
        break;
    }
    return esp01_fail(err, ESP01_E_FORMAT,
                      "no littlefs or FAT filesystem found (blank or damaged "
                      "partition?)");
}

uint32_t esp01_fs_file_blocks(esp01_fs_kind kind, size_t size)
{
    if (kind == ESP01_FS_LITTLEFS) {
        esp01_lfs_config cfg;
        /* Inline limit and CTZ layout do not depend on the block count. */
        esp01_lfs_config_micropython(&cfg, 2);
        return esp01_lfs_file_blocks(&cfg, size);
    }
    /*
     * FAT: FatFs picks one 4 KiB sector per cluster for every partition an
     * ESP8266 can hold (up to 3835 blocks on 16 MiB; 2 only from 8192 on).
     */
    return (uint32_t)((size + 4095) / 4096);
}
