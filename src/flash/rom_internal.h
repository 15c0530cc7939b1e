/*
 * rom_internal.h - what the ROM loader client's files share: the request/
 * reply transport (rom.c), the ROM-mode writer and eraser (rom_write.c)
 * and the stub client (stub.c).  Not part of the public API.
 */
#ifndef ESP01_ROM_INTERNAL_H
#define ESP01_ROM_INTERNAL_H

#include "esp01/rom.h"

#define ESP01_ROMI_CMD_TIMEOUT_MS 3000u
#define ESP01_ROMI_BLOCK_TIMEOUT_MS 1000u

/* Bytes -> milliseconds on the wire at the port's baud rate (+1). */
uint32_t esp01_romi_wire_ms(const esp01_rom *rom, size_t bytes);
/* What a ROM loader's error code means (loader_errors.c). */
const char *esp01_romi_error_text(uint8_t code);
/* Drop buffered input and any half-decoded frame. */
void esp01_romi_discard(esp01_rom *rom);
/* Next decoded frame into rom->frame (its length) before the deadline. */
int esp01_romi_read_frame(esp01_rom *rom, uint64_t deadline, esp01_err *err);
/* Send one request frame (no waiting). */
int esp01_romi_send(esp01_rom *rom, uint8_t op, const uint8_t *data,
                    size_t len, uint32_t chk, size_t *wire, esp01_err *err);
/* Send a request and wait for the reply with the same opcode. */
int esp01_romi_command(esp01_rom *rom, uint8_t op, const uint8_t *data,
                       size_t len, uint32_t chk, uint32_t timeout_ms,
                       esp01_rom_response *resp, esp01_err *err);
/* esp01_romi_command, and a refusal (status 1) becomes ESP01_E_DEVICE. */
int esp01_romi_check(esp01_rom *rom, uint8_t op, const uint8_t *data,
                     size_t len, uint32_t chk, uint32_t timeout_ms,
                     esp01_rom_response *resp, esp01_err *err);
/* Re-sync after a doubtful exchange (a chip that reset needs a SYNC). */
void esp01_romi_recover(esp01_rom *rom);
/* One SYNC; 0 when the chip answered (value in *value if not NULL). */
int esp01_romi_sync(esp01_rom *rom, uint32_t *value, esp01_err *err);
/*
 * A region to write, erase or read: a sector-aligned start when `aligned`,
 * some bytes, inside 16 MiB and inside rom->flash_size when that is known.
 */
int esp01_romi_region_ok(const esp01_rom *rom, uint32_t offset, size_t len,
                         bool aligned, esp01_err *err);
/* 0xEF XOR the bytes: the checksum of *_DATA payloads. */
uint8_t esp01_romi_checksum(const uint8_t *p, size_t n);

int esp01_romi_flash_begin(esp01_rom *rom, uint32_t erase_bytes,
                           uint32_t blocks, uint32_t block_size,
                           uint32_t offset, uint32_t timeout_ms,
                           esp01_err *err);
/* Up to five register writes in one WRITE_REG (addr, value pairs). */
int esp01_romi_write_regs(esp01_rom *rom, const uint32_t *addr_value,
                          size_t n, esp01_err *err);
/* Word reads from flash through the SPI0 user-command registers. */
int esp01_romi_spi_read_begin(esp01_rom *rom, uint32_t saved[2],
                              esp01_err *err);
int esp01_romi_spi_read_end(esp01_rom *rom, const uint32_t saved[2],
                            esp01_err *err);
int esp01_romi_spi_read_word(esp01_rom *rom, uint32_t addr, uint32_t *word,
                             esp01_err *err);

#endif
