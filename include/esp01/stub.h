/*
 * stub.h - esp01's own flasher stub: uploading it through the ROM loader
 * and the commands it adds (docs/stub.md has the protocol).
 *
 * The stub speaks esptool's stub protocol, so the same esp01_rom transport
 * carries it: SLIP frames, the same request and reply headers, two status
 * bytes.  On top of the ROM's commands it changes the baud rate, takes
 * zlib-compressed data (esp01 sends 8 KiB blocks, two in flight; they are
 * written while the next ones arrive), computes MD5 sums of flash on the chip, reads flash and erases
 * regions or the whole chip.
 *
 * Every function takes the esp01_rom the connection was made with and
 * fails with a negative ESP01_E_* code and a message in `err`.  Progress
 * goes through rom->progress like the ROM writer's; rom->cancel, when set,
 * stops a long job between blocks with ESP01_E_INTERRUPTED.
 */
#ifndef ESP01_STUB_H
#define ESP01_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/rom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stub commands (esptool's numbering; the ROM refuses all of them). */
enum esp01_stub_op {
    ESP01_STUB_SPI_SET_PARAMS = 0x0B,
    ESP01_STUB_SPI_ATTACH = 0x0D,
    ESP01_STUB_CHANGE_BAUDRATE = 0x0F,
    ESP01_STUB_FLASH_DEFL_BEGIN = 0x10,
    ESP01_STUB_FLASH_DEFL_DATA = 0x11,
    ESP01_STUB_FLASH_DEFL_END = 0x12,
    ESP01_STUB_SPI_FLASH_MD5 = 0x13,
    ESP01_STUB_ERASE_FLASH = 0xD0,
    ESP01_STUB_ERASE_REGION = 0xD1,
    ESP01_STUB_READ_FLASH = 0xD2,
    ESP01_STUB_RUN_USER_CODE = 0xD3
};

/* The stub's error codes (second status byte). */
enum esp01_stub_status {
    ESP01_STUB_ERR_BAD_LEN = 0xC0,
    ESP01_STUB_ERR_CHECKSUM = 0xC1,
    ESP01_STUB_ERR_BLOCK_SIZE = 0xC2,
    ESP01_STUB_ERR_INVALID = 0xC3,
    ESP01_STUB_ERR_SPI = 0xC4,
    ESP01_STUB_ERR_UNLOCK = 0xC5,
    ESP01_STUB_ERR_NOT_FLASHING = 0xC6,
    ESP01_STUB_ERR_INFLATE = 0xC7,
    ESP01_STUB_ERR_TOO_LITTLE = 0xC8,
    ESP01_STUB_ERR_TOO_MUCH = 0xC9
};

#define ESP01_STUB_BLOCK 0x2000u   /* FLASH_DEFL_DATA payload esp01 sends */
#define ESP01_STUB_READ_BLOCK 0x1000u
#define ESP01_STUB_READ_IN_FLIGHT 64u

/* The stub esp01 uploads, as text ("esp01-stub 1"). */
const char *esp01_stub_version(void);

/* Short description of a stub error code ("inflate error", ...). */
const char *esp01_stub_error_text(uint8_t code);

/*
 * Upload the stub through the ROM loader (MEM_BEGIN/MEM_DATA/MEM_END) and
 * wait for its "OHAI".  When rom->stub_running says a stub already
 * answered the SYNC, nothing is uploaded.  On success rom->stub_running
 * is true.  ESP01_E_PROTOCOL/ESP01_E_TIMEOUT when the ROM took the upload
 * but no stub greeted: the chip then runs neither the stub nor the loader
 * and must be reset into the loader again.  *started tells whether the
 * ROM was told to jump (may be NULL).
 */
int esp01_stub_start(esp01_rom *rom, bool *started, esp01_err *err);

