/* Receive side: see rx.h. */
#include "rx.h"

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

void stub_rx_init(struct stub_rx *rx, uint8_t *arena, uint32_t size)
{
    uint8_t *z = (uint8_t *)rx;
    for (uint32_t i = 0; i < sizeof *rx; i++)
        z[i] = 0;
    rx->arena = arena;
    rx->arena_size = size & ~3u;
    rx->expect = rx->arena_size;
    for (int i = 0; i < RX_SMALL; i++) {
        rx->buf[RX_BIG + i] = (uint8_t *)rx->small[i];
        rx->cap[RX_BIG + i] = RX_SMALL_CAP;
    }
    rx->fill = RX_NONE;
}

static uint32_t round4(uint32_t n)
{
    return (n + 3) & ~3u;
}

/*
 * The arena as the frames in it leave it: [start, end) is taken, round
 * the end of the arena when `wrapped`.  Big frames are placed one after
 * another and leave in the same order, so the free space is what lies
 * after the newest and before the oldest.  A frame still arriving counts
 * at rx->expect (it may grow to that).  `skip` is a slot not to count.
 */
struct span {
    uint32_t start, end;
    int wrapped, empty;
};

static struct span taken(const struct stub_rx *rx, int skip)
{
    struct span s = {0, 0, 0, 1};
    int oldest = -1, newest = -1;
    for (int i = 0; i < RX_BIG; i++) {
        if (i == skip || rx->state[i] == RX_FREE)
            continue;
        if (oldest < 0 || (int32_t)(rx->order[i] - rx->order[oldest]) < 0)
            oldest = i;
        if (newest < 0 || (int32_t)(rx->order[i] - rx->order[newest]) > 0)
            newest = i;
    }
    if (oldest < 0)
        return s;
    uint32_t len = rx->len[newest];
    if (rx->state[newest] == RX_FILLING && len < rx->expect)
        len = rx->expect;
    len = round4(len);
    if (len > rx->cap[newest])
        len = rx->cap[newest];
    s.start = rx->off[oldest];
    s.end = rx->off[newest] + len;
    s.wrapped = rx->off[newest] < rx->off[oldest];
    s.empty = 0;
    return s;
}

/* Take `want` bytes after s->end (or from the arena's start when the rest
   is too short); the offset, with the room there in *room.  With `exact`,
   NONE when no stretch has `want` bytes; otherwise the longer one. */
#define NO_ROOM 0xFFFFFFFFu
static uint32_t take_room(const struct stub_rx *rx, struct span *s,
                          uint32_t want, int exact, uint32_t *room)
{
    uint32_t at, n;
    if (s->empty) {
        at = 0;
        n = rx->arena_size;
    } else if (s->wrapped) {
        at = s->end;
        n = s->start - s->end;
    } else {
        uint32_t after = rx->arena_size - s->end, before = s->start;
        if (after >= want || (!exact && after >= before)) {
            at = s->end;
            n = after;
        } else {
            at = 0;
            n = before;
            s->wrapped = 1;
        }
    }
    if (exact && n < want)
        return NO_ROOM;
    if (s->empty) {
        s->start = 0;
        s->empty = 0;
    }
    s->end = at + (n < want ? n : want);
    *room = n;
    return at;
}

int stub_rx_room(const struct stub_rx *rx, uint32_t need, uint32_t frames)
{
    struct span s = taken(rx, -1);
    uint32_t room;
    for (uint32_t i = 0; i < frames; i++)
        if (take_room(rx, &s, round4(need), 1, &room) == NO_ROOM)
            return 0;
    return 1;
}

int stub_rx_arriving(const struct stub_rx *rx)
{
    uint8_t f = rx->fill;
    if (f == RX_NONE || !rx->in_frame || rx->n == 0)
        return 0;
    return f < RX_BIG ? 2 : 1;
}

static uint8_t take_small(struct stub_rx *rx)
{
    for (int i = RX_BIG; i < RX_SLOTS; i++) {
        if (rx->state[i] == RX_FREE) {
            rx->state[i] = RX_FILLING;
            return (uint8_t)i;
        }
    }
    return RX_NONE;
}

/* A frame outgrew its small slot, or found none: continue it in the
   arena, where a frame the size the main loop expects fits if any can. */
static void to_arena(struct stub_rx *rx)
{
    uint8_t old = rx->fill, big = RX_NONE;
    for (int i = 0; i < RX_BIG && big == RX_NONE; i++)
        if (rx->state[i] == RX_FREE)
            big = (uint8_t)i;
    if (big != RX_NONE) {
        struct span s = taken(rx, -1);
        uint32_t room;
        uint32_t at = take_room(rx, &s, round4(rx->expect), 0, &room);
        if (room > rx->n) {
            rx->off[big] = at;
            rx->order[big] = rx->placed++;
            rx->buf[big] = rx->arena + at;
            rx->cap[big] = room;
            rx->len[big] = rx->n;
            for (uint32_t i = 0; i < rx->n; i++)
                rx->buf[big][i] = rx->buf[old][i];
            rx->state[big] = RX_FILLING;
        } else {
            big = RX_NONE;
        }
    }
    if (old != RX_NONE)
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
        rx->note[f] = RX_NOTE_NONE;
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
        rx->fill = take_small(rx);
        if (rx->fill == RX_NONE)
            to_arena(rx);
    } else if (rx->fill != RX_NONE && rx->n == rx->cap[rx->fill] &&
               rx->fill >= RX_BIG) {
        to_arena(rx);
    }
    if (rx->fill == RX_NONE || rx->n == rx->cap[rx->fill]) {
        rx->bad = 1; /* no room: the whole frame goes */
        return;
    }
    rx->buf[rx->fill][rx->n++] = c;
    if (rx->fill < RX_BIG)
        rx->len[rx->fill] = rx->n; /* how far it reaches into the arena */
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

const uint8_t *stub_rx_peek(struct stub_rx *rx, uint32_t k, uint32_t *len,
                            uint8_t **note)
{
    uint8_t tail = rx->tail;
    if ((uint8_t)(tail - rx->head) <= k)
        return 0;
    uint8_t f = rx->queue[(uint8_t)(rx->head + k) % RX_QUEUE];
    if (rx->state[f] != RX_QUEUED && rx->state[f] != RX_BUSY)
        return 0;
    *len = rx->len[f];
    *note = &rx->note[f];
    return rx->buf[f];
}

int stub_rx_head_taken(const struct stub_rx *rx)
{
    return rx->head != rx->tail &&
           rx->state[rx->queue[rx->head % RX_QUEUE]] == RX_BUSY;
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

uint8_t stub_rx_head_note(const struct stub_rx *rx)
{
    if (rx->head == rx->tail)
        return RX_NOTE_NONE;
    return rx->note[rx->queue[rx->head % RX_QUEUE]];
}
