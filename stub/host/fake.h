/*
 * fake.h - the machine under the protocol core in the host tests and the
 * fuzzer: an in-memory NOR flash behind fakes of the ROM's SPI functions
 * (program ANDs bits, erase sets 0xFF, the ROM's alignment and chip-size
 * checks), a transmit buffer, a register file and a clock the test moves.
 */
#ifndef STUB_HOST_FAKE_H
#define STUB_HOST_FAKE_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_MAX_OPS 8192
#define FAKE_MAX_REGS 64

struct fake_op {
    char kind;     /* 'S' sector erase, 'B' block erase, 'C' chip erase, 'W' write */
    uint32_t arg;  /* sector / block number, or write address */
    uint32_t len;  /* write length */
    size_t tx_at;  /* bytes transmitted when the operation started */
};

struct fake_machine {
    uint8_t *flash;          /* backing store, flash_len bytes */
    uint32_t flash_len;
    uint32_t chip_size;      /* what SPIParamCfg set */
    uint32_t now_ms;
    uint32_t idle_ms;        /* clock advance per hw_idle() */
    uint8_t *tx;
    size_t tx_len, tx_cap;
    uint32_t reg_addr[FAKE_MAX_REGS], reg_val[FAKE_MAX_REGS];
    unsigned nregs;
    struct fake_op ops[FAKE_MAX_OPS];
    unsigned nops;
    uint32_t fail_write_at;  /* SPIWrite covering this address fails (~0: never) */
    uint32_t fail_erase_at;  /* erase covering this address fails */
    int unlock_result;
    unsigned resets, drains, unlocks;
    uint32_t divs[16];       /* uart_div_modify calls */
    unsigned ndivs;
    uint32_t delays_us;
    /* Called from every SPIWrite/erase, as the UART interrupt would run
       while the ROM waits for the flash. */
    void (*busy)(void *ctx);
    void *busy_ctx;
};

extern struct fake_machine fake;

/* Fresh machine with `flash_len` bytes of 0xFF flash, CLKDIV = `clkdiv`. */
void fake_reset(uint32_t flash_len, uint32_t clkdiv);
void fake_free(void);
uint32_t fake_reg(uint32_t addr);
void fake_set_reg(uint32_t addr, uint32_t value);

#endif
