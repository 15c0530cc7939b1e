/*
 * Image parser: v1 header, segment table, checksum, MicroPython trailer and
 * string-table facts.  Images are assembled here byte by byte; expected
 * values are worked out by hand from the format (esptool's image format
 * documentation and MicroPython's ports/esp8266/makeimg.py).
 */
#include "check.h"

#include <stdlib.h>

#include "util/bytes.h"
#include "esp01/hash.h"
#include "esp01/image.h"

/* E9, 2 segments, DIO, 1M/40m; entry 0x40100004; .text 8 bytes at
 * 0x40100000, .data 4 bytes at 0x3FFE8000; zero pad; checksum at 0x2F. */
static size_t tiny_v1(uint8_t *b)
{
    static const uint8_t img[] = {
        0xE9, 0x02, 0x02, 0x20, 0x04, 0x00, 0x10, 0x40,
        0x00, 0x00, 0x10, 0x40, 0x08, 0x00, 0x00, 0x00,
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x00, 0x80, 0xFE, 0x3F, 0x04, 0x00, 0x00, 0x00,
        0x10, 0x20, 0x30, 0x40,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* 0xEF^1^2^3^4^5^6^7^8 = 0xE7, ^0x10^0x20^0x30^0x40 = 0xA7 */
        0xA7,
    };
    memcpy(b, img, sizeof img);
    return sizeof img;
}

/* tiny_v1 + MicroPython trailer with `irom` bytes of irom0 holding `text`. */
static uint8_t *tiny_fw(size_t irom, const char *text, size_t extra, size_t *len)
{
    size_t n = 0x9000 + irom + 16 + extra;
    uint8_t *b = malloc(n);
    memset(b, 0xFF, n);
    tiny_v1(b);
    esp01_put_le32(b + 0x8FFC, (uint32_t)(0x9000 + irom));
    memset(b + 0x9000, 0x11, irom);
    if (text) {
        size_t tl = strlen(text) + 1;
        memcpy(b + 0x9000 + 64, text, tl);
    }
    esp01_md5(b + 4, 0x9000 + irom - 4, b + 0x9000 + irom);
    *len = n;
    return b;
}

TEST(header_and_segments)
{
    uint8_t b[64];
    size_t n = tiny_v1(b);
    esp01_image_info info;
    esp01_err e;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), 0);
    CHECK_EQ(info.segment_count, 2);
    CHECK_EQ(info.flash_mode, ESP01_MODE_DIO);
    CHECK_EQ(info.flash_size_code, ESP01_SIZE_1M);
    CHECK_EQ(info.flash_freq, ESP01_FREQ_40M);
    CHECK_EQ(info.entry, 0x40100004u);
    CHECK_EQ(info.segments[0].load_addr, 0x40100000u);
    CHECK_EQ(info.segments[0].length, 8);
    CHECK_EQ(info.segments[0].file_offset, 16);
    CHECK_EQ(info.segments[0].memory, ESP01_MEM_IRAM);
    CHECK_EQ(info.segments[1].load_addr, 0x3FFE8000u);
    CHECK_EQ(info.segments[1].file_offset, 32);
    CHECK_EQ(info.segments[1].memory, ESP01_MEM_DRAM);
    CHECK_EQ(info.v1_end, 48);
    CHECK_EQ(info.checksum_stored, 0xA7);
    CHECK_EQ(info.checksum_computed, 0xA7);
    CHECK(info.checksum_ok);
    CHECK(!info.has_irom);
    CHECK_EQ(info.firmware_len, n);
    CHECK(!info.is_flash_dump);
}

TEST(bad_checksum_is_reported_not_fatal)
{
    uint8_t b[64];
    size_t n = tiny_v1(b);
    b[47] = 0x00;
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK(!info.checksum_ok);
    CHECK_EQ(info.checksum_computed, 0xA7);
    /* Header bytes 2-3 are outside the checksum. */
    b[47] = 0xA7;
    b[2] = 3;
    b[3] = 0x4F;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK(info.checksum_ok);
}

