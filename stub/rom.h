/*
 * rom.h - the ESP8266 ROM functions the stub calls.
 *
 * On the lx106 these names resolve to the ROM's own addresses (rom.ld,
 * from ESP8266_NONOS_SDK ld/eagle.rom.addr.v6.ld), in the real image and
 * in the QEMU build alike, where test versions sit at those addresses.
 * On the host (STUB_HOST) the same calls go to the fakes in stub/host/,
 * renamed so they cannot clash with a host library of the same name
 * (libmd has an MD5Init of its own).
 *
 * The SPI flash functions return 0 on success (SpiFlashOpResult: 0 ok,
 * 1 error, 2 timeout), refuse addresses at or past the chip size set by
 * SPIParamCfg, and take word-aligned addresses, buffers and lengths.
 */
#ifndef STUB_ROM_H
#define STUB_ROM_H

#include <stdint.h>

#ifdef STUB_HOST
#define SPIRead stub_host_SPIRead
#define SPIWrite stub_host_SPIWrite
#define SPIEraseSector stub_host_SPIEraseSector
#define SPIEraseBlock stub_host_SPIEraseBlock
#define SPIEraseChip stub_host_SPIEraseChip
#define SPIUnlock stub_host_SPIUnlock
#define SPIParamCfg stub_host_SPIParamCfg
#define MD5Init stub_host_MD5Init
#define MD5Update stub_host_MD5Update
#define MD5Final stub_host_MD5Final
#define uart_div_modify stub_host_uart_div_modify
#define ets_delay_us stub_host_ets_delay_us
#define software_reset stub_host_software_reset
#endif

/* The context MD5Init/MD5Update/MD5Final (0x40009818/34/0x40009900)
   work on: this layout, whatever the SDK calls it. */
struct rom_md5_ctx {
    uint32_t buf[4];
    uint32_t bits[2];
    uint8_t in[64];
};

int SPIRead(uint32_t addr, void *dst, uint32_t size);
int SPIWrite(uint32_t addr, const void *src, uint32_t size);
int SPIEraseSector(uint32_t sector);  /* sector number: addr / 4096 */
int SPIEraseBlock(uint32_t block);    /* block number: addr / 65536 */
int SPIEraseChip(void);
int SPIUnlock(void);
int SPIParamCfg(uint32_t device_id, uint32_t chip_size, uint32_t block_size,
                uint32_t sector_size, uint32_t page_size,
                uint32_t status_mask);
void MD5Init(struct rom_md5_ctx *ctx);
void MD5Update(struct rom_md5_ctx *ctx, const void *data, uint32_t len);
void MD5Final(uint8_t digest[16], struct rom_md5_ctx *ctx);
/* Sets UART `uart_no`'s divider and resets both of its FIFOs. */
void uart_div_modify(uint32_t uart_no, uint32_t div);
void ets_delay_us(uint32_t us);
void software_reset(void);

#endif
