/*
 * rom.h - the ESP8266 ROM functions the stub calls.
 *
 * On the lx106 these names resolve to the ROM's own addresses (rom.ld,
 * from ESP8266_NONOS_SDK ld/eagle.rom.addr.v6.ld), in the real image and
 * in the QEMU build alike, where test versions sit at those addresses.
 * On the host (STUB_HOST) the same calls go to the fakes in stub/host/,
 * renamed so they cannot clash with a host library of the same name
 * (libmd has an MD5Init of its own); the QEMU build's fake ROM defines
 * them under fake_ names (STUB_QEMU_ROM).
 *
 * The SPI flash functions return 0 on success (SpiFlashOpResult: 0 ok,
 * 1 error, 2 timeout) and refuse ranges past the chip size set by
 * SPIParamCfg.  They move whole words, so the stub only ever passes them
 * word-aligned flash addresses, buffers and lengths (the QEMU build's
 * versions refuse anything else, to catch a slip).
 */
#ifndef STUB_ROM_H
#define STUB_ROM_H

#include <stdint.h>

#if defined(STUB_HOST)
#define STUB_ROM_NAME(n) stub_host_##n
#elif defined(STUB_QEMU_ROM)
/* The QEMU build's test versions; rom_vectors.S jumps to them. */
#define STUB_ROM_NAME(n) fake_##n
#endif
#ifdef STUB_ROM_NAME
#define SPIRead STUB_ROM_NAME(SPIRead)
#define SPIWrite STUB_ROM_NAME(SPIWrite)
#define SPIEraseSector STUB_ROM_NAME(SPIEraseSector)
#define SPIEraseBlock STUB_ROM_NAME(SPIEraseBlock)
#define SPIEraseChip STUB_ROM_NAME(SPIEraseChip)
#define SPIUnlock STUB_ROM_NAME(SPIUnlock)
#define SPIParamCfg STUB_ROM_NAME(SPIParamCfg)
#define MD5Init STUB_ROM_NAME(MD5Init)
#define MD5Update STUB_ROM_NAME(MD5Update)
#define MD5Final STUB_ROM_NAME(MD5Final)
#define uart_div_modify STUB_ROM_NAME(uart_div_modify)
#define ets_delay_us STUB_ROM_NAME(ets_delay_us)
#define software_reset STUB_ROM_NAME(software_reset)
#define ets_isr_attach STUB_ROM_NAME(ets_isr_attach)
#define ets_isr_mask STUB_ROM_NAME(ets_isr_mask)
#define ets_isr_unmask STUB_ROM_NAME(ets_isr_unmask)
#define ets_set_user_start STUB_ROM_NAME(ets_set_user_start)
#define ets_get_cpu_frequency STUB_ROM_NAME(ets_get_cpu_frequency)
#define SelectSpiFunction STUB_ROM_NAME(SelectSpiFunction)
#define spi_flash_attach STUB_ROM_NAME(spi_flash_attach)
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

/* Used by the lx106 hardware layers only (esp8266.c, qemu/hw.c). */
void ets_isr_attach(int irq, void (*fn)(void *), void *arg);
void ets_isr_mask(uint32_t mask);
void ets_isr_unmask(uint32_t mask);
void ets_set_user_start(void (*fn)(void));
uint32_t ets_get_cpu_frequency(void);
void SelectSpiFunction(void);
void spi_flash_attach(void);

#endif
