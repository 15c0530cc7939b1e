/*
 * image.c - ESP8266 v1 boot images with MicroPython's irom0 trailer.
 *
 * Layout written by MicroPython's ports/esp8266/makeimg.py (unchanged in
 * substance from v1.9 to v1.28.0): the v1 image (header, segments, XOR
 * checksum) padded with 0xFF to 0x8FFC, the LE length word 0x9000 + irom0
 * length, the irom0 text, then the MD5 of everything from byte 4 up to the
 * end of irom0.  modesp.c's esp.check_fw() verifies the same digest.
 */
#include "esp01/image.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/bytes.h"
#include "esp01/hash.h"

/* check_fw() refuses a length word above 1 MiB; irom0 is mapped in a 1 MiB
 * window, so no real firmware is longer. */
#define IROM_MAX_END 0x100000u

static const char *const mode_names[] = {"qio", "qout", "dio", "dout"};

const char *esp01_flash_mode_name(int mode)
{
    if (mode < 0 || mode > 3)
        return NULL;
    return mode_names[mode];
}

int esp01_flash_mode_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp(name, mode_names[i]) == 0)
            return i;
    return ESP01_E_INVAL;
}

static const struct {
    int code;
    const char *name;
} freqs[] = {
    {ESP01_FREQ_40M, "40m"},
    {ESP01_FREQ_26M, "26m"},
    {ESP01_FREQ_20M, "20m"},
    {ESP01_FREQ_80M, "80m"},
};

const char *esp01_flash_freq_name(int freq)
{
    for (size_t i = 0; i < sizeof freqs / sizeof freqs[0]; i++)
        if (freqs[i].code == freq)
            return freqs[i].name;
    return NULL;
}

int esp01_flash_freq_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof freqs / sizeof freqs[0]; i++) {
        if (strcasecmp(name, freqs[i].name) == 0)
            return freqs[i].code;
        /* "40" and "40mhz" are what people type too */
        size_t n = strlen(freqs[i].name) - 1;
        if (strncmp(name, freqs[i].name, n) == 0 &&
            (name[n] == '\0' || strcasecmp(name + n, "mhz") == 0))
            return freqs[i].code;
    }
    return ESP01_E_INVAL;
}

static const struct {
    int code;
    uint32_t bytes;
    const char *name;
} sizes[] = {
    {ESP01_SIZE_512K, 512u * 1024, "512K"},
    {ESP01_SIZE_256K, 256u * 1024, "256K"},
    {ESP01_SIZE_1M, 1u << 20, "1M"},
    {ESP01_SIZE_2M, 2u << 20, "2M"},
    {ESP01_SIZE_4M, 4u << 20, "4M"},
    {ESP01_SIZE_2M_C1, 2u << 20, "2M-c1"},
    {ESP01_SIZE_4M_C1, 4u << 20, "4M-c1"},
    {ESP01_SIZE_8M, 8u << 20, "8M"},
    {ESP01_SIZE_16M, 16u << 20, "16M"},
};
#define SIZE_COUNT (sizeof sizes / sizeof sizes[0])

uint32_t esp01_flash_size_bytes(int size_code)
{
    for (size_t i = 0; i < SIZE_COUNT; i++)
        if (sizes[i].code == size_code)
            return sizes[i].bytes;
    return 0;
}

int esp01_flash_size_code(uint32_t bytes)
{
    /* The table lists the plain code before the -c1 layouts. */
    for (size_t i = 0; i < SIZE_COUNT; i++)
        if (sizes[i].bytes == bytes)
            return sizes[i].code;
    return ESP01_E_INVAL;
}

const char *esp01_flash_size_name(int size_code)
{
    for (size_t i = 0; i < SIZE_COUNT; i++)
        if (sizes[i].code == size_code)
            return sizes[i].name;
    return NULL;
}

int esp01_flash_size_parse(const char *name)
{
    if (!name)
        return ESP01_E_INVAL;
    for (size_t i = 0; i < SIZE_COUNT; i++) {
        size_t n = strlen(sizes[i].name);
        if (strncasecmp(name, sizes[i].name, n) != 0)
            continue;
        const char *rest = name + n;
        if (*rest == '\0' || strcasecmp(rest, "B") == 0 ||
            strcasecmp(rest, "iB") == 0)
            return sizes[i].code;
    }
    return ESP01_E_INVAL;
}

const char *esp01_memory_name(esp01_memory mem)
{
    switch (mem) {
    case ESP01_MEM_IRAM: return "IRAM";
    case ESP01_MEM_DRAM: return "DRAM";
    case ESP01_MEM_IROM: return "IROM";
    default: return "unknown";
    }
}

