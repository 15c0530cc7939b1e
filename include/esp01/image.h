/*
 * image.h - ESP8266 firmware images as MicroPython ships them.
 *
 * A MicroPython ESP8266 firmware.bin is an ESP8266 "v1" boot image (header,
 * segments for IRAM/DRAM, XOR checksum) padded to 0x8FFC, a length word,
 * the irom0 text at 0x9000, and a 16-byte MD5 trailer over file[4:end].
 * Header bytes 2-3 (flash mode, size, frequency) are outside both the
 * checksum and the MD5, so a flasher may patch them; esp01 always does.
 */
#ifndef ESP01_IMAGE_H
#define ESP01_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_IMAGE_MAGIC 0xE9
#define ESP01_IMAGE_MAX_SEGMENTS 16
#define ESP01_IROM_OFFSET 0x9000u   /* where MicroPython puts irom0 text */
#define ESP01_IROM_LEN_WORD 0x8FFCu /* LE u32: 0x9000 + irom0 length */
#define ESP01_SDK_RESERVED 20480u   /* last 20 KiB of flash: SDK params */
#define ESP01_SECTOR 4096u

typedef enum esp01_flash_mode {
    ESP01_MODE_QIO = 0,
    ESP01_MODE_QOUT = 1,
    ESP01_MODE_DIO = 2,
    ESP01_MODE_DOUT = 3
} esp01_flash_mode;

/* Header byte 3, high nibble. */
typedef enum esp01_flash_size_id {
    ESP01_SIZE_512K = 0,
    ESP01_SIZE_256K = 1,
    ESP01_SIZE_1M = 2,
    ESP01_SIZE_2M = 3,
    ESP01_SIZE_4M = 4,
    ESP01_SIZE_2M_C1 = 5,
    ESP01_SIZE_4M_C1 = 6,
    ESP01_SIZE_8M = 8,
    ESP01_SIZE_16M = 9
} esp01_flash_size_id;

/* Header byte 3, low nibble. */
typedef enum esp01_flash_freq {
    ESP01_FREQ_40M = 0x0,
    ESP01_FREQ_26M = 0x1,
    ESP01_FREQ_20M = 0x2,
    ESP01_FREQ_80M = 0xF
} esp01_flash_freq;

/* Names <-> values.  Parsers return a negative code for unknown text. */
const char *esp01_flash_mode_name(int mode);          /* "dout", or NULL */
int esp01_flash_mode_parse(const char *name);          /* "dout" -> 3 */
const char *esp01_flash_freq_name(int freq);           /* "40m", or NULL */
int esp01_flash_freq_parse(const char *name);          /* "40m" -> 0 */
/* Size code -> bytes (0 if the code is not a valid one). */
uint32_t esp01_flash_size_bytes(int size_code);
/* Bytes -> the plain size code (512K..16M), or negative if none. */
int esp01_flash_size_code(uint32_t bytes);
/* Size code -> "1M", "2M-c1", ... or NULL for an invalid code. */
const char *esp01_flash_size_name(int size_code);
/* "1M", "1MB", "4m", "512K" -> plain size code, or negative. */
int esp01_flash_size_parse(const char *name);

typedef enum esp01_memory {
    ESP01_MEM_UNKNOWN = 0,
    ESP01_MEM_IRAM,  /* 0x40100000.. */
    ESP01_MEM_DRAM,  /* 0x3FFE8000.. */
    ESP01_MEM_IROM   /* 0x40200000.. flash-mapped */
} esp01_memory;

/* "IRAM", "DRAM", "IROM" or "unknown". Never NULL. */
const char *esp01_memory_name(esp01_memory mem);
/* Which memory a load address falls in. */
esp01_memory esp01_memory_of(uint32_t load_addr);

typedef struct esp01_segment {
    uint32_t load_addr;
    uint32_t length;
    uint32_t file_offset; /* of the data, after the 8-byte segment header */
    esp01_memory memory;
} esp01_segment;

typedef enum esp01_variant {
    ESP01_VARIANT_UNKNOWN = 0,
    ESP01_VARIANT_512K,    /* no filesystem */
    ESP01_VARIANT_1M,      /* littlefs at 0x99000 on a 1 MiB chip */
    ESP01_VARIANT_GENERIC, /* 2 MiB and up, FS at 0x100000 */
    ESP01_VARIANT_2M_ROMFS
} esp01_variant;

