/*
 * rom.h - client for the ESP8266 ROM serial loader (the "download mode"
 * the chip enters when GPIO0 is low at reset).
 *
 * Everything runs over a struct esp01_port, so the same code drives a USB
 * serial adapter or the simulator on a pty.  The ROM speaks SLIP-framed
 * request/response packets (see slip.h); it has no flash read, no MD5, no
 * compression and no baud change, so this client relies on the protocol
 * alone for integrity: XOR checksums on data, strict response checks, and
 * a restart of the affected sector whenever the chip's state is in doubt.
 *
 * The library never prints: progress is reported through a callback and
 * failures through esp01_err.  The caller owns struct esp01_rom (it is
 * plain memory; no allocation happens inside).
 */
#ifndef ESP01_ROM_H
#define ESP01_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/port.h"
#include "esp01/slip.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Request opcodes understood by the ESP8266 ROM. */
enum esp01_rom_op {
    ESP01_ROM_FLASH_BEGIN = 0x02,
    ESP01_ROM_FLASH_DATA = 0x03,
    ESP01_ROM_FLASH_END = 0x04,
    ESP01_ROM_MEM_BEGIN = 0x05,
    ESP01_ROM_MEM_END = 0x06,
    ESP01_ROM_MEM_DATA = 0x07,
    ESP01_ROM_SYNC = 0x08,
    ESP01_ROM_WRITE_REG = 0x09,
    ESP01_ROM_READ_REG = 0x0A
};

/* Error codes in the second status byte. */
enum esp01_rom_status {
    ESP01_ROM_ERR_INVALID = 0x05,  /* malformed, out of sequence, unknown */
    ESP01_ROM_ERR_FAILED = 0x06,   /* could not act on the message */
    ESP01_ROM_ERR_CHECKSUM = 0x07, /* data checksum mismatch */
    ESP01_ROM_ERR_WRITE = 0x08,    /* flash write failed */
    ESP01_ROM_ERR_READ = 0x09
};

#define ESP01_ROM_MAGIC 0xFFF0C101u      /* READ_REG(0x40001000) */
#define ESP01_ROM_MAGIC_REG 0x40001000u
#define ESP01_ROM_EFUSE0 0x3FF00050u     /* four words: 0x50 0x54 0x58 0x5C */
#define ESP01_ROM_UART_CLKDIV 0x60000014u
#define ESP01_ROM_SPI_BASE 0x60000200u
#define ESP01_ROM_BLOCK 1024u            /* FLASH_DATA payload */
#define ESP01_ROM_SECTOR 4096u
/* Erase budget: a datasheet's worst case, not its typical time (W25Q80DV:
 * 4 KiB sector erase up to 400 ms, and the ROM erases many sectors one by
 * one), so a slow chip is never taken for a dead one. */
#define ESP01_ROM_ERASE_MS_PER_MIB (256u * 400u)

/* A parsed response packet. */
typedef struct esp01_rom_response {
    uint8_t op;
    uint32_t value;        /* READ_REG result; junk for other commands */
    const uint8_t *data;   /* payload before the status bytes (in the frame) */
    size_t data_len;
    uint8_t status;        /* 0 ok, 1 failed */
    uint8_t error;         /* enum esp01_rom_status when status is 1 */
} esp01_rom_response;

/*
 * Parse one decoded SLIP frame as an ESP8266 response: direction byte 1,
 * length field equal to the bytes that follow the 8-byte header, at least
 * the two status bytes, and a consistent status pair (0,0) or (1,code).
 * Returns 0 or ESP01_E_FORMAT.  `resp->data` points into `buf`.
 */
int esp01_rom_parse_response(const uint8_t *buf, size_t len,
                             esp01_rom_response *resp, esp01_err *err);

/*
 * FLASH_BEGIN "erase size" argument that makes the ROM erase exactly
 * `sectors` sectors from `first_sector`.  The ROM erases n + min(n, t)
 * sectors for a request of n, t = 16 - first_sector % 16 (sectors left in
 * the 64 KiB block).  Some counts cannot be hit exactly (an odd count
 * smaller than 2t); then the request erases one sector more, and
 * `*erased` (if not NULL) says how many sectors the ROM will erase.
 * Returns the argument in bytes.
 */
uint32_t esp01_rom_erase_arg(uint32_t first_sector, uint32_t sectors,
                             uint32_t *erased);
/* Sectors the ROM really erases when asked for `n` from `first_sector`. */
uint32_t esp01_rom_erased_by(uint32_t first_sector, uint32_t n);

/* Reset before connecting. */
typedef enum esp01_rom_before {
    ESP01_ROM_BEFORE_DEFAULT_RESET = 0, /* DTR -> GPIO0, RTS -> EN pulses */
    ESP01_ROM_BEFORE_NO_RESET = 1       /* the user puts the chip in the loader */
} esp01_rom_before;