/*
 * Switch the line to `baud`: CHANGE_BAUDRATE at the current rate, the port
 * follows, and a SYNC must be answered within a deadline.  When it is not,
 * the host goes back to the old rate, waits for the stub to go back too
 * (it does on its own when no valid frame arrives after a change) and
 * tries the next lower standard rate (921600, 460800, 230400, 115200).
 * `*got` (may be NULL) is the rate in use afterwards.
 */
int esp01_stub_set_baud(esp01_rom *rom, uint32_t baud, uint32_t *got,
                        esp01_err *err);

typedef struct esp01_stub_write_opts {
    /* Write every sector.  Otherwise the chip's MD5 sums (64 KiB blocks,
     * then 4 KiB sectors inside blocks that differ)
     * decide, and sectors that already hold the image are neither erased
     * nor sent. */
    bool full;
} esp01_stub_write_opts;

typedef struct esp01_stub_write_stats {
    uint32_t sectors;        /* in the image, rounded up */
    uint32_t differing;      /* sectors that did not hold the image */
    uint32_t runs;           /* runs of sectors sent as one zlib stream */
    uint32_t data_sectors;   /* written sectors holding data */
    uint32_t blank_sectors;  /* written sectors of 0xFF, only erased on the
                                chip: a few bytes of a stream, or nothing
                                sent when a whole run is blank */
    uint64_t compressed;     /* zlib bytes sent in FLASH_DEFL_DATA */
    uint32_t rewritten;      /* sectors written again after the final MD5 */
} esp01_stub_write_stats;

/*
 * Write `len` bytes at `offset` (a multiple of 4096).  Of the sectors to
 * write (all of them with opts->full, else those whose MD5 differs), each
 * run that holds data goes as one zlib stream (FLASH_DEFL_BEGIN/DATA/
 * END) and each run of blank sectors is erased (ERASE_REGION), not sent.
 * Afterwards the MD5 of the whole image is computed on the chip; when it
 * differs, the differing sectors are found and written once more, then
 * the write fails naming the first that still differs.  `opts` and
 * `stats` may be NULL.
 */
int esp01_stub_write_flash(esp01_rom *rom, uint32_t offset,
                           const uint8_t *data, size_t len,
                           const esp01_stub_write_opts *opts,
                           esp01_stub_write_stats *stats, esp01_err *err);

/*
 * Which sectors of the flash at `offset` differ from `data` (`len` bytes,
 * taken as padded with 0xFF to whole sectors): bit i of `differs` (caller's,
 * (sectors + 7) / 8 bytes) is set for sector i.  One MD5 of each 64 KiB
 * block, then of each sector in blocks that differ; no flash data crosses
 * the wire.  *ndiff (may be NULL) counts
 * the differing sectors.
 */
int esp01_stub_diff(esp01_rom *rom, uint32_t offset, const uint8_t *data,
                    size_t len, uint8_t *differs, uint32_t *ndiff,
                    esp01_err *err);

/* MD5 of [addr, addr + size) computed by the stub. */
int esp01_stub_md5(esp01_rom *rom, uint32_t addr, uint32_t size,
                   uint8_t out[16], esp01_err *err);

/*
 * Read [addr, addr + size) into `out` (caller's `size` bytes): READ_FLASH
 * with acknowledged 4 KiB frames, then the stub's MD5 of what it sent is
 * compared with the MD5 of what arrived.
 */
int esp01_stub_read_flash(esp01_rom *rom, uint32_t addr, uint32_t size,
                          uint8_t *out, esp01_err *err);

/* ERASE_FLASH (the whole chip) and ERASE_REGION (multiples of 4096). */
int esp01_stub_erase_flash(esp01_rom *rom, esp01_err *err);
int esp01_stub_erase_region(esp01_rom *rom, uint32_t addr, uint32_t size,
                            esp01_err *err);

/*
 * Leave as asked: hard-reset pulses RTS -> EN; run starts the firmware
 * (RUN_USER_CODE); no-reset leaves the stub running at the rate the
 * connection started at, where the next esp01 (or esptool) run finds it.
 */
int esp01_stub_finish(esp01_rom *rom, esp01_rom_after after, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
