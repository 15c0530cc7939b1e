/*
 * stub.h - the flasher stub's protocol core: esptool's stub protocol over
 * SLIP (docs/stub.md is the full contract), portable C11 that builds for
 * the ESP8266, for the QEMU test build and for the host tests.
 *
 * The machine-specific code starts it with stub_start() and then calls
 * stub_poll() until stub->run_user is set (RUN_USER_CODE).  Everything
 * that waits (READ_FLASH acknowledgements, the baud-rate timers) is a
 * state checked on each poll, so the host tests can drive the core one
 * step at a time with a fake clock.
 */
#ifndef STUB_STUB_H
#define STUB_STUB_H

#include <stdint.h>

#include "flash.h"
#include "inflate.h"
#include "rom.h"
#include "rx.h"

#define STUB_VERSION "esp01-stub 1"

enum stub_op {
    STUB_FLASH_BEGIN = 0x02,
    STUB_FLASH_DATA = 0x03,
    STUB_FLASH_END = 0x04,
    STUB_SYNC = 0x08,
    STUB_WRITE_REG = 0x09,
    STUB_READ_REG = 0x0A,
    STUB_SPI_SET_PARAMS = 0x0B,
    STUB_SPI_ATTACH = 0x0D,
    STUB_CHANGE_BAUDRATE = 0x0F,
    STUB_FLASH_DEFL_BEGIN = 0x10,
    STUB_FLASH_DEFL_DATA = 0x11,
    STUB_FLASH_DEFL_END = 0x12,
    STUB_SPI_FLASH_MD5 = 0x13,
    STUB_ERASE_FLASH = 0xD0,
    STUB_ERASE_REGION = 0xD1,
    STUB_READ_FLASH = 0xD2,
    STUB_RUN_USER_CODE = 0xD3
};

/* Second status byte of a failed reply (esptool's stub error codes). */
enum stub_error {
    STUB_E_BAD_LEN = 0xC0,
    STUB_E_CHECKSUM = 0xC1,
    STUB_E_BLOCK_SIZE = 0xC2,
    STUB_E_INVALID = 0xC3,
    STUB_E_SPI = 0xC4,
    STUB_E_UNLOCK = 0xC5,
    STUB_E_NOT_FLASHING = 0xC6,
    STUB_E_INFLATE = 0xC7,
    STUB_E_NOT_ENOUGH = 0xC8,
    STUB_E_TOO_MUCH = 0xC9
};

#define STUB_MAX_BLOCK 0x4000u       /* FLASH_DATA / FLASH_DEFL_DATA payload */
#define STUB_MAX_READ_BLOCK 0x1000u  /* READ_FLASH frame */
#define STUB_HEADER 8u               /* request/response header */
#define STUB_DATA_HEADER 16u         /* len, seq, 0, 0 before DATA payload */
#define STUB_FRAME_MAX (STUB_HEADER + STUB_DATA_HEADER + STUB_MAX_BLOCK)
/*
 * DATA packets a host may send ahead of the answer it waits for: esp01's
 * client keeps two in flight (esptool one).  A packet that arrives while
 * an earlier one is still being written is answered at once when the
 * receive arena keeps room for this many more of the session's block
 * size; a repeat of any of the last this many packets is answered and not
 * written again.
 */
#define STUB_WRITE_AHEAD 2u
/* The receive arena: two 16 KiB DATA frames (esptool's), or four of
   8 KiB (esp01's), so that the host's next two always find room. */
#define STUB_ARENA (4u * (STUB_HEADER + STUB_DATA_HEADER + 0x2000u))
#define STUB_FLASH_MAX (16u << 20)   /* ROM SPI functions set up for this */
#define STUB_SYNC_REPLIES 8u         /* as many as the ROM sends */
#define STUB_CHECKSUM_SEED 0xEFu

/* CHANGE_BAUDRATE: the new rate must see a request within this long ... */
#define STUB_BAUD_CONFIRM_MS 1000u
/* ... and a changed rate falls back to the ROM's after this much silence. */
#define STUB_BAUD_IDLE_MS 3000u
/* `old` of a first CHANGE_BAUDRATE that gives none. */
#define STUB_ROM_BAUD_DEFAULT 115200u
#define STUB_UART_CLKDIV_REG 0x60000014u
#define STUB_UART_CLKDIV_MASK 0xFFFFFu

enum stub_write_mode { WRITE_NONE = 0, WRITE_PLAIN = 1, WRITE_DEFLATE = 2 };

struct stub {
    struct stub_rx rx;
    uint8_t *window; /* INFLATE_WINDOW bytes */
    uint32_t flash_size;

    /* FLASH_BEGIN / FLASH_DEFL_BEGIN session */
    uint8_t write_mode;
    uint8_t stream_done;
    uint8_t deferred;       /* first error found after a DATA was acked */
    uint32_t block_size;
    uint32_t next_seq;
    struct flash_writer fw;
    struct inflater inf;

    /* READ_FLASH in progress */
    uint8_t reading;
    uint32_t rd_addr, rd_len, rd_block, rd_window;
    uint32_t rd_sent, rd_acked;
    struct rom_md5_ctx rd_md5;

    /* UART divider */
    uint32_t div0;          /* what the ROM auto-bauded to */
    uint32_t div;           /* now */
    uint32_t div_prev;      /* before the last change */
    uint32_t rom_baud;      /* rate div0 stands for; 0 until a first change */
    uint8_t confirm_pending;
    uint32_t switched_ms;   /* when the last change took effect */
    uint32_t last_rx_ms;    /* last valid frame, or end of a command */

    uint8_t run_user;       /* RUN_USER_CODE received: leave the loop */

    /* Diagnostics for the tests. */
    uint32_t frames, ignored, reverts;

    uint8_t txbuf[64];
    uint32_t txlen;
};

/*
 * Set up and greet: reads the divider from UART0 CLKDIV, configures the
 * ROM flash functions for 16 MiB (SPIParamCfg) and sends "OHAI".  The
 * arena holds STUB_ARENA bytes and must be word aligned, as must the
 * window.
 */
void stub_start(struct stub *s, uint8_t *arena, uint8_t *window);
/* One step: a timer, a frame, a READ_FLASH block, erasing ahead of a
   write, or an idle wait. */
void stub_poll(struct stub *s);

/* Internal, shared between the core's files. */
void stub_tx_begin(struct stub *s);
void stub_tx(struct stub *s, const void *p, uint32_t n);
void stub_tx_end(struct stub *s);
void stub_reply(struct stub *s, uint8_t op, uint32_t value,
                const uint8_t *data, uint32_t n, uint8_t error);
void stub_dispatch(struct stub *s, const uint8_t *f, uint32_t len);
void stub_write_command(struct stub *s, uint8_t op, const uint8_t *body,
                        uint32_t n, uint32_t checksum);
void stub_write_taken(struct stub *s, const uint8_t *f, uint32_t len);
int stub_write_idle(struct stub *s);
uint8_t stub_md5_command(struct stub *s, const uint8_t *body, uint32_t n,
                         uint8_t digest[16]);
uint8_t stub_read_begin(struct stub *s, const uint8_t *body, uint32_t n);
void stub_read_ack(struct stub *s, const uint8_t *f, uint32_t len);
int stub_read_pump(struct stub *s);
uint8_t stub_baud_command(struct stub *s, const uint8_t *body, uint32_t n,
                          uint32_t *div);
void stub_baud_switch(struct stub *s, uint32_t div);
void stub_baud_timers(struct stub *s, uint32_t now);

static inline uint32_t stub_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

#endif