/* What to do when done. */
typedef enum esp01_rom_after {
    ESP01_ROM_AFTER_HARD_RESET = 0, /* pulse EN through RTS */
    ESP01_ROM_AFTER_NO_RESET = 1,   /* stay in the loader */
    ESP01_ROM_AFTER_RUN = 2         /* FLASH_END "run user code" */
} esp01_rom_after;

typedef enum esp01_rom_phase {
    ESP01_ROM_PHASE_ERASE = 0, /* a FLASH_BEGIN is erasing */
    ESP01_ROM_PHASE_WRITE = 1, /* a block was written */
    ESP01_ROM_PHASE_RETRY = 2, /* a block or sector is being sent again */
    ESP01_ROM_PHASE_VERIFY = 3, /* reading back (words, or MD5 sums) */
    ESP01_ROM_PHASE_READ = 4    /* a flash read arrived */
} esp01_rom_phase;

typedef struct esp01_rom_progress {
    esp01_rom_phase phase;
    uint32_t offset;        /* flash address the event is about */
    uint32_t done;          /* region bytes finished (written or erased) */
    uint32_t total;         /* region bytes */
    uint32_t payload_done;  /* non-blank bytes sent and acknowledged */
    uint32_t payload_total; /* non-blank bytes to send */
} esp01_rom_progress;

typedef void (*esp01_rom_progress_fn)(void *ctx, const esp01_rom_progress *p);

/* Largest reply frame: a stub's READ_FLASH block (0x1000) and headers. */
#define ESP01_ROM_FRAME_MAX 0x1100
#define ESP01_ROM_TEXT_WINDOW 256 /* recent raw bytes, for boot text */
/* Largest request: a stub FLASH_DEFL_DATA block of 0x4000 and headers. */
#define ESP01_ROM_REQ_MAX (8 + 16 + 0x4000)

typedef struct esp01_rom {
    esp01_port *port;
    esp01_slip_decoder dec;
    uint8_t frame[ESP01_ROM_FRAME_MAX];
    uint8_t rx[256];
    size_t rx_len, rx_pos;
    char text[ESP01_ROM_TEXT_WINDOW];
    size_t text_len;
    uint8_t req[ESP01_ROM_REQ_MAX];                        /* request scratch */
    uint8_t wire[ESP01_SLIP_ENCODED_MAX(ESP01_ROM_REQ_MAX)]; /* its SLIP form */
    bool flash_attached;      /* a FLASH_BEGIN has been answered */
    bool stub_running;        /* SYNC was answered with 0: a flasher stub */
    uint32_t flash_size;      /* from esp01_rom_flash_id; 0 until known */
    uint32_t jedec;           /* likewise */
    uint32_t block_size;      /* ROM FLASH_DATA block size; 0 until chosen */
    uint8_t last_error;       /* error byte of the last refused command */
    uint32_t resyncs;         /* re-syncs after doubt: the chip may have reset */
    uint32_t connect_baud;    /* the rate the connection was made at */
    /* Set by the caller (e.g. from a signal handler) to stop a long job
     * between blocks with ESP01_E_INTERRUPTED; NULL: never. */
    volatile int *cancel;
    uint64_t wire_tx;         /* bytes written to the port */
    uint64_t wire_rx;         /* bytes read from the port */
    esp01_rom_progress_fn progress;
    void *progress_ctx;
} esp01_rom;

/* Prepare `rom` to talk over `port` (which the caller keeps open). */
void esp01_rom_init(esp01_rom *rom, esp01_port *port);

typedef struct esp01_rom_connect_opts {
    esp01_rom_before before;
    /* How long to keep trying, in ms (0: a built-in default). */
    uint32_t wait_ms;
    /* Called once before the no-reset wait begins (to tell the user). */
    void (*waiting)(void *ctx, uint32_t wait_ms);
    void *ctx;
} esp01_rom_connect_opts;

/*
 * Reset into the loader (unless no-reset) and SYNC.  Extra SYNC replies
 * and stray packets are drained before returning.  Fails with
 * ESP01_E_TIMEOUT when nothing answered, ESP01_E_DEVICE when the port
 * showed boot text of a chip that started its firmware instead (the
 * message names the boot mode), ESP01_E_PROTOCOL when bytes arrived but
 * never a valid reply.
 */
int esp01_rom_connect(esp01_rom *rom, const esp01_rom_connect_opts *opts,
                      esp01_err *err);

/* One register read / write (addr, value, mask, delay in µs). */
int esp01_rom_read_reg(esp01_rom *rom, uint32_t addr, uint32_t *value,
                       esp01_err *err);
