/* The host machine under the protocol core; see fake.h. */
#include "fake.h"

#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "rom.h"

struct fake_machine fake;

void fake_free(void)
{
    free(fake.flash);
    free(fake.tx);
    memset(&fake, 0, sizeof fake);
}

void fake_reset(uint32_t flash_len, uint32_t clkdiv)
{
    fake_free();
    fake.flash = malloc(flash_len ? flash_len : 1);
    memset(fake.flash, 0xFF, flash_len);
    fake.flash_len = flash_len;
    fake.idle_ms = 1;
    fake.fail_write_at = fake.fail_erase_at = 0xFFFFFFFFu;
    fake_set_reg(0x60000014u, clkdiv);
}

uint32_t fake_reg(uint32_t addr)
{
    for (unsigned i = 0; i < fake.nregs; i++)
        if (fake.reg_addr[i] == addr)
            return fake.reg_val[i];
    return 0;
}

void fake_set_reg(uint32_t addr, uint32_t value)
{
    for (unsigned i = 0; i < fake.nregs; i++) {
        if (fake.reg_addr[i] == addr) {
            fake.reg_val[i] = value;
            return;
        }
    }
    if (fake.nregs < FAKE_MAX_REGS) {
        fake.reg_addr[fake.nregs] = addr;
        fake.reg_val[fake.nregs++] = value;
    }
}

uint32_t hw_now_ms(void) { return fake.now_ms; }
void hw_idle(void) { fake.now_ms += fake.idle_ms; }
void hw_uart_drain(void) { fake.drains++; }
uint32_t hw_reg_read(uint32_t addr) { return fake_reg(addr); }
void hw_reg_write(uint32_t addr, uint32_t value) { fake_set_reg(addr, value); }

void hw_uart_write(const uint8_t *p, uint32_t n)
{
    if (fake.tx_len + n > fake.tx_cap) {
        size_t cap = fake.tx_cap ? fake.tx_cap : 4096;
        while (cap < fake.tx_len + n)
            cap *= 2;
        fake.tx = realloc(fake.tx, cap);
        fake.tx_cap = cap;
    }
    memcpy(fake.tx + fake.tx_len, p, n);
    fake.tx_len += n;
}

static void log_op(char kind, uint32_t arg, uint32_t len)
{
    if (fake.nops < FAKE_MAX_OPS)
        fake.ops[fake.nops++] = (struct fake_op){kind, arg, len, fake.tx_len};
    if (fake.busy)
        fake.busy(fake.busy_ctx);
}

/* What the ROM checks: word alignment and the configured chip size. */
static int bad_range(uint32_t addr, uintptr_t buf, uint32_t size)
{
    return (addr | buf | size) & 3 || addr > fake.chip_size ||
           size > fake.chip_size - addr || addr + (uint64_t)size > fake.flash_len;
}

int SPIParamCfg(uint32_t device_id, uint32_t chip_size, uint32_t block_size,
                uint32_t sector_size, uint32_t page_size, uint32_t status_mask)
{
    (void)device_id, (void)block_size, (void)sector_size, (void)page_size;
    (void)status_mask;
    fake.chip_size = chip_size;
    return 0;
}

int SPIUnlock(void)
{
    fake.unlocks++;
    return fake.unlock_result;
}

int SPIRead(uint32_t addr, void *dst, uint32_t size)
{
    if (bad_range(addr, (uintptr_t)dst, size))
        return 1;
    memcpy(dst, fake.flash + addr, size);
    return 0;
}

int SPIWrite(uint32_t addr, const void *src, uint32_t size)
{
    if (bad_range(addr, (uintptr_t)src, size))
        return 1;
    log_op('W', addr, size);
    if (fake.fail_write_at - addr < size)
        return 1;
    const uint8_t *s = src;
    for (uint32_t i = 0; i < size; i++)
        fake.flash[addr + i] &= s[i];
    return 0;
}

static int erase(char kind, uint32_t addr, uint32_t size)
{
    if (bad_range(addr, 0, size))
        return 1;
    log_op(kind, kind == 'S' ? addr / 4096 : addr / 65536, size);
    if (fake.fail_erase_at - addr < size)
        return 1;
    memset(fake.flash + addr, 0xFF, size);
    return 0;
}

int SPIEraseSector(uint32_t sector)
{
    return sector >= (1u << 20) ? 1 : erase('S', sector * 4096u, 4096);
}

int SPIEraseBlock(uint32_t block)
{
    return block >= (1u << 16) ? 1 : erase('B', block * 65536u, 65536);
}

int SPIEraseChip(void)
{
    log_op('C', 0, fake.flash_len);
    memset(fake.flash, 0xFF, fake.flash_len);
    return 0;
}

void uart_div_modify(uint32_t uart_no, uint32_t div)
{
    if (uart_no == 0 && fake.ndivs < 16)
        fake.divs[fake.ndivs++] = div;
    fake_set_reg(0x60000014u, div);
}

void ets_delay_us(uint32_t us) { fake.delays_us += us; }
void software_reset(void) { fake.resets++; }
