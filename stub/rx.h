/*
 * rx.h - receive side of the stub: SLIP decoding straight into frame
 * buffers, byte by byte, from interrupt context (or the QEMU pump).
 *
 * Big frames (FLASH_DATA-sized) go into one arena, one after another and
 * round again, and leave it in the order they came: so the arena holds
 * as many DATA packets as fit, two of 16 KiB or four of 8 KiB, and a
 * packet keeps arriving while the main loop writes the ones before it.
 * Hosts also send small frames back to back (READ_FLASH acknowledgements,
 * then the next command, without waiting), so every frame starts in one
 * of a few small slots and moves to the arena only if it outgrows it.
 * Complete frames wait in a queue, in arrival order.  Each slot's state
 * byte is written by one side at a time (the decoder takes FREE slots and
 * queues them, the main loop takes queued ones and frees them), so no
 * lock is needed.  A frame that finds no slot or no room, has a bad escape
 * or outgrows its room is dropped whole; decoding picks up at the next
 * 0xC0.
 */
#ifndef STUB_RX_H
#define STUB_RX_H

#include <stdint.h>

#define RX_BIG 6        /* frames in the arena at once */
#define RX_SMALL 4
#define RX_SLOTS (RX_BIG + RX_SMALL)
#define RX_SMALL_CAP 64 /* every request but DATA and long WRITE_REGs */
#define RX_QUEUE 16     /* power of two, > RX_SLOTS */
#define RX_NONE 0xFF

enum { RX_FREE = 0, RX_FILLING = 1, RX_QUEUED = 2, RX_BUSY = 3 };

/* What the main loop noted on a queued frame it answered ahead of its
   turn (stub_service): write it without a reply, or only drop it. */
enum { RX_NOTE_NONE = 0, RX_NOTE_TAKEN = 1, RX_NOTE_ANSWERED = 2 };

struct stub_rx {
    uint8_t *arena;
    uint32_t arena_size;
    uint8_t *volatile buf[RX_SLOTS];
    volatile uint32_t cap[RX_SLOTS];
    volatile uint32_t len[RX_SLOTS];
    volatile uint8_t state[RX_SLOTS];
    uint8_t note[RX_SLOTS];        /* main loop's, RX_NOTE_* */
    volatile uint32_t off[RX_BIG];   /* arena offset of a big slot's frame */
    volatile uint32_t order[RX_BIG]; /* when it was placed (a counter) */
    uint32_t placed;
    /* Room to plan for when a frame moves to the arena: the largest frame
       the host may send next (the main loop sets it: a DATA packet of the
       open write session, else the largest there is). */
    volatile uint32_t expect;
    volatile uint8_t queue[RX_QUEUE];
    volatile uint8_t head, tail;   /* queue[head % RX_QUEUE] is the oldest */
    uint8_t fill;                  /* slot being decoded into, or RX_NONE */
    uint8_t escape, bad, in_frame;
    uint32_t n;                    /* bytes of the frame being decoded */
    volatile uint32_t dropped;     /* frames lost: bad, oversized, no room */
    uint32_t small[RX_SMALL][RX_SMALL_CAP / 4];
};

/* The arena: `size` bytes, word aligned. */
void stub_rx_init(struct stub_rx *rx, uint8_t *arena, uint32_t size);
/* One received byte (interrupt context). */
void stub_rx_byte(struct stub_rx *rx, uint8_t c);
/* The oldest complete frame, or NULL; it stays valid until released. */
const uint8_t *stub_rx_frame(struct stub_rx *rx, uint32_t *len);
void stub_rx_release(struct stub_rx *rx);
/* The main loop's note on the oldest frame (RX_NOTE_*). */
uint8_t stub_rx_head_note(const struct stub_rx *rx);
/*
 * The complete frame `k` places behind the oldest (k = 0: the oldest), or
 * NULL when there is none (yet); *note is the main loop's note on it.
 */
const uint8_t *stub_rx_peek(struct stub_rx *rx, uint32_t k, uint32_t *len,
                            uint8_t **note);
/* Has the main loop taken the oldest frame (stub_rx_frame)? */
int stub_rx_head_taken(const struct stub_rx *rx);
/* Complete frames waiting, the one the main loop holds included. */
static inline uint32_t stub_rx_queued(const struct stub_rx *rx)
{
    return (uint8_t)(rx->tail - rx->head);
}
/* Would `frames` more frames of `need` bytes each find room in the arena
   now, after every frame it holds (one still arriving there counted at
   rx->expect)? */
int stub_rx_room(const struct stub_rx *rx, uint32_t need, uint32_t frames);
/* A frame being received: 0 none, 1 still in a small slot, 2 in the arena. */
int stub_rx_arriving(const struct stub_rx *rx);

#endif
