/* Receive side: see rx.h. */
#include "rx.h"

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

void stub_rx_init(struct stub_rx *rx, uint8_t *a, uint8_t *b, uint32_t cap)
{
    rx->buf[0] = a;
    rx->buf[1] = b;
    rx->cap = cap;
    rx->len[0] = rx->len[1] = 0;
    rx->state[0] = rx->state[1] = RX_FREE;
    rx->fill = 0;
    rx->last = 1;
    rx->take = 0;
    rx->escape = rx->bad = rx->in_frame = 0;
    rx->n = 0;
    rx->dropped = 0;
}

/* A frame boundary: pick the buffer for the frame that may follow.  Frames
   must reach the main loop in order, so only the buffer after the last
   one filled will do. */
static void next_buffer(struct stub_rx *rx)
{
    uint8_t want = (uint8_t)(rx->last ^ 1);
    rx->fill = rx->state[want] == RX_FREE ? want : RX_NONE;
}

void stub_rx_byte(struct stub_rx *rx, uint8_t c)
{
    if (c == SLIP_END) {
        if (rx->in_frame && rx->n) {
            if (rx->fill == RX_NONE || rx->bad || rx->escape) {
                rx->dropped++;
            } else {
                rx->len[rx->fill] = rx->n;
                rx->state[rx->fill] = RX_READY;
                rx->last = rx->fill;
            }
        }
        rx->in_frame = 1;
        rx->n = 0;
        rx->bad = rx->escape = 0;
        next_buffer(rx);
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
    if (rx->n < rx->cap) {
        if (rx->fill != RX_NONE && !rx->bad)
            rx->buf[rx->fill][rx->n] = c;
        rx->n++;
    } else {
        rx->bad = 1;
    }
}

const uint8_t *stub_rx_frame(struct stub_rx *rx, uint32_t *len)
{
    uint8_t t = rx->take;
    if (rx->state[t] != RX_READY)
        return 0;
    rx->state[t] = RX_BUSY;
    *len = rx->len[t];
    return rx->buf[t];
}

void stub_rx_release(struct stub_rx *rx)
{
    uint8_t t = rx->take;
    if (rx->state[t] != RX_BUSY)
        return;
    rx->take = (uint8_t)(t ^ 1);
    rx->state[t] = RX_FREE;
}
