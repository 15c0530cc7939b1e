/*
 * Request parsing and the commands that need no state of their own.
 * Flash writes are in write.c, READ_FLASH and MD5 in read.c, the baud
 * rate in baud.c.
 */
#include "stub.h"

#include "hw.h"

static uint8_t sync_command(struct stub *s, uint32_t n)
{
    if (n != 36)
        return STUB_E_BAD_LEN;
    /* esptool and esptool-js read eight replies, as the ROM sends; a
       value of 0 is how they tell that a stub is running. */
    for (uint32_t i = 1; i < STUB_SYNC_REPLIES; i++)
        stub_reply(s, STUB_SYNC, 0, 0, 0, 0);
    return 0;
}

static uint8_t write_reg(const uint8_t *b, uint32_t n)
{
    if (n == 0 || n % 16)
        return STUB_E_BAD_LEN;
    for (uint32_t i = 0; i < n; i += 16) {
        if (stub_le32(b + i) & 3)
            return STUB_E_INVALID;
    }
    /* As the ROM does it: wait first, then read-modify-write. */
    for (uint32_t i = 0; i < n; i += 16) {
        uint32_t addr = stub_le32(b + i), value = stub_le32(b + i + 4);
        uint32_t mask = stub_le32(b + i + 8), delay = stub_le32(b + i + 12);
        if (delay & 0xFFFF)
            ets_delay_us(delay & 0xFFFF);
        uint32_t old = mask == 0xFFFFFFFFu ? 0 : hw_reg_read(addr);
        hw_reg_write(addr, (value & mask) | (old & ~mask));
    }
    return 0;
}

static uint8_t set_params(struct stub *s, const uint8_t *b, uint32_t n)
{
    if (n != 24)
        return STUB_E_BAD_LEN;
    uint32_t id = stub_le32(b), size = stub_le32(b + 4);
    uint32_t block = stub_le32(b + 8), sector = stub_le32(b + 12);
    uint32_t page = stub_le32(b + 16), mask = stub_le32(b + 20);
    if (size == 0 || size > STUB_FLASH_MAX || size % FLASH_SECTOR)
        return STUB_E_INVALID;
    if (SPIParamCfg(id, size, block, sector, page, mask))
        return STUB_E_SPI;
    s->flash_size = size;
    return 0;
}

static uint8_t erase_region(struct stub *s, const uint8_t *b, uint32_t n)
{
    if (n != 8)
        return STUB_E_BAD_LEN;
    uint32_t addr = stub_le32(b), size = stub_le32(b + 4);
    if (addr % FLASH_SECTOR || size % FLASH_SECTOR)
        return STUB_E_BAD_LEN;
    if (addr > s->flash_size || size > s->flash_size - addr)
        return STUB_E_SPI;
    if (SPIUnlock())
        return STUB_E_UNLOCK;
    return (uint8_t)flash_erase_to(&addr, addr + size, addr + size, 0, 0);
}

static uint8_t erase_flash(uint32_t n)
{
    if (n != 0)
        return STUB_E_BAD_LEN;
    if (SPIUnlock())
        return STUB_E_UNLOCK;
    return SPIEraseChip() ? STUB_E_SPI : 0;
}

void stub_dispatch(struct stub *s, const uint8_t *f, uint32_t len)
{
    if (len < STUB_HEADER || f[0] != 0) {
        s->ignored++; /* not a request: noise, or a stray acknowledgement */
        return;
    }
    uint8_t op = f[1];
    uint32_t n = (uint32_t)f[2] | (uint32_t)f[3] << 8;
    uint32_t checksum = stub_le32(f + 4);
    const uint8_t *b = f + STUB_HEADER;
    if (n != len - STUB_HEADER) {
        stub_reply(s, op, 0, 0, 0, STUB_E_BAD_LEN);
        return;
    }
    /* A well-formed request: the link works at this rate. */
    s->confirm_pending = 0;
    s->last_rx_ms = hw_now_ms();

    uint8_t err = 0;
    uint32_t value = 0;
    switch (op) {
    case STUB_SYNC:
        err = sync_command(s, n);
        break;
    case STUB_WRITE_REG:
        err = write_reg(b, n);
        break;
    case STUB_READ_REG:
        if (n != 4)
            err = STUB_E_BAD_LEN;
        else if (stub_le32(b) & 3)
            err = STUB_E_INVALID;
        else
            value = hw_reg_read(stub_le32(b));
        break;
    case STUB_SPI_SET_PARAMS:
        err = set_params(s, b, n);
        break;
    case STUB_SPI_ATTACH:
        break; /* the stub attached the flash when it started */
    case STUB_FLASH_BEGIN:
    case STUB_FLASH_DATA:
    case STUB_FLASH_END:
    case STUB_FLASH_DEFL_BEGIN:
    case STUB_FLASH_DEFL_DATA:
    case STUB_FLASH_DEFL_END:
        stub_write_command(s, op, b, n, checksum);
        s->last_rx_ms = hw_now_ms();
        return;
    case STUB_SPI_FLASH_MD5: {
        uint8_t digest[16];
        err = stub_md5_command(s, b, n, digest);
        if (!err) {
            stub_reply(s, op, 0, digest, 16, 0);
            s->last_rx_ms = hw_now_ms();
            return;
        }
        break;
    }
    case STUB_READ_FLASH:
        err = stub_read_begin(s, b, n);
        stub_reply(s, op, 0, 0, 0, err);
        return;
    case STUB_CHANGE_BAUDRATE: {
        uint32_t div;
        err = stub_baud_command(s, b, n, &div);
        stub_reply(s, op, 0, 0, 0, err);
        if (!err)
            stub_baud_switch(s, div);
        return;
    }
    case STUB_ERASE_FLASH:
        err = erase_flash(n);
        break;
    case STUB_ERASE_REGION:
        err = erase_region(s, b, n);
        break;
    case STUB_RUN_USER_CODE:
        s->run_user = 1; /* no reply: the host expects none */
        return;
    default:
        err = STUB_E_INVALID;
        break;
    }
    stub_reply(s, op, value, 0, 0, err);
    s->last_rx_ms = hw_now_ms();
}
