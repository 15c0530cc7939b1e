/*
 * Layout table.  Expected numbers are worked out by hand from MicroPython's
 * sources at the tag named in each case:
 *   irom0 end = ORIGIN(irom0_0_seg) + LENGTH(irom0_0_seg) - 0x40200000
 *   (esp8266_common.ld _firmware_size), FS per modules/flashbdev.py.
 * The real MicroPython filesystem fixtures in $SHARED/fixtures/fs were
 * written by a 1M build on a 1 MiB chip: their manifest says 98 blocks.
 */
#include "check.h"

#include "esp01/fileio.h"
#include "esp01/layout.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static esp01_image_info fw(esp01_variant v, int minor, int patch, const char *ver,
                           bool dev, uint32_t irom_len)
{
    esp01_image_info i;
    memset(&i, 0, sizeof i);
    i.has_irom = true;
    i.irom_len = irom_len;
    i.length_word = 0x9000 + irom_len;
    i.firmware_len = 0x9000 + irom_len + 16;
    i.file_len = i.firmware_len;
    i.has_version = true;
    i.version_major = 1;
    i.version_minor = (uint8_t)minor;
    i.version_patch = (uint8_t)patch;
    i.version_dev = dev;
    snprintf(i.version, sizeof i.version, "%s", ver);
    i.variant = v;
    return i;
}

TEST(esp01_1m_today)
{
    /* v1.22.1 boards/esp8266_1MiB.ld: irom0 org 0x40209000 len 572K ->
     * ends 0x98000; flashbdev.py: start_sec 0x98 < 256 so +1 -> 0x99000;
     * blocks = (1048576 - 20480) / 4096 - 153 = 251 - 153 = 98. */
    esp01_image_info i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), 0);
    CHECK(l.runs);
    CHECK(l.has_fs);
    CHECK_EQ(l.user_start, 0x98000);
    CHECK_EQ(l.reserved_start, 0x98000);
    CHECK_EQ(l.fs_start, 0x99000);
    CHECK_EQ(l.fs_blocks, 98);
    CHECK_EQ(l.sdk_start, 0xFB000);
    CHECK_EQ(l.fs_default, ESP01_FS_LITTLEFS);
    CHECK_EQ(l.firmware_end, 0x95010);
    /* Same build on a 4 MiB chip: (4194304-20480)/4096 - 153 = 1019 - 153. */
    CHECK_EQ(esp01_layout_for(&i, 4 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_start, 0x99000);
    CHECK_EQ(l.fs_blocks, 866);
    /* ...and it cannot run on 512 KiB: irom0 region ends at 0x98000. */
    CHECK_EQ(esp01_layout_for(&i, 512 * KiB, &l, &e), 0);
    CHECK(!l.runs);
    CHECK(!l.has_fs);
    CHECK(strstr(l.why_not, "1 MiB") != NULL);
}

TEST(matches_real_micropython_fixture)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fixtures/fs/manifest.json", check_shared());
    uint8_t *m;
    size_t n;
    esp01_err e;
    CHECK_EQ(esp01_read_file(path, 1 << 20, &m, &n, &e), 0);
    if (check_case_failed)
        return;
    /* lfs2-esp01-*.img: "block_count": 98 as the device reported it */
    char *s = malloc(n + 1);
    memcpy(s, m, n);
    s[n] = '\0';
    char *img = strstr(s, "\"lfs2-esp01-fresh.img\"");
    CHECK(img != NULL);
    esp01_image_info i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    esp01_layout l;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), 0);
    char want[40];
    snprintf(want, sizeof want, "\"block_count\": %u", (unsigned)l.fs_blocks);
    /* the entry for that image carries the same block count */
    char *entry = s;
    for (char *p = s; p && p < img; p = strstr(p + 1, "\"statvfs_free_blocks\""))
        entry = p;
    CHECK(strstr(entry, want) != NULL && strstr(entry, want) < img);
    free(s);
    free(m);
}