TEST(format_errors_name_the_offset)
{
    uint8_t b[64];
    size_t n = tiny_v1(b);
    esp01_image_info info;
    esp01_err e;
    CHECK_EQ(esp01_image_parse(b, 0, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "empty") != NULL);
    CHECK_EQ(esp01_image_parse(b, 5, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "truncated") != NULL);
    /* checksum byte at 0x2F missing */
    CHECK_EQ(esp01_image_parse(b, 47, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "0x2F") != NULL);
    /* .data cut short */
    CHECK_EQ(esp01_image_parse(b, 34, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "segment 1 at 0x18") != NULL);

    b[0] = 0x7F;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "0x7F") != NULL);
    b[0] = 0xE9;

    b[1] = 17;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "17") != NULL);
    b[1] = 0;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), ESP01_E_FORMAT);
    b[1] = 2;

    esp01_put_le32(b + 28, 0xFFFFFFFCu); /* .data length past the end */
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "past the end") != NULL);
    esp01_put_le32(b + 28, 6); /* not a multiple of 4 */
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "multiple of 4") != NULL);
}

TEST(trailer_and_md5)
{
    size_t n;
    uint8_t *b = tiny_fw(0x400, "MicroPython v1.22.1 on 2024-01-05", 0, &n);
    esp01_image_info info;
    esp01_err e;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), 0);
    CHECK(info.has_irom);
    CHECK_EQ(info.length_word, 0x9400);
    CHECK_EQ(info.irom_len, 0x400);
    CHECK_EQ(info.firmware_len, 0x9410);
    CHECK(info.has_md5);
    CHECK(info.md5_ok);
    CHECK(!info.is_flash_dump);
    /* MD5 skips bytes 0-3 (makeimg.py), so patching the header keeps it. */
    CHECK_EQ(esp01_image_patch_header(b, n, ESP01_MODE_DOUT, ESP01_SIZE_4M,
                                      ESP01_FREQ_80M, &e), 0);
    CHECK_EQ(b[2], 3);
    CHECK_EQ(b[3], 0x4F);
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), 0);
    CHECK(info.md5_ok);
    CHECK(info.checksum_ok);
    /* A byte inside irom0 changes the digest. */
    b[0x9100] ^= 1;
    CHECK_EQ(esp01_image_parse(b, n, &info, &e), 0);
    CHECK(!info.md5_ok);
    /* Truncated inside the MD5 */
    CHECK_EQ(esp01_image_parse(b, n - 1, &info, &e), ESP01_E_FORMAT);
    CHECK(strstr(e.msg, "0x8FFC") != NULL);
    free(b);
}

TEST(flash_dump_is_longer_than_firmware)
{
    size_t n;
    uint8_t *b = tiny_fw(0x400, NULL, 0x1000, &n);
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK(info.is_flash_dump);
    CHECK_EQ(info.firmware_len, 0x9410);
    CHECK_EQ(info.file_len, 0x9410 + 0x1000);
    free(b);
}

