/*
 * qemu/hw.c - the stub's hardware layer in the QEMU build, in place of
 * esp8266.c: the UART is QEMU's semihosting console (fd 0 in, fd 1 out).
 *
 * Received bytes reach the protocol core the way the chip's UART interrupt
 * delivers them: uart_isr() is attached with ets_isr_attach() like the
 * chip's handler, and the fake ROM calls it all the time it is "busy" with
 * the flash; the idle loop calls it too.  Semihosting reads never block and
 * QEMU's console holds only 16 bytes, refilled by another QEMU thread, so
 * when reads find nothing for 40 us the stub halts (WAITI on the CCOMPARE0
 * timer) for 50 us, 1 ms after 20 ms of quiet, 10 ms after 1 s: the
 * refilling thread gets the host CPU, and an idle QEMU costs almost none.
 */
#include "hw.h"
#include "machine.h"
#include "semihost.h"
#include "stub.h"

#define ETS_UART_INUM 5
#define QUIET_BEFORE_SLEEP_MS 20u
#define SPIN_US 40u
#define SLEEP_BUSY_US 50u
#define SLEEP_QUIET_US 1000u
#define IDLE_AFTER_MS 1000u
#define SLEEP_IDLE_US 10000u /* a host's first byte waits at most this */

void stub_main(void);

static struct stub S;
static uint32_t arena[STUB_ARENA / 4];
static uint32_t window[INFLATE_WINDOW / 4];
static uint32_t last_byte_cc;

/* Everything the console has; the count. */
static int32_t pump(void)
{
    uint8_t buf[64];
    int32_t n, total = 0;
    while ((n = semi_read(0, buf, sizeof buf)) > 0) {
        for (int32_t i = 0; i < n; i++)
            stub_rx_byte(&S.rx, buf[i]);
        last_byte_cc = qemu_ccount();
        total += n;
    }
    return total;
}

static void uart_isr(void *arg)
{
    (void)arg;
    pump();
}

void hw_uart_write(const uint8_t *p, uint32_t n)
{
    while (n) {
        int32_t k = semi_write(1, p, n);
        if (k <= 0)
            continue;
        p += k;
        n -= (uint32_t)k;
    }
}

void hw_uart_drain(void)
{
    /* Semihosting writes reach the socket before they return. */
}

void hw_idle(void)
{
    /* Bytes flowing: QEMU refills its console within microseconds, so
       look again for a moment before halting. */
    uint32_t t0 = qemu_ccount();
    do {
        if (pump())
            return;
    } while (qemu_ccount() - t0 < SPIN_US * QEMU_CPU_MHZ &&
             qemu_ccount() - last_byte_cc < QUIET_BEFORE_SLEEP_MS * 1000u * QEMU_CPU_MHZ);
    /* In ms, so that the counter's 107 s wrap only makes a long-idle stub
       a little more attentive for a moment. */
    uint32_t quiet_ms = (qemu_ccount() - last_byte_cc) / (1000u * QEMU_CPU_MHZ);
    uint32_t us = quiet_ms >= IDLE_AFTER_MS          ? SLEEP_IDLE_US
                  : quiet_ms >= QUIET_BEFORE_SLEEP_MS ? SLEEP_QUIET_US
                                                      : SLEEP_BUSY_US;
    qemu_sleep_cycles(us * QEMU_CPU_MHZ);
}

/* QEMU's sim machine maps RAM only (docs/stub.md); anything else would
   be a bus error, where the chip has registers.  The registers the host
   uses keep what it writes there, SPI0's with a model behind them. */
static int mapped(uint32_t a)
{
    return (a >= 0x3FF40000u && a < 0x40300000u) ||
           (a >= 0x50000000u && a < 0x54000000u) ||
           (a >= 0x60000000u && a < 0x68000000u);
}

/* The eFuse words the ROM simulator (tests/tools/romsim) reports too, so
   that hosts reading the MAC see one chip. */
static const uint32_t efuse[4] = {0xA6000000u, 0x0000C3B2u, 0, 0x005CCF7Fu};

uint32_t hw_reg_read(uint32_t addr)
{
    if (addr >= 0x3FF00050u && addr <= 0x3FF0005Cu)
        return efuse[(addr - 0x3FF00050u) / 4];
    return mapped(addr) ? *(volatile uint32_t *)addr : 0;
}

void hw_reg_write(uint32_t addr, uint32_t value)
{
    if (mapped(addr))
        *(volatile uint32_t *)addr = value;
    /* On the chip this starts the flash controller; here the fake machine
       runs the command before the next request can look. */
    if (addr == SPI0_CMD && (value & SPI0_CMD_USR))
        fake_spi0_user_command();
}

void stub_main(void)
{
    extern uint32_t _bss_start, _bss_end;
    for (uint32_t *p = &_bss_start; p < &_bss_end; p++)
        *p = 0;
    ets_set_user_start(0);
    SelectSpiFunction();
    spi_flash_attach();
    last_byte_cc = qemu_ccount();
    ets_isr_attach(ETS_UART_INUM, uart_isr, 0);
    ets_isr_unmask(1u << ETS_UART_INUM);

    stub_start(&S, (uint8_t *)arena, (uint8_t *)window);
    while (!S.run_user)
        stub_poll(&S);

    ets_isr_mask(1u << ETS_UART_INUM);
    if (S.div != S.div0) {
        hw_uart_drain();
        uart_div_modify(0, S.div0);
    }
}
