/*
 * hw.h - what the protocol core needs from the machine it runs on, other
 * than ROM calls (rom.h).  Three implementations: the ESP8266 itself
 * (esp8266.c), the QEMU build (qemu/hw.c) and the host tests
 * (host/fake.c).
 *
 * Received bytes do not come through here: the machine hands every byte
 * to stub_rx_byte() as it arrives (the UART interrupt on the chip, a pump
 * that the QEMU build runs while idle and while the fake ROM is busy).
 */
#ifndef STUB_HW_H
#define STUB_HW_H

#include <stdint.h>

/* Milliseconds from an arbitrary start; wraps. */
uint32_t hw_now_ms(void);
/* Queue bytes for the UART, waiting for room. */
void hw_uart_write(const uint8_t *p, uint32_t n);
/* Return once every byte written has left the wire. */
void hw_uart_drain(void);
/* Nothing to do: a chance to wait a little for input. */
void hw_idle(void);
/* Memory-mapped register access for READ_REG / WRITE_REG and CLKDIV. */
uint32_t hw_reg_read(uint32_t addr);
void hw_reg_write(uint32_t addr, uint32_t value);

#endif