/* "512K", "1M", "2M+", "2M-ROMFS" or "unknown".  Never NULL. */
const char *esp01_variant_name(esp01_variant variant);
/* Inverse of esp01_variant_name (case-insensitive; "generic" = "2M+"). */
int esp01_variant_parse(const char *name);

typedef struct esp01_image_info {
    size_t file_len;

    /* v1 header */
    uint8_t segment_count;
    uint8_t flash_mode;      /* header byte 2 */
    uint8_t flash_size_code; /* header byte 3 >> 4 */
    uint8_t flash_freq;      /* header byte 3 & 15 */
    uint32_t entry;
    esp01_segment segments[ESP01_IMAGE_MAX_SEGMENTS];
    size_t v1_end;          /* offset just after the checksum byte */
    uint8_t checksum_stored;
    uint8_t checksum_computed;
    bool checksum_ok;

    /* MicroPython trailer */
    bool has_irom;          /* length word at 0x8FFC is plausible */
    uint32_t irom_len;      /* bytes of irom0 text at 0x9000 */
    uint32_t length_word;   /* as read at 0x8FFC (0x9000 + irom_len) */
    size_t firmware_len;    /* 0x9000 + irom_len + 16 (MD5); else file_len */
    bool has_md5;
    bool md5_ok;
    uint8_t md5_stored[16];
    uint8_t md5_computed[16];

    /* From the string table */
    char version[64];       /* "v1.22.1 on 2024-01-05", or "" */
    /* The release the version text names: v1.22.1 -> 1, 22, 1.  A build
     * between releases ("v1.12-340-gabc", "v1.23.0-preview.5.gabc") sets
     * version_dev; a preview names the release it leads up to. */
    bool has_version;
    uint8_t version_major, version_minor, version_patch;
    bool version_dev;
    char board[32];         /* "ESP module (1M)", or "" */
    esp01_variant variant;
    /* Filesystems the firmware can mount: the VFS type names in its string
     * table, except in a build known to compile no VFS at all. */
    bool has_vfs_lfs2;
    bool has_vfs_fat;
    bool has_romfs;
    /* The file is longer than the firmware: a flash dump or esp01 build output. */
    bool is_flash_dump;

    /* OTA builds (esp8266_ota.ld) link irom0 at 0x40245000, behind the
     * yaota8266 boot loader, and so use a different flash map.  The parser
     * tells them by the irom0 addresses in the code's literal pools:
     * irom_link is 0x40209000 or 0x40245000 when one clearly dominates,
     * else 0.  ota_bundle: the file is yaota8266 followed by such a
     * firmware at 0x3C000 (the published OTA download). */
    uint32_t irom_link;
    bool ota_bundle;
} esp01_image_info;

/*
 * Parse a firmware file or flash dump.  Succeeds on anything with a valid
 * v1 header and segment table; a bad checksum or MD5 is reported in `info`,
 * not as a failure (so `esp01 info` can show it).  Fails with ESP01_E_FORMAT
 * for a truncated file, a wrong magic or a segment running past the end.
 */
int esp01_image_parse(const uint8_t *buf, size_t len, esp01_image_info *info,
                      esp01_err *err);

/*
 * Set header bytes 2-3 of the image in `buf` (which must start with the v1
 * magic).  Neither the checksum nor MicroPython's MD5 covers them.
 */
int esp01_image_patch_header(uint8_t *buf, size_t len, int flash_mode,
                             int flash_size_code, int flash_freq,
                             esp01_err *err);

/*
 * The modules frozen into a firmware: MicroPython's frozen content lists
 * them as one run of NUL-separated "name.py" strings (mp_frozen_names in
 * irom0); the longest run of at least three is taken, so a lone "main.py"
 * in the code is not one.  Module names go into names[max] ("umqtt/
 * simple.py" -> "umqtt.simple"), each at most 47 characters; returns how
 * many (0 when the firmware lists none).
 */
#define ESP01_FROZEN_NAME_MAX 48
size_t esp01_image_frozen_modules(const uint8_t *fw, size_t len,
                                  char (*names)[ESP01_FROZEN_NAME_MAX], size_t max);

#ifdef __cplusplus
}
#endif

#endif
