/*
 * rx.h - receive side of the stub: SLIP decoding straight into two frame
 * buffers, byte by byte, from interrupt context (or the QEMU pump).
 *
 * The decoder fills one buffer while the main loop works on the frame in
 * the other, so a FLASH_DATA packet keeps arriving while the previous one
 * is written.  Ownership is handed over with one byte per buffer (FREE,
 * READY, BUSY) that only one side writes at each step, so no lock is
 * needed.  When both buffers are taken a new frame is dropped whole; a
 * frame with a bad escape or too long for a buffer is dropped too, and
 * decoding starts again at the next 0xC0.
 */
#ifndef STUB_RX_H
#define STUB_RX_H

#include <stdint.h>

enum { RX_FREE = 0, RX_READY = 1, RX_BUSY = 2 };
#define RX_NONE 0xFF

struct stub_rx {
    uint8_t *buf[2];
    uint32_t cap;              /* bytes per buffer */
    volatile uint32_t len[2];  /* frame length once READY */
    volatile uint8_t state[2];
    uint8_t fill;              /* buffer being decoded into, or RX_NONE */
    uint8_t last;              /* buffer most recently filled */
    uint8_t take;              /* next buffer the main loop takes */
    uint8_t escape, bad, in_frame;
    uint32_t n;                /* bytes of the frame being decoded */
    volatile uint32_t dropped; /* frames lost: bad, oversized, no buffer */
};

void stub_rx_init(struct stub_rx *rx, uint8_t *a, uint8_t *b, uint32_t cap);
/* One received byte (interrupt context). */
void stub_rx_byte(struct stub_rx *rx, uint8_t c);
/* The oldest complete frame, or NULL; it stays valid until released. */
const uint8_t *stub_rx_frame(struct stub_rx *rx, uint32_t *len);
void stub_rx_release(struct stub_rx *rx);

#endif