esp01_memory esp01_memory_of(uint32_t a)
{
    if (a >= 0x40100000u && a <= 0x4010FFFFu)
        return ESP01_MEM_IRAM;
    if (a >= 0x3FFE8000u && a <= 0x3FFFFFFFu)
        return ESP01_MEM_DRAM;
    if (a >= 0x40200000u && a < 0x40300000u)
        return ESP01_MEM_IROM;
    return ESP01_MEM_UNKNOWN;
}

static const char *const variant_names[] = {"unknown", "512K", "1M", "2M+",
                                            "2M-ROMFS"};

const char *esp01_variant_name(esp01_variant v)
{
    if ((int)v < 0 || (size_t)v >= sizeof variant_names / sizeof variant_names[0])
        return variant_names[0];
    return variant_names[v];
}

int esp01_variant_parse(const char *name)
{
    if (!name)
        return ESP01_E_INVAL;
    for (int i = 1; i < (int)(sizeof variant_names / sizeof variant_names[0]); i++)
        if (strcasecmp(name, variant_names[i]) == 0)
            return i;
    if (strcasecmp(name, "generic") == 0 || strcasecmp(name, "2M") == 0)
        return ESP01_VARIANT_GENERIC;
    if (strcasecmp(name, "romfs") == 0)
        return ESP01_VARIANT_2M_ROMFS;
    return ESP01_E_INVAL;
}

/* The bytes that belong to the firmware: everything up to the end of the
 * MD5 trailer, or the whole file when there is no trailer. */
static size_t firmware_extent(size_t len, const esp01_image_info *info)
{
    return info->has_irom && info->firmware_len <= len ? info->firmware_len : len;
}