TEST(generic_2m_today)
{
    /* v1.22.1 boards/esp8266_2MiB.ld: len 1M - 36K -> ends 0x100000;
     * start_sec 256 is not < 256: no reserved sector.
     * 2 MiB: (2097152-20480)/4096 - 256 = 507 - 256 = 251. */
    esp01_image_info i = fw(ESP01_VARIANT_GENERIC, 22, 1, "v1.22.1 on 2024-01-05", false, 0x96000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 2 * MiB, &l, &e), 0);
    CHECK(l.has_fs);
    CHECK_EQ(l.user_start, 0x100000);
    CHECK_EQ(l.reserved_start, 0);
    CHECK_EQ(l.fs_start, 0x100000);
    CHECK_EQ(l.fs_blocks, 251);
    CHECK_EQ(esp01_layout_for(&i, 16 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_blocks, 4091 - 256);
    /* On 1 MiB it boots, but the formula starts the filesystem at the
     * chip's end (esp8266-facts 3): no filesystem at all. */
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), 0);
    CHECK(l.runs);
    CHECK(!l.has_fs);
    CHECK_EQ(l.fs_blocks, 0);
    CHECK(strstr(l.why_not, "boots to the REPL") != NULL);
    CHECK(strstr(l.why_not, "0x100000, past the end of a 1 MiB chip") != NULL);
    CHECK(strstr(l.why_not, "nothing saved survives a reset") != NULL);
    /* ...and on 512 KiB it cannot run at all. */
    CHECK_EQ(esp01_layout_for(&i, 512 * 1024, &l, &e), 0);
    CHECK(!l.runs);
}

TEST(generic_before_v1_13)
{
    /* v1.9.4 ports/esp8266/esp8266.ld: irom0 len 0x8f000 -> ends 0x98000;
     * flashbdev.py: START_SEC = 0x98 + RESERVED_SECS(1) = 0x99 for every
     * chip size; inisetup.py: uos.VfsFat.mkfs(bdev).
     * 4 MiB: 1019 - 153 = 866 blocks at 0x99000. */
    esp01_image_info i = fw(ESP01_VARIANT_GENERIC, 9, 4, "v1.9.4 on 2018-05-11", false, 0x8B000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 4 * MiB, &l, &e), 0);
    CHECK(l.has_fs);
    CHECK_EQ(l.user_start, 0x98000);
    CHECK_EQ(l.fs_start, 0x99000);
    CHECK_EQ(l.fs_blocks, 866);
    CHECK_EQ(l.fs_default, ESP01_FS_FAT);
    /* 1 MiB: 98 blocks, like today's 1M build */
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_blocks, 98);
    /* A build between v1.11 and v1.12 is covered: both ends agree. */
    i = fw(ESP01_VARIANT_GENERIC, 11, 0, "v1.11-300-gabc on 2019-09-01", true, 0x8B000);
    CHECK_EQ(esp01_layout_for(&i, 4 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_default, ESP01_FS_FAT);
}

TEST(between_v1_12_and_v1_13_is_refused)
{
    /* v1.13 moved the 2M+ build to 0x100000 and littlefs; a development
     * build after v1.12 could have either layout. */
    esp01_image_info i = fw(ESP01_VARIANT_GENERIC, 12, 0, "v1.12-600-gabc on 2020-06-01", true, 0x8B000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 4 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "v1.12-600") != NULL);
    CHECK(!l.runs);
}

TEST(unknown_is_never_guessed)
{
    esp01_layout l;
    esp01_err e;
    /* before v1.9 */
    esp01_image_info i = fw(ESP01_VARIANT_GENERIC, 8, 7, "v1.8.7 on 2017-01-08", false, 0x8B000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    /* a release newer than the sources read */
    i = fw(ESP01_VARIANT_1M, 30, 0, "v1.30.0 on 2027-01-01", false, 0x8C000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "v1.30.0") != NULL);
    /* the v1.29.0 preview (master 1c3c201) is covered */
    i = fw(ESP01_VARIANT_1M, 29, 0, "v1.29.0-preview.731.g1c3c201149 on 2026-08-19", true, 0x8C000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_blocks, 98);
    /* no "(1M)" build existed before v1.13 */
    i = fw(ESP01_VARIANT_1M, 12, 0, "v1.12 on 2019-12-20", false, 0x8C000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    /* no variant, no version, no trailer */
    i = fw(ESP01_VARIANT_UNKNOWN, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    i = fw(ESP01_VARIANT_1M, 22, 1, "", false, 0x8C000);
    i.has_version = false;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    i.has_irom = false;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    /* irom0 longer than the 1M linker script allows: custom build */
    i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x90000);
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    /* OTA builds: irom0 linked behind yaota8266 (esp8266_ota.ld) */
    i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    i.irom_link = 0x40245000u;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "OTA") != NULL);
    i.irom_link = 0;
    i.has_irom = false;
    i.ota_bundle = true;
    CHECK_EQ(esp01_layout_for(&i, 1 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "OTA") != NULL);
    /* chip sizes other than the six */
    i = fw(ESP01_VARIANT_1M, 22, 1, "v1.22.1 on 2024-01-05", false, 0x8C000);
    CHECK_EQ(esp01_layout_for(&i, 3 * MiB, &l, &e), ESP01_E_INVAL);
}