TEST(version_and_variant_from_strings)
{
    static const struct {
        const char *text;
        const char *version;
        int major, minor, patch, dev;
        esp01_variant variant;
    } cases[] = {
        {"MicroPython v1.22.1 on 2024-01-05; ESP module (1M) with ESP8266",
         "v1.22.1 on 2024-01-05", 1, 22, 1, 0, ESP01_VARIANT_1M},
        {"MicroPython v1.9.4-8-ge5a3a2f on 2018-05-11; ESP module (512K) with ESP8266",
         "v1.9.4-8-ge5a3a2f on 2018-05-11", 1, 9, 4, 1, ESP01_VARIANT_512K},
        {"MicroPython v1.12 on 2019-12-20; ESP module with ESP8266 VfsFat asm_xtensa",
         "v1.12 on 2019-12-20", 1, 12, 0, 0, ESP01_VARIANT_GENERIC},
        {"MicroPython v1.24.0-preview.12.gabc on 2024-05-01; ESP module with ESP8266 VfsLfs2 asm_xtensa",
         "v1.24.0-preview.12.gabc on 2024-05-01", 1, 24, 0, 1, ESP01_VARIANT_GENERIC},
        /* v1.9-v1.11 512K builds: plain name, no inline assembler, no VFS
         * compiled in (the frozen inisetup.py still names VfsFat) */
        {"MicroPython v1.10 on 2019-01-25; ESP module with ESP8266 VfsFat",
         "v1.10 on 2019-01-25", 1, 10, 0, 0, ESP01_VARIANT_512K},
        {"MicroPython v1.25.0 on 2025-04-15; ESP module with ESP8266 VfsLfs2 VfsFat VfsRom",
         "v1.25.0 on 2025-04-15", 1, 25, 0, 0, ESP01_VARIANT_2M_ROMFS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *b = tiny_fw(0x400, cases[i].text, 0, &n);
        esp01_image_info info;
        CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
        CHECK_STR(info.version, cases[i].version);
        CHECK(info.has_version);
        CHECK_EQ(info.version_major, cases[i].major);
        CHECK_EQ(info.version_minor, cases[i].minor);
        CHECK_EQ(info.version_patch, cases[i].patch);
        CHECK_EQ(info.version_dev, cases[i].dev);
        CHECK_EQ(info.variant, cases[i].variant);
        if (info.variant == ESP01_VARIANT_512K)
            CHECK(!info.has_vfs_fat && !info.has_vfs_lfs2);
        free(b);
    }
}

TEST(split_banner_strings)
{
    /* "MicroPython " and the uname() version as two literals. */
    size_t n;
    uint8_t *b = tiny_fw(0x400, NULL, 0, &n);
    static const char lit[] = "MicroPython \0\x03v1.19.1 on 2022-06-18\0ESP module (1M)\0VfsLfs2";
    memcpy(b + 0x9000 + 100, lit, sizeof lit);
    esp01_md5(b + 4, 0x9400 - 4, b + 0x9400);
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK_STR(info.version, "v1.19.1 on 2022-06-18");
    CHECK_EQ(info.variant, ESP01_VARIANT_1M);
    CHECK_STR(info.board, "ESP module (1M)");
    CHECK(info.has_vfs_lfs2);
    CHECK(!info.has_vfs_fat);
    CHECK(info.md5_ok);
    free(b);
}

TEST(strings_after_the_firmware_do_not_count)
{
    /* A flash dump whose filesystem holds text must not change the verdict. */
    size_t n;
    uint8_t *b = tiny_fw(0x400, "MicroPython v1.22.1 on 2024-01-05", 0x1000, &n);
    memcpy(b + 0x9410 + 8, "ESP module (1M) VfsFat", 22);
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK_EQ(info.variant, ESP01_VARIANT_UNKNOWN);
    CHECK(!info.has_vfs_fat);
    free(b);
}

TEST(irom_link_address_from_literal_pools)
{
    /* 0x4000 bytes of irom0 = 4096 words; a pointer every 16 words. */
    size_t n;
    uint8_t *b = tiny_fw(0x4000, NULL, 0, &n);
    for (size_t k = 0; k < 0x4000; k += 64)
        esp01_put_le32(b + 0x9000 + k, 0x40209000u + (uint32_t)k);
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK_EQ(info.irom_link, 0x40209000u);
    /* esp8266_ota.ld: org 0x40200000 + 0x3c000 + 0x9000 */
    for (size_t k = 0; k < 0x4000; k += 64)
        esp01_put_le32(b + 0x9000 + k, 0x40245000u + (uint32_t)k);
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK_EQ(info.irom_link, 0x40245000u);
    /* no evidence either way */
    memset(b + 0x9000, 0x11, 0x4000);
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK_EQ(info.irom_link, 0);
    free(b);
}

TEST(ota_bundle)
{
    /* yaota8266 image at 0, MicroPython firmware image at 0x3C000 */
    size_t fn;
    uint8_t *f = tiny_fw(0x400, NULL, 0, &fn);
    size_t n = 0x3C000 + fn;
    uint8_t *b = malloc(n);
    memset(b, 0xFF, 0x3C000);
    tiny_v1(b);
    memcpy(b + 0x3C000, f, fn);
    esp01_image_info info;
    CHECK_EQ(esp01_image_parse(b, n, &info, NULL), 0);
    CHECK(!info.has_irom);
    CHECK(info.ota_bundle);
    free(b);
    free(f);
}

TEST(name_helpers)
{
    CHECK_STR(esp01_flash_mode_name(ESP01_MODE_DOUT), "dout");
    CHECK_EQ(esp01_flash_mode_parse("QIO"), 0);
    CHECK(esp01_flash_mode_parse("fast") < 0);
    CHECK(esp01_flash_mode_name(4) == NULL);
    CHECK_EQ(esp01_flash_freq_parse("80m"), 0xF);
    CHECK_EQ(esp01_flash_freq_parse("26"), 1);
    CHECK(esp01_flash_freq_parse("50m") < 0);
    CHECK_STR(esp01_flash_freq_name(2), "20m");
    CHECK_EQ(esp01_flash_size_bytes(ESP01_SIZE_512K), 524288);
    CHECK_EQ(esp01_flash_size_bytes(ESP01_SIZE_16M), 16777216);
    CHECK_EQ(esp01_flash_size_bytes(7), 0);
    CHECK_EQ(esp01_flash_size_code(2u << 20), ESP01_SIZE_2M);
    CHECK(esp01_flash_size_code(3u << 20) < 0);
    CHECK_EQ(esp01_flash_size_parse("4MB"), ESP01_SIZE_4M);
    CHECK_EQ(esp01_flash_size_parse("512k"), ESP01_SIZE_512K);
    CHECK(esp01_flash_size_parse("3M") < 0);
    CHECK_STR(esp01_flash_size_name(ESP01_SIZE_2M_C1), "2M-c1");
    CHECK_EQ(esp01_memory_of(0x4010FFFFu), ESP01_MEM_IRAM);
    CHECK_EQ(esp01_memory_of(0x40110000u), ESP01_MEM_UNKNOWN);
    CHECK_EQ(esp01_memory_of(0x3FFE7FFFu), ESP01_MEM_UNKNOWN);
    CHECK_EQ(esp01_memory_of(0x40209000u), ESP01_MEM_IROM);
    CHECK_STR(esp01_variant_name(ESP01_VARIANT_GENERIC), "2M+");
    CHECK_EQ(esp01_variant_parse("1m"), ESP01_VARIANT_1M);
    CHECK(esp01_variant_parse("3M") < 0);
}

TEST(patch_header_rejects_bad_values)
{
    uint8_t b[64];
    size_t n = tiny_v1(b);
    esp01_err e;
    CHECK_EQ(esp01_image_patch_header(b, n, 4, 2, 0, &e), ESP01_E_INVAL);
    CHECK_EQ(esp01_image_patch_header(b, n, 0, 7, 0, &e), ESP01_E_INVAL);
    CHECK_EQ(esp01_image_patch_header(b, n, 0, 2, 3, &e), ESP01_E_INVAL);
    CHECK_EQ(b[2], 2);
    b[0] = 0;
    CHECK_EQ(esp01_image_patch_header(b, n, 0, 2, 0, &e), ESP01_E_FORMAT);
}

TEST(frozen_module_names)
{
    /* A lone "main.py" in code, then the frozen list as makemanifest.py
     * lays it out, then the end of the run. */
    static const uint8_t fw[] = "xx\0main.py\0code\0_boot.py\0ntptime.py\0"
                                "umqtt/simple.py\0dht.py\0onewire/__init__.py\0\0tail";
    char names[8][ESP01_FROZEN_NAME_MAX];
    size_t n = esp01_image_frozen_modules(fw, sizeof fw, names, 8);
    CHECK_EQ(n, 5u);
    CHECK(strcmp(names[0], "_boot") == 0);
    CHECK(strcmp(names[1], "ntptime") == 0);
    CHECK(strcmp(names[2], "umqtt.simple") == 0);
    CHECK(strcmp(names[4], "onewire") == 0);
    CHECK_EQ(esp01_image_frozen_modules(fw, sizeof fw, names, 2), 2u);
    static const uint8_t two[] = "\0main.py\0boot.py\0";
    CHECK_EQ(esp01_image_frozen_modules(two, sizeof two, names, 8), 0u);
    CHECK_EQ(esp01_image_frozen_modules(fw, 0, names, 8), 0u);
}

int main(void)
{
    RUN(header_and_segments);
    RUN(bad_checksum_is_reported_not_fatal);
    RUN(format_errors_name_the_offset);
    RUN(trailer_and_md5);
    RUN(flash_dump_is_longer_than_firmware);
    RUN(version_and_variant_from_strings);
    RUN(split_banner_strings);
    RUN(strings_after_the_firmware_do_not_count);
    RUN(irom_link_address_from_literal_pools);
    RUN(ota_bundle);
    RUN(name_helpers);
    RUN(patch_header_rejects_bad_values);
    RUN(frozen_module_names);
    CHECK_DONE();
}
