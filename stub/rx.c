/* Receive side: see rx.h. */
#include "rx.h"

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

void stub_rx_init(struct stub_rx *rx, uint8_t *big0, uint8_t *big1,
                  uint32_t big_cap)
{
    uint8_t *z = (uint8_t *)rx;
    for (uint32_t i = 0; i < sizeof *rx; i++)
        z[i] = 0;
    rx->buf[0] = big0;
    rx->buf[1] = big1;
    rx->cap[0] = rx->cap[1] = big_cap;
    for (int i = 0; i < RX_SMALL; i++) {
        rx->buf[RX_BIG + i] = (uint8_t *)rx->small[i];
        rx->cap[RX_BIG + i] = RX_SMALL_CAP;
    }
    rx->fill = RX_NONE;
}

static uint8_t take_free(struct stub_rx *rx, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (rx->state[i] == RX_FREE) {
            rx->state[i] = RX_FILLING;
            return (uint8_t)i;
        }
    }
    return RX_NONE;
}

/* A frame outgrew its small slot: continue it in a big buffer. */
static void grow(struct stub_rx *rx)
{
    uint8_t big = take_free(rx, 0, RX_BIG);
    uint8_t old = rx->fill;
    if (big != RX_NONE) {
        for (uint32_t i = 0; i < rx->n; i++)
            rx->buf[big][i] = rx->buf[old][i];
    }
    rx->state[old] = RX_FREE;
    rx->fill = big;
}

static void end_frame(struct stub_rx *rx)
{
    uint8_t f = rx->fill;
    if (!rx->in_frame || rx->n == 0)
        return; /* between frames: nothing to end */
    if (f == RX_NONE || rx->bad || rx->escape) {
        if (f != RX_NONE)
            rx->state[f] = RX_FREE;
        rx->dropped++;
    } else {
        rx->len[f] = rx->n;
        rx->state[f] = RX_QUEUED;
        rx->queue[rx->tail % RX_QUEUE] = f;
        rx->tail++;
    }
    rx->fill = RX_NONE;
}

void stub_rx_byte(struct stub_rx *rx, uint8_t c)
{
    if (c == SLIP_END) {
        end_frame(rx);
        /* 0xC0 both ends a frame and may start the next. */
        rx->in_frame = 1;
        rx->n = 0;
        rx->bad = rx->escape = 0;
        return;
    }
    if (!rx->in_frame)
        return; /* noise between frames */
    if (rx->escape) {
        rx->escape = 0;
        if (c == SLIP_ESC_END)
            c = SLIP_END;
        else if (c == SLIP_ESC_ESC)
            c = SLIP_ESC;
        else
            rx->bad = 1;
    } else if (c == SLIP_ESC) {
        rx->escape = 1;
        return;
    }
    if (rx->bad)
        return;
    if (rx->n == 0 && rx->fill == RX_NONE) {
        rx->fill = take_free(rx, RX_BIG, RX_SLOTS);
        if (rx->fill == RX_NONE)
            rx->fill = take_free(rx, 0, RX_BIG);
        if (rx->fill == RX_NONE) {
            rx->bad = 1; /* no room: the whole frame goes */
            return;
        }
    }
    if (rx->n == rx->cap[rx->fill]) {
        if (rx->fill >= RX_BIG)
            grow(rx);
        if (rx->fill == RX_NONE || rx->n == rx->cap[rx->fill]) {
            rx->bad = 1;
            return;
        }
    }
    rx->buf[rx->fill][rx->n++] = c;
}

const uint8_t *stub_rx_frame(struct stub_rx *rx, uint32_t *len)
{
    if (rx->head == rx->tail)
        return 0;
    uint8_t f = rx->queue[rx->head % RX_QUEUE];
    if (rx->state[f] != RX_QUEUED && rx->state[f] != RX_BUSY)
        return 0;
    rx->state[f] = RX_BUSY;
    *len = rx->len[f];
    return rx->buf[f];
}

void stub_rx_release(struct stub_rx *rx)
{
    if (rx->head == rx->tail)
        return;
    uint8_t f = rx->queue[rx->head % RX_QUEUE];
    if (rx->state[f] != RX_BUSY)
        return;
    rx->head++;
    rx->state[f] = RX_FREE;
}