static const uint8_t *find(const uint8_t *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > hay_len)
        return NULL;
    const uint8_t *p = hay, *last = hay + (hay_len - n);
    while (p <= last) {
        p = memchr(p, (unsigned char)needle[0], (size_t)(last - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Read a decimal number of 1-3 digits at p[*i]. */
static bool read_num(const uint8_t *p, size_t n, size_t *i, unsigned *out)
{
    unsigned v = 0;
    size_t start = *i;
    while (*i < n && is_digit(p[*i]) && *i - start < 3)
        v = v * 10 + (unsigned)(p[(*i)++] - '0');
    if (*i == start || (*i < n && is_digit(p[*i])))
        return false;
    *out = v;
    return true;
}

static bool is_tag_char(uint8_t c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '+';
}

/*
 * Match "v1.22.1 on 2024-01-05" (or "v1.12-340-gabc on ...") at p: the
 * version as MICROPY_GIT_TAG " on " MICROPY_BUILD_DATE builds it for the
 * banner and os.uname().  Fills the version fields of `info` on success.
 */
static bool match_version(const uint8_t *p, size_t n, esp01_image_info *info)
{
    size_t i = 0;
    unsigned major, minor, patch = 0;
    if (n < 2 || p[i++] != 'v' || !read_num(p, n, &i, &major) || major > 255)
        return false;
    if (i >= n || p[i++] != '.' || !read_num(p, n, &i, &minor) || minor > 255)
        return false;
    if (i + 1 < n && p[i] == '.' && is_digit(p[i + 1])) {
        i++;
        if (!read_num(p, n, &i, &patch) || patch > 255)
            return false;
    }
    size_t tag_end = i;
    while (tag_end < n && is_tag_char(p[tag_end]) && tag_end < 48)
        tag_end++;
    static const char on[] = " on ";
    size_t d = tag_end + sizeof on - 1;
    if (d + 10 > n || memcmp(p + tag_end, on, sizeof on - 1) != 0)
        return false;
    /* YYYY-MM-DD */
    for (size_t k = 0; k < 10; k++) {
        bool dash = k == 4 || k == 7;
        if (dash ? p[d + k] != '-' : !is_digit(p[d + k]))
            return false;
    }
    size_t text_len = d + 10;
    if (text_len >= sizeof info->version)
        return false;
    memcpy(info->version, p, text_len);
    info->version[text_len] = '\0';
    info->has_version = true;
    info->version_major = (uint8_t)major;
    info->version_minor = (uint8_t)minor;
    info->version_patch = (uint8_t)patch;
    info->version_dev = tag_end > i; /* "-preview...", "-340-gabc", "-dirty" */
    return true;
}

/* The version banner: "MicroPython v1.xx... on DATE" where the string is
 * whole, else the uname() form "v1.xx... on DATE" wherever it stands (some
 * builds keep "MicroPython " as a separate literal). */
static void find_version(const uint8_t *fw, size_t n, esp01_image_info *info)
{
    static const char mp[] = "MicroPython v";
    const uint8_t *end = fw + n;
    for (const uint8_t *p = find(fw, n, mp); p;
         p = find(p + 1, (size_t)(end - p - 1), mp)) {
        const uint8_t *v = p + sizeof mp - 2;
        if (match_version(v, (size_t)(end - v), info))
            return;
    }
    for (const uint8_t *p = find(fw, n, "v1."); p;
         p = find(p + 1, (size_t)(end - p - 1), "v1.")) {
        /* No check of the byte before: code or another literal may end
         * right there.  The " on YYYY-MM-DD" tail is what makes a match. */
        if (match_version(p, (size_t)(end - p), info))
            return;
    }
}

/* MICROPY_HW_BOARD_NAME: "ESP module", "ESP module (1M)", "ESP module (512K)". */
static void find_board(const uint8_t *fw, size_t n, esp01_image_info *info)
{
    static const char base[] = "ESP module";
    static const struct {
        const char *suffix;
        esp01_variant variant;
    } named[] = {{" (512K)", ESP01_VARIANT_512K}, {" (1M)", ESP01_VARIANT_1M}};
    bool plain = false;
    const uint8_t *end = fw + n;
    for (const uint8_t *p = find(fw, n, base); p;
         p = find(p + 1, (size_t)(end - p - 1), base)) {
        const uint8_t *after = p + sizeof base - 1;
        size_t left = (size_t)(end - after);
        for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
            size_t sl = strlen(named[k].suffix);
            if (left >= sl && memcmp(after, named[k].suffix, sl) == 0) {
                info->variant = named[k].variant;
                snprintf(info->board, sizeof info->board, "%s%s", base,
                         named[k].suffix);
                return;
            }
        }
        plain = true;
    }
    if (!plain)
        return;
    snprintf(info->board, sizeof info->board, "%s", base);
    /* The plain name covers several builds.  A 2 MiB ROMFS build compiles
     * in VfsRom (v1.25+).  Every generic build has the Xtensa inline
     * assembler (MICROPY_EMIT_INLINE_XTENSA 1), whose decorator name
     * "asm_xtensa" is a qstr; the 512K build of v1.9-v1.11, also called
     * "ESP module", has neither it nor any VFS (mpconfigport_512k.h):
     * its "VfsFat" text comes only from the frozen inisetup.py. */
    if (info->has_romfs) {
        info->variant = ESP01_VARIANT_2M_ROMFS;
    } else if (find(fw, n, "asm_xtensa")) {
        info->variant = ESP01_VARIANT_GENERIC;
    } else {
        info->variant = ESP01_VARIANT_512K;
        info->has_vfs_fat = false;
        info->has_vfs_lfs2 = false;
    }
}

#define IROM_LINK_STD 0x40209000u
#define IROM_LINK_OTA 0x40245000u /* 0x40200000 + 0x3c000 + 0x9000 */
#define OTA_FIRMWARE_OFFSET 0x3C000u

/*
 * Which address irom0 was linked at.  Xtensa code loads addresses from
 * literal pools, so irom0 is full of words pointing into itself.  Words in
 * [0x40209000, 0x40245000) can only point into a standard build's irom0;
 * words in [0x40209000 + len, 0x40245000 + len) only into an OTA build's.
 */
static uint32_t irom_link_of(const uint8_t *irom, uint32_t irom_len)
{
    uint32_t std = 0, ota = 0;
    for (uint32_t i = 0; i + 4 <= irom_len; i += 4) {
        uint32_t w = esp01_le32(irom + i);
        if (w >= IROM_LINK_STD && w < IROM_LINK_OTA)
            std++;
        else if (w >= IROM_LINK_STD + irom_len && w < IROM_LINK_OTA + irom_len)
            ota++;
    }
    if (std >= 64 && std > 8 * ota)
        return IROM_LINK_STD;
    if (ota >= 64 && ota > 8 * std)
        return IROM_LINK_OTA;
    return 0;
}

/* yaota8266 at 0x0 and a MicroPython firmware image at 0x3C000. */
static bool is_ota_bundle(const uint8_t *buf, size_t len)
{
    bool ok = true;
    uint32_t word = esp01_le32_at(buf, len, OTA_FIRMWARE_OFFSET + ESP01_IROM_LEN_WORD, &ok);
    return ok && buf[OTA_FIRMWARE_OFFSET] == ESP01_IMAGE_MAGIC &&
           word >= ESP01_IROM_OFFSET && word <= IROM_MAX_END &&
           OTA_FIRMWARE_OFFSET + (size_t)word <= len;
}

int esp01_image_parse(const uint8_t *buf, size_t len, esp01_image_info *info,
                      esp01_err *err)
{
    memset(info, 0, sizeof *info);
    info->file_len = len;
    if (len == 0)
        return esp01_fail(err, ESP01_E_FORMAT, "empty file");
    if (buf[0] != ESP01_IMAGE_MAGIC)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "not an ESP8266 firmware image: byte at 0x0 is 0x%02X, expected 0xE9",
                          buf[0]);
    if (len < 8)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "truncated: the image header needs 8 bytes, the file has %zu",
                          len);

    esp01_rd r = esp01_rd_init(buf, len);
    esp01_rd_u8(&r);
    info->segment_count = esp01_rd_u8(&r);
    info->flash_mode = esp01_rd_u8(&r);
    uint8_t sf = esp01_rd_u8(&r);
    info->flash_size_code = sf >> 4;
    info->flash_freq = sf & 15;
    info->entry = esp01_rd_le32(&r);
    if (info->segment_count == 0 || info->segment_count > ESP01_IMAGE_MAX_SEGMENTS)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "bad segment count %u at 0x1 (1-%d allowed)",
                          info->segment_count, ESP01_IMAGE_MAX_SEGMENTS);

    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < info->segment_count; i++) {
        size_t hdr = r.off;
        esp01_segment *s = &info->segments[i];
        s->load_addr = esp01_rd_le32(&r);
        s->length = esp01_rd_le32(&r);
        if (r.bad)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "truncated: segment %u header at 0x%zX runs past the end of the file (%zu bytes)",
                              i, hdr, len);
        s->file_offset = (uint32_t)r.off;
        s->memory = esp01_memory_of(s->load_addr);
        if (s->length % 4 != 0)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "segment %u at 0x%zX: length 0x%X is not a multiple of 4",
                              i, hdr, (unsigned)s->length);
        const uint8_t *data = esp01_rd_take(&r, s->length);
        if (!data)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "segment %u at 0x%zX: %u bytes of data run past the end of the file (%zu bytes)",
                              i, hdr, (unsigned)s->length, len);
        for (uint32_t k = 0; k < s->length; k++)
            sum ^= data[k];
    }
    /* Zero padding so that the checksum byte sits at offset 15 mod 16. */
    size_t ck = r.off | 15u;
    if (ck >= len)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "truncated: the checksum byte at 0x%zX is past the end of the file (%zu bytes)",
                          ck, len);
    info->checksum_stored = buf[ck];
    info->checksum_computed = sum;
    info->checksum_ok = buf[ck] == sum;
    info->v1_end = ck + 1;
    info->firmware_len = len;

    bool ok = true;
    uint32_t word = esp01_le32_at(buf, len, ESP01_IROM_LEN_WORD, &ok);
    if (ok && info->v1_end <= ESP01_IROM_LEN_WORD && word >= ESP01_IROM_OFFSET &&
        word <= IROM_MAX_END) {
        if ((size_t)word + 16 > len)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "truncated: the length word at 0x8FFC says the firmware ends at 0x%X (+16 bytes MD5), the file has only 0x%zX bytes",
                              (unsigned)word, len);
        info->has_irom = true;
        info->length_word = word;
        info->irom_len = word - ESP01_IROM_OFFSET;
        info->firmware_len = (size_t)word + 16;
        info->has_md5 = true;
        memcpy(info->md5_stored, buf + word, 16);
        esp01_md5(buf + 4, word - 4, info->md5_computed);
        info->md5_ok = memcmp(info->md5_stored, info->md5_computed, 16) == 0;
        info->is_flash_dump = len > info->firmware_len;
        info->irom_link = irom_link_of(buf + ESP01_IROM_OFFSET, info->irom_len);
    } else {
        info->ota_bundle = is_ota_bundle(buf, len);
    }

    size_t fw_n = firmware_extent(len, info);
    info->has_vfs_lfs2 = find(buf, fw_n, "VfsLfs2") != NULL;
    info->has_vfs_fat = find(buf, fw_n, "VfsFat") != NULL;
    info->has_romfs = find(buf, fw_n, "VfsRom") != NULL;
    find_version(buf, fw_n, info);
    find_board(buf, fw_n, info);
    return 0;
}

int esp01_image_patch_header(uint8_t *buf, size_t len, int flash_mode,
                             int flash_size_code, int flash_freq,
                             esp01_err *err)
{
    if (len < 8 || buf[0] != ESP01_IMAGE_MAGIC)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "not an ESP8266 firmware image (no 0xE9 header)");
    if (!esp01_flash_mode_name(flash_mode))
        return esp01_fail(err, ESP01_E_INVAL, "bad flash mode %d", flash_mode);
    if (!esp01_flash_size_name(flash_size_code))
        return esp01_fail(err, ESP01_E_INVAL, "bad flash size code %d",
                          flash_size_code);
    if (!esp01_flash_freq_name(flash_freq))
        return esp01_fail(err, ESP01_E_INVAL, "bad flash frequency code %d",
                          flash_freq);
    buf[2] = (uint8_t)flash_mode;
    buf[3] = (uint8_t)(flash_size_code << 4 | flash_freq);
    return 0;
}
