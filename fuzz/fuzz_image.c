/*
 * libFuzzer harness: the firmware image parser, then the layout table on
 * every chip size, the filesystem probe at each filesystem start, and the
 * header patch (which must not change the checksum or MD5 verdict).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/image.h"
#include "esp01/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_image_info info;
    esp01_err err;
    if (esp01_image_parse(data, size, &info, &err) < 0) {
        /* every failure carries a message */
        if (err.msg[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (info.firmware_len > size || info.segment_count > ESP01_IMAGE_MAX_SEGMENTS)
        __builtin_trap();
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++) {
        esp01_layout l;
        if (esp01_layout_for(&info, esp01_chip_sizes[i], &l, &err) < 0)
            break;
        if (l.has_fs) {
            /* the partition must sit between the firmware and the SDK area */
            if (l.fs_start < l.firmware_end ||
                l.fs_start + (uint64_t)l.fs_blocks * ESP01_SECTOR > l.sdk_start)
                __builtin_trap();
            (void)esp01_fs_probe_at(data, size, l.fs_start);
        }
    }
    /* Patching header bytes 2-3 must leave the checksum and MD5 verdicts
     * alone: neither covers them. */
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    esp01_image_info patched;
    if (esp01_image_patch_header(copy, size, ESP01_MODE_DOUT, ESP01_SIZE_4M,
                                 ESP01_FREQ_80M, &err) != 0 ||
        esp01_image_parse(copy, size, &patched, &err) != 0 ||
        patched.checksum_ok != info.checksum_ok || patched.md5_ok != info.md5_ok ||
        patched.flash_mode != ESP01_MODE_DOUT || patched.flash_size_code != ESP01_SIZE_4M)
        __builtin_trap();
    free(copy);
    return 0;
}
