/*
 * esp8266.c - the stub's hardware layer on the real chip: UART0 (received
 * bytes by interrupt, so they keep arriving while the ROM flash functions
 * wait for the flash), registers, start-up.  The clock is ccount.c.
 *
 * UART0 registers and bits: ESP8266_NONOS_SDK
 * driver_lib/include/driver/uart_register.h (also in facts 5b); interrupt
 * number: the SDK's include/ets_sys.h (ETS_UART_INUM); ROM functions:
 * rom.ld.
 */
#include "hw.h"
#include "stub.h"

/*
 * Register access with a MEMW before it, as -mserialize-volatile would put
 * one before every volatile access.  The stub is built with
 * -mno-serialize-volatile (about 250 bytes less to upload): its other
 * volatile data is RAM shared with the UART interrupt on this one core,
 * which sees its own accesses in order, while a peripheral register write
 * must be done before the next access goes out.
 */
static inline uint32_t reg_rd(uint32_t a)
{
    __asm__ volatile("memw" ::: "memory");
    return *(volatile uint32_t *)a;
}

static inline void reg_wr(uint32_t a, uint32_t v)
{
    __asm__ volatile("memw" ::: "memory");
    *(volatile uint32_t *)a = v;
}

#define UART0_FIFO 0x60000000u
#define UART0_INT_ST 0x60000008u
#define UART0_INT_ENA 0x6000000Cu
#define UART0_INT_CLR 0x60000010u
#define UART0_CLKDIV 0x60000014u
#define UART0_STATUS 0x6000001Cu
#define UART0_CONF1 0x60000024u
#define UART_RXFIFO_FULL_INT (1u << 0)
#define UART_RXFIFO_OVF_INT (1u << 4)
#define UART_RXFIFO_TOUT_INT (1u << 8)
#define UART_RX_INTS (UART_RXFIFO_FULL_INT | UART_RXFIFO_OVF_INT | UART_RXFIFO_TOUT_INT)
#define UART_RXFIFO_CNT(st) ((st) & 0xFFu)
#define UART_TXFIFO_CNT(st) (((st) >> 16) & 0xFFu)
#define UART_FIFO_SIZE 128u
/* CONF1: rxfifo_full_thrhd 6:0, rx_tout_thrhd 30:24, rx_tout_en 31. */
#define UART_CONF1_RX_MASK (0x7Fu | 0x7Fu << 24 | 1u << 31)
#define UART_RX_FULL_AT 96u  /* bytes: leaves 32 byte-times to answer */
#define UART_RX_TOUT 2u      /* byte-times of silence before the timeout */
#define ETS_UART_INUM 5

void stub_main(void);

static struct stub S;
static uint32_t arena[STUB_ARENA / 4];
static uint32_t window[INFLATE_WINDOW / 4];

static void uart_isr(void *arg)
{
    (void)arg;
    uint32_t st = reg_rd(UART0_INT_ST);
    uint32_t n;
    while ((n = UART_RXFIFO_CNT(reg_rd(UART0_STATUS))) != 0)
        while (n--)
            stub_rx_byte(&S.rx, (uint8_t)reg_rd(UART0_FIFO));
    reg_wr(UART0_INT_CLR, st);
}

void hw_uart_write(const uint8_t *p, uint32_t n)
{
    while (n) {
        if (UART_TXFIFO_CNT(reg_rd(UART0_STATUS)) >= UART_FIFO_SIZE - 1)
            continue;
        reg_wr(UART0_FIFO, *p++);
        n--;
    }
}

void hw_uart_drain(void)
{
    while (UART_TXFIFO_CNT(reg_rd(UART0_STATUS)))
        ;
    /* An empty FIFO still has the last character in the shift register:
       wait one character (10 bits) at the slowest UART clock an ESP8266
       has (2 x 26 MHz). */
    uint32_t div = reg_rd(UART0_CLKDIV) & STUB_UART_CLKDIV_MASK;
    ets_delay_us(div * 10u / 52u + 10u);
}

void hw_idle(void)
{
}

uint32_t hw_reg_read(uint32_t addr)
{
    return reg_rd(addr);
}

void hw_reg_write(uint32_t addr, uint32_t value)
{
    reg_wr(addr, value);
}

void stub_main(void)
{
    extern uint32_t _bss_start, _bss_end;
    for (uint32_t *p = &_bss_start; p < &_bss_end; p++)
        *p = 0;
    /* The ROM set our entry as the user start function; with it cleared,
       its flash-boot path (where stub_entry returns) boots the firmware. */
    ets_set_user_start(0);
    SelectSpiFunction();
    spi_flash_attach();

    reg_wr(UART0_CONF1, (reg_rd(UART0_CONF1) & ~UART_CONF1_RX_MASK) |
                            UART_RX_FULL_AT | UART_RX_TOUT << 24 | 1u << 31);
    reg_wr(UART0_INT_CLR, 0xFFFFu);
    ets_isr_attach(ETS_UART_INUM, uart_isr, 0);
    reg_wr(UART0_INT_ENA, UART_RX_INTS);
    ets_isr_unmask(1u << ETS_UART_INUM);

    stub_start(&S, (uint8_t *)arena, (uint8_t *)window);
    while (!S.run_user)
        stub_poll(&S);

    /* The firmware will be loaded over this code: no interrupt may come
       here any more.  It also starts at the rate the ROM found. */
    ets_isr_mask(1u << ETS_UART_INUM);
    reg_wr(UART0_INT_ENA, 0);
    reg_wr(UART0_INT_CLR, 0xFFFFu);
    if (S.div != S.div0) {
        hw_uart_drain();
        uart_div_modify(0, S.div0);
    }
}