TEST(variant_512k_has_no_filesystem)
{
    /* boards/esp8266_512kiB.ld: len 512K - 36K - 20K = 0x72000 -> 0x7B000,
     * exactly the SDK area of a 512 KiB chip; the variant's _boot.py sets
     * up no block device. */
    esp01_image_info i = fw(ESP01_VARIANT_512K, 22, 1, "v1.22.1 on 2024-01-05", false, 0x6A000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 512 * KiB, &l, &e), 0);
    CHECK(l.runs);
    CHECK(!l.has_fs);
    CHECK_EQ(l.user_start, 0x7B000);
    CHECK_EQ(l.sdk_start, 0x7B000);
    CHECK(strstr(l.why_not, "no filesystem") != NULL);
    CHECK_EQ(esp01_layout_for(&i, 4 * MiB, &l, &e), 0);
    CHECK(l.runs);
    CHECK(!l.has_fs);
}

TEST(romfs_variant)
{
    /* v1.25.0 boards/esp8266_2MiB_ROMFS.ld: irom0 len 1M - 36K - 320K ->
     * ends 0xB0000; FLASH_ROMFS org 0x402b0000 len 320K; modesp.c adds the
     * ROMFS size to flash_user_start -> 0x100000, start_sec 256. */
    esp01_image_info i = fw(ESP01_VARIANT_2M_ROMFS, 25, 0, "v1.25.0 on 2025-04-15", false, 0x96000);
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for(&i, 2 * MiB, &l, &e), 0);
    CHECK_EQ(l.romfs_start, 0xB0000);
    CHECK_EQ(l.romfs_size, 0x50000);
    CHECK_EQ(l.user_start, 0x100000);
    CHECK_EQ(l.fs_start, 0x100000);
    CHECK_EQ(l.fs_blocks, 251);
    CHECK_EQ(l.reserved_start, 0);
    i = fw(ESP01_VARIANT_2M_ROMFS, 24, 1, "v1.24.1 on 2024-11-29", false, 0x96000);
    CHECK_EQ(esp01_layout_for(&i, 2 * MiB, &l, &e), ESP01_E_UNSUPPORTED);
}

TEST(layout_for_variant_is_today)
{
    esp01_layout l;
    esp01_err e;
    CHECK_EQ(esp01_layout_for_variant(ESP01_VARIANT_1M, 1 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_start, 0x99000);
    CHECK_EQ(l.fs_blocks, 98);
    CHECK_EQ(l.fs_default, ESP01_FS_LITTLEFS);
    CHECK_EQ(esp01_layout_for_variant(ESP01_VARIANT_GENERIC, 4 * MiB, &l, &e), 0);
    CHECK_EQ(l.fs_start, 0x100000);
    CHECK_EQ(l.fs_blocks, 1019 - 256);
    CHECK_EQ(l.fs_default, ESP01_FS_LITTLEFS);
    CHECK_EQ(esp01_layout_for_variant(ESP01_VARIANT_UNKNOWN, 1 * MiB, &l, &e),
             ESP01_E_UNSUPPORTED);
}

TEST(fs_detect)
{
    static uint8_t b[3 * 4096];
    memset(b, 0xFF, sizeof b);
    CHECK_EQ(esp01_fs_probe_at(b, sizeof b, 4096), ESP01_PROBE_ERASED);
    CHECK_EQ(esp01_fs_probe_at(b, sizeof b, 3 * 4096), ESP01_PROBE_PAST_END);
    memcpy(b + 4096 + 4096 + 8, "littlefs", 8); /* block 1 only */
    CHECK_EQ(esp01_fs_probe_at(b, sizeof b, 4096), ESP01_PROBE_LITTLEFS);
    memset(b, 0, sizeof b);
    b[0] = 0xEB;
    memcpy(b + 54, "FAT12   ", 8);
    b[510] = 0x55;
    b[511] = 0xAA;
    CHECK_EQ(esp01_fs_probe_at(b, sizeof b, 0), ESP01_PROBE_FAT);
    b[511] = 0;
    CHECK_EQ(esp01_fs_probe_at(b, sizeof b, 0), ESP01_PROBE_OTHER);
}

int main(void)
{
    RUN(esp01_1m_today);
    RUN(matches_real_micropython_fixture);
    RUN(generic_2m_today);
    RUN(generic_before_v1_13);
    RUN(between_v1_12_and_v1_13_is_refused);
    RUN(unknown_is_never_guessed);
    RUN(variant_512k_has_no_filesystem);
    RUN(romfs_variant);
    RUN(layout_for_variant_is_today);
    RUN(fs_detect);
    CHECK_DONE();
}