int esp01_rom_write_reg(esp01_rom *rom, uint32_t addr, uint32_t value,
                        uint32_t mask, uint32_t delay_us, esp01_err *err);

typedef struct esp01_chip_info {
    bool is_esp8285;
    uint32_t efuse[4];
    uint8_t mac[6];
    bool mac_known;       /* false: the OUI fuses hold an unknown value */
    uint32_t chip_id;     /* as the SDK's system_get_chip_id() */
    uint32_t crystal_mhz; /* 26 or 40, estimated from the ROM's UART divider */
    double crystal_est;   /* the raw estimate in MHz */
} esp01_chip_info;

/*
 * Check the chip magic and read the eFuses, MAC, chip id and crystal.
 * ESP01_E_UNSUPPORTED when the magic is not an ESP8266's (the message
 * names the chip if the magic is a known one).
 */
int esp01_rom_identify(esp01_rom *rom, esp01_chip_info *info,
                       esp01_err *err);

typedef struct esp01_flash_id {
    uint32_t jedec;          /* manufacturer | type << 8 | capacity << 16 */
    uint8_t manufacturer, type, capacity;
    const char *vendor;      /* "Winbond", ..., or NULL when unknown */
    uint32_t size;           /* bytes */
} esp01_flash_id;

/*
 * Read the flash chip's JEDEC id through the SPI0 user-command registers
 * (saving and restoring USR and USR2) and decode it.
 */
int esp01_rom_flash_id(esp01_rom *rom, esp01_flash_id *id, esp01_err *err);

/*
 * Decode a raw JEDEC id.  All-zero or all-one ids (flash not answering)
 * give ESP01_E_DEVICE; a capacity code that is not a power-of-two size
 * from 256 KiB to 16 MiB gives ESP01_E_UNSUPPORTED.  Never guesses.
 */
int esp01_flash_id_decode(uint32_t jedec, esp01_flash_id *id,
                          esp01_err *err);

/* No sector outside the region was erased. */
#define ESP01_ROM_NO_COLLATERAL 0xFFFFFFFFu

typedef struct esp01_rom_write_stats {
    uint32_t payload_sent;   /* data bytes in acknowledged FLASH_DATA */
    uint32_t blank_sectors;  /* sectors erased and not sent */
    uint32_t data_sectors;
    uint32_t block_retries;  /* blocks sent again after a checksum error */
    uint32_t restarts;       /* sectors re-erased and re-sent */
    uint32_t repaired_sectors; /* rewritten after the read-back found them wrong */
    /* Address of a sector outside the region that the ROM's erase bug made
     * it erase too (an odd number of sectors inside one 64 KiB block), or
     * ESP01_ROM_NO_COLLATERAL. */
    uint32_t collateral;
} esp01_rom_write_stats;

/*
 * Write `len` bytes at `offset` (a multiple of 4096) through the ROM
 * loader, following the ROM's own rules (docs/flashing.md): the region,
 * rounded up to whole sectors, is erased by one FLASH_BEGIN (erase bug
 * compensated); each run of sectors that hold data is then positioned by
 * a FLASH_BEGIN at its first sector that erases nothing and sent in
 * sector-sized FLASH_DATA blocks (1 KiB if the ROM refuses those); sectors
 * that are all 0xFF are erased but not sent.  When the region goes past
 * the flash size the ROM believes in, that size is raised first with
 * SPI_SET_PARAMS, or the write is refused.
 *
 * A block refused for its checksum is sent again under the next sequence
 * number (the ROM advanced it); any other doubt (no reply, a garbled
 * reply, another refusal) re-syncs, erases the sector again with a
 * neighbour and resumes there.  FLASH_BEGIN has no checksum, so the first
 * block after each one and finally one word of every sector are read back
 * through the SPI0 registers; sectors that do not match are written
 * again.  On failure the message names the flash offset.  `stats` may be
 * NULL.  rom->flash_size (set by esp01_rom_flash_id) bounds the write
 * when known.
 */
int esp01_rom_write_flash(esp01_rom *rom, uint32_t offset,
                          const uint8_t *data, size_t len,
                          esp01_rom_write_stats *stats, esp01_err *err);

/*
 * Erase [offset, offset + size) (both multiples of 4096) with one
 * FLASH_BEGIN and no data.  `*collateral` (may be NULL) receives the
 * address of a sector outside the region that the ROM had to erase too
 * (see esp01_rom_erase_arg), or ESP01_ROM_NO_COLLATERAL.
 */
int esp01_rom_erase(esp01_rom *rom, uint32_t offset, uint32_t size,
                    uint32_t *collateral, esp01_err *err);

/* Leave the loader as asked (or stay). */
int esp01_rom_finish(esp01_rom *rom, esp01_rom_after after, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
