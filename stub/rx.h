/*
 * rx.h - receive side of the stub: SLIP decoding straight into frame
 * buffers, byte by byte, from interrupt context (or the QEMU pump).
 *
 * Two big buffers take FLASH_DATA-sized frames, so one packet keeps
 * arriving while the main loop writes the previous one to flash.  Hosts
 * also send small frames back to back (READ_FLASH acknowledgements, then
 * the next command, without waiting), so every frame starts in one of a
 * few small slots and moves to a free big buffer only if it outgrows it.
 * Complete frames wait in a queue, in arrival order.  Each slot's state
 * byte is written by one side at a time (the decoder takes FREE slots and
 * queues them, the main loop takes queued ones and frees them), so no
 * lock is needed.  A frame that finds no slot, has a bad escape or is too
 * long for a big buffer is dropped whole; decoding picks up at the next
 * 0xC0.
 */
#ifndef STUB_RX_H
#define STUB_RX_H

#include <stdint.h>

#define RX_BIG 2
#define RX_SMALL 4
#define RX_SLOTS (RX_BIG + RX_SMALL)
#define RX_SMALL_CAP 64 /* every request but DATA and long WRITE_REGs */
#define RX_QUEUE 8      /* power of two, > RX_SLOTS */
#define RX_NONE 0xFF

enum { RX_FREE = 0, RX_FILLING = 1, RX_QUEUED = 2, RX_BUSY = 3 };

struct stub_rx {
    uint8_t *buf[RX_SLOTS];
    uint32_t cap[RX_SLOTS];
    volatile uint32_t len[RX_SLOTS];
    volatile uint8_t state[RX_SLOTS];
    volatile uint8_t queue[RX_QUEUE];
    volatile uint8_t head, tail;   /* queue[head % RX_QUEUE] is the oldest */
    uint8_t fill;                  /* slot being decoded into, or RX_NONE */
    uint8_t escape, bad, in_frame;
    uint32_t n;                    /* bytes of the frame being decoded */
    volatile uint32_t dropped;     /* frames lost: bad, oversized, no room */
    uint32_t small[RX_SMALL][RX_SMALL_CAP / 4];
};

/* Big buffers: `big_cap` bytes each, word aligned. */
void stub_rx_init(struct stub_rx *rx, uint8_t *big0, uint8_t *big1,
                  uint32_t big_cap);
/* One received byte (interrupt context). */
void stub_rx_byte(struct stub_rx *rx, uint8_t c);
/* The oldest complete frame, or NULL; it stays valid until released. */
const uint8_t *stub_rx_frame(struct stub_rx *rx, uint32_t *len);
void stub_rx_release(struct stub_rx *rx);

#endif
