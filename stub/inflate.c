/*
 * Streaming inflater; see inflate.h.  Written from RFC 1951 and RFC 1950.
 *
 * Resuming mid-stream without a copy of earlier input works because every
 * step is atomic: a step first pulls bytes into the 32-bit bit buffer,
 * looks at the bits without taking them, and takes them only when the
 * whole step (a code and its extra bits) is there.  Otherwise it returns
 * INFLATE_MORE with the bits kept for the next piece.  No step needs more
 * than 20 bits, and the buffer is only topped up while it holds 24 bits or
 * fewer, so it never overflows.
 *
 * Literal/length codes of up to 9 bits (nearly all of them) are decoded
 * with one 512-entry table lookup; longer ones, distance codes and the
 * code length code one bit at a time from the canonical code counts.
 */
#include "inflate.h"

#include <stddef.h>

enum {
    ST_ZHDR,
    ST_HEADER,
    ST_STORED_LEN,
    ST_STORED_COPY,
    ST_TABLE,
    ST_CLEN,
    ST_LENS,
    ST_CODES,
    ST_DIST,
    ST_DIST_EXTRA,
    ST_CHECK,
    ST_TRAILER,
    ST_END
};

#define WIN_MASK (INFLATE_WINDOW - 1u)
#define ADLER_MOD 65521u
/* Largest n with 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) < 2^32. */
#define ADLER_RUN 5552u

/*
 * RFC 1951 3.2.5 and 3.2.7 by formula rather than by table: the image has
 * no data segment at all (one upload less, and IRAM, where the code is,
 * takes only word loads).  Length codes 257..284 (i = code - 257) carry
 * i / 4 - 1 extra bits from i = 8 on, and start at ((i % 4 + 4) << extra)
 * + 3; code 285 is 258.  Distance codes carry i / 2 - 1 extra bits from
 * i = 4 on, and start at ((i % 2 + 2) << extra) + 1.
 */
static uint32_t len_extra(uint32_t i)
{
    return i < 8 || i == 28 ? 0 : (i >> 2) - 1;
}

static uint32_t len_base(uint32_t i)
{
    if (i == 28)
        return 258;
    return i < 8 ? i + 3 : (((i & 3) + 4) << len_extra(i)) + 3;
}

static uint32_t dist_extra(uint32_t i)
{
    return i < 4 ? 0 : (i >> 1) - 1;
}

static uint32_t dist_base(uint32_t i)
{
    return i < 4 ? i + 1 : (((i & 1) + 2) << dist_extra(i)) + 1;
}

/* The order of the code length code lengths: 16, 17, 18, 0, then 8 and
   outwards from it, 7, 9, 6, 10, ... 1, 15. */
static uint32_t clen_order(uint32_t i)
{
    if (i < 4)
        return i == 3 ? 0 : 16 + i;
    uint32_t j = i - 4;
    return j & 1 ? 8 - (j + 1) / 2 : 8 + j / 2;
}

struct reader {
    const uint8_t *p, *end;
};

void inflate_init(struct inflater *z, uint8_t *window, enum inflate_mode mode)
{
    uint8_t *b = (uint8_t *)z;
    for (size_t i = 0; i < sizeof *z; i++)
        b[i] = 0;
    z->win = window;
    z->mode = (uint8_t)mode;
    z->state = mode == INFLATE_RAW ? ST_HEADER : ST_ZHDR;
    z->adler_a = 1;
    z->lit.symbol = z->lit_sym;
    z->dist.symbol = z->dist_sym_tab;
}

static void fill(struct inflater *z, struct reader *r)
{
    while (z->bitcnt <= 24 && r->p < r->end) {
        z->bitbuf |= (uint32_t)*r->p++ << z->bitcnt;
        z->bitcnt += 8;
    }
}

/* Pull bytes until `n` (<= 25) bits are there; false when input ran out. */
static int need(struct inflater *z, struct reader *r, uint32_t n)
{
    fill(z, r);
    return z->bitcnt >= n;
}

static uint32_t take(struct inflater *z, uint32_t n)
{
    uint32_t v = z->bitbuf & ((1u << n) - 1u);
    z->bitbuf >>= n;
    z->bitcnt -= n;
    return v;
}

/*
 * Decode the next symbol from the bits in hand without taking them.
 * Returns the symbol and its code length as symbol << 4 | length (as the
 * fast table holds them), -1 when the bits in hand end inside a code, -2
 * when they match no code.  Within one length the
 * canonical codes are consecutive, so `code - first` indexes the symbols
 * of that length.
 */
static int peek_symbol(const struct inflater *z, const struct inflate_code *c)
{
    uint32_t code = 0, first = 0, index = 0;
    for (uint32_t l = 1; l <= 15; l++) {
        if (l > z->bitcnt)
            return -1;
        code |= (z->bitbuf >> (l - 1)) & 1u;
        uint32_t n = c->count[l];
        if (code - first < n)
            return (int)((uint32_t)c->symbol[index + code - first] << 4 | l);
        index += n;
        first = (first + n) << 1;
        code <<= 1;
    }
    return -2;
}

enum { CODE_LITLEN, CODE_DIST, CODE_CLEN };

/*
 * Canonical code from lengths (RFC 1951 3.2.2).  Over-subscribed lengths
 * are an error; an incomplete set only for literal/length and distance
 * codes made of one 1-bit code (a stream with a single distance uses
 * that), and an all-zero set (a block with no distances at all).
 */
static int build(struct inflate_code *c, const uint8_t *lens, uint32_t n,
                 int kind)
{
    uint16_t offs[16];
    for (uint32_t l = 0; l < 16; l++)
        c->count[l] = 0;
    for (uint32_t s = 0; s < n; s++)
        c->count[lens[s]]++;
    if (c->count[0] == n)
        return kind == CODE_DIST ? 0 : -1;
    int32_t left = 1;
    uint32_t max = 0;
    for (uint32_t l = 1; l < 16; l++) {
        left = 2 * left - c->count[l];
        if (left < 0)
            return -1;
        if (c->count[l])
            max = l;
    }
    if (left > 0 && (kind == CODE_CLEN || max != 1))
        return -1;
    offs[1] = 0;
    for (uint32_t l = 1; l < 15; l++)
        offs[l + 1] = (uint16_t)(offs[l] + c->count[l]);
    for (uint32_t s = 0; s < n; s++)
        if (lens[s])
            c->symbol[offs[lens[s]]++] = (uint16_t)s;
    return 0;
}

/* The table for literal/length codes of up to INFLATE_FAST_BITS bits:
   each code (sent most significant bit first, so reversed in the bit
   buffer) fills every entry whose low bits it is. */
static void build_fast(struct inflater *z, const uint8_t *lens, uint32_t n)
{
    uint32_t next[16];
    for (uint32_t i = 0; i < (1u << INFLATE_FAST_BITS); i++)
        z->lit_fast[i] = 0;
    /* First code of each length (RFC 1951 3.2.2, step 2). */
    next[1] = 0;
    for (uint32_t l = 2; l < 16; l++)
        next[l] = (next[l - 1] + z->lit.count[l - 1]) << 1;
    for (uint32_t s = 0; s < n; s++) {
        uint32_t l = lens[s];
        if (l == 0)
            continue;
        uint32_t c = next[l]++;
        if (l > INFLATE_FAST_BITS)
            continue;
        uint32_t rev = 0;
        for (uint32_t b = 0; b < l; b++)
            rev |= ((c >> b) & 1u) << (l - 1 - b);
        for (uint32_t k = rev; k < (1u << INFLATE_FAST_BITS); k += 1u << l)
            z->lit_fast[k] = (uint16_t)(s << 4 | l);
    }
}

static void adler_update(struct inflater *z, const uint8_t *p, uint32_t n)
{
    uint32_t a = z->adler_a, b = z->adler_b;
    while (n) {
        uint32_t run = n < ADLER_RUN ? n : ADLER_RUN;
        n -= run;
        while (run--) {
            a += *p++;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    z->adler_a = a;
    z->adler_b = b;
}

static int flush(struct inflater *z, inflate_out_fn out, void *ctx)
{
    if (z->pos > z->flushed) {
        const uint8_t *p = z->win + z->flushed;
        uint32_t n = z->pos - z->flushed;
        z->flushed = z->pos;
        if (z->zlib)
            adler_update(z, p, n);
        int rc = out(ctx, p, n);
        if (rc) {
            z->out_err = rc;
            return INFLATE_E_OUTPUT;
        }
    }
    if (z->pos == INFLATE_WINDOW)
        z->pos = z->flushed = 0;
    return 0;
}

static int put(struct inflater *z, uint8_t byte, inflate_out_fn out, void *ctx)
{
    z->win[z->pos++] = byte;
    z->total_out++;
    if (z->history < INFLATE_WINDOW)
        z->history++;
    return z->pos == INFLATE_WINDOW ? flush(z, out, ctx) : 0;
}

static void fixed_codes(struct inflater *z)
{
    uint32_t s = 0;
    for (; s < 144; s++)
        z->lens[s] = 8;
    for (; s < 256; s++)
        z->lens[s] = 9;
    for (; s < 280; s++)
        z->lens[s] = 7;
    for (; s < 288; s++)
        z->lens[s] = 8;
    for (s = 0; s < 32; s++)
        z->lens[288 + s] = 5;
    /* All 288 and 32 symbols, so both codes are complete; the symbols
       that may not appear (286, 287, 30, 31) are refused when decoded. */
    build(&z->lit, z->lens, 288, CODE_LITLEN);
    build(&z->dist, z->lens + 288, 32, CODE_DIST);
    build_fast(z, z->lens, 288);
}

static int zlib_header_ok(uint32_t cmf, uint32_t flg)
{
    return (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 &&
           ((cmf << 8) | flg) % 31 == 0 && !(flg & 0x20);
}

/*
 * The steps that read a header or a code table are functions of their own;
 * run() keeps the ones that produce output (stored bytes, literals,
 * matches, the flush before the trailer).  A step returns STEP_NEXT when
 * it moved to the next state and the stream goes on, anything else is what
 * inflate_feed returns (enum inflate_status).
 */
#define STEP_NEXT 2

/* The two bytes of an RFC 1950 header, when there is one (INFLATE_AUTO
 * takes a stream without one as raw). */
static int zlib_header(struct inflater *z, struct reader *r)
{
    if (!need(z, r, 16))
        return INFLATE_MORE;
    uint32_t v = z->bitbuf & 0xFFFF;
    if (zlib_header_ok(v & 0xFF, v >> 8)) {
        take(z, 16);
        z->zlib = 1;
    } else if (z->mode == INFLATE_ZLIB) {
        return INFLATE_E_DATA;
    }
    z->state = ST_HEADER;
    return STEP_NEXT;
}

/* BFINAL and BTYPE: a stored, fixed-code or dynamic-code block. */
static int block_header(struct inflater *z, struct reader *r)
{
    if (!need(z, r, 3))
        return INFLATE_MORE;
    z->final = (uint8_t)take(z, 1);
    uint32_t v = take(z, 2);
    if (v == 0) {
        z->state = ST_STORED_LEN;
    } else if (v == 1) {
        fixed_codes(z);
        z->state = ST_CODES;
    } else if (v == 2) {
        z->state = ST_TABLE;
    } else {
        return INFLATE_E_DATA;
    }
    return STEP_NEXT;
}

static int stored_len(struct inflater *z, struct reader *r)
{
    /* Skip to the byte boundary; LEN and NLEN are the next 32 bits,
       which fill() can hold once the buffer is byte aligned. */
    take(z, z->bitcnt & 7);
    fill(z, r);
    if (z->bitcnt < 32)
        return INFLATE_MORE;
    uint32_t v = z->bitbuf;
    if ((v & 0xFFFF) != (~v >> 16 & 0xFFFF))
        return INFLATE_E_DATA;
    z->stored_left = v & 0xFFFF;
    z->bitbuf = 0;
    z->bitcnt = 0;
    z->state = ST_STORED_COPY;
    return STEP_NEXT;
}

/* HLIT, HDIST and HCLEN of a dynamic block. */
static int table_header(struct inflater *z, struct reader *r)
{
    if (!need(z, r, 14))
        return INFLATE_MORE;
    z->nlen = (uint16_t)(take(z, 5) + 257);
    z->ndist = (uint16_t)(take(z, 5) + 1);
    z->nclen = (uint16_t)(take(z, 4) + 4);
    if (z->nlen > 286 || z->ndist > 30)
        return INFLATE_E_DATA;
    for (uint32_t v = 0; v < 19; v++)
        z->lens[v] = 0;
    z->idx = 0;
    z->state = ST_CLEN;
    return STEP_NEXT;
}

/* The code length code's lengths, 3 bits each. */
static int clen_lens(struct inflater *z, struct reader *r)
{
    while (z->idx < z->nclen) {
        if (!need(z, r, 3))
            return INFLATE_MORE;
        z->lens[clen_order(z->idx++)] = (uint8_t)take(z, 3);
    }
    /* The code length code lives in the distance tables until the
       real distance code replaces it. */
    if (build(&z->dist, z->lens, 19, CODE_CLEN))
        return INFLATE_E_DATA;
    z->idx = 0;
    z->state = ST_LENS;
    return STEP_NEXT;
}

/* The literal/length and distance code lengths, in the code length code
 * with its repeats (16: the last length, 17 and 18: zeros); then both
 * codes. */
static int code_lens(struct inflater *z, struct reader *r)
{
    while (z->idx < z->nlen + z->ndist) {
        fill(z, r);
        int code = peek_symbol(z, &z->dist);
        if (code == -1)
            return INFLATE_MORE;
        if (code < 0)
            return INFLATE_E_DATA;
        int sym = code >> 4;
        uint32_t len = (uint32_t)code & 15;
        if (sym < 16) {
            take(z, len);
            z->lens[z->idx++] = (uint8_t)sym;
            continue;
        }
        uint32_t bits = sym == 16 ? 2 : sym == 17 ? 3 : 7;
        if (z->bitcnt < len + bits)
            return INFLATE_MORE;
        if (sym == 16 && z->idx == 0)
            return INFLATE_E_DATA;
        take(z, len);
        uint32_t rep = take(z, bits) + (sym == 16 ? 3 : sym == 17 ? 3 : 11);
        if (z->idx + rep > (uint32_t)(z->nlen + z->ndist))
            return INFLATE_E_DATA;
        uint8_t fillv = sym == 16 ? z->lens[z->idx - 1] : 0;
        while (rep--)
            z->lens[z->idx++] = fillv;
    }
    if (z->lens[256] == 0 ||
        build(&z->lit, z->lens, z->nlen, CODE_LITLEN) ||
        build(&z->dist, z->lens + z->nlen, z->ndist, CODE_DIST))
        return INFLATE_E_DATA;
    build_fast(z, z->lens, z->nlen);
    z->state = ST_CODES;
    return STEP_NEXT;
}

static int dist_code(struct inflater *z, struct reader *r)
{
    fill(z, r);
    int code = peek_symbol(z, &z->dist);
    if (code == -1)
        return INFLATE_MORE;
    if (code < 0 || code >> 4 > 29)
        return INFLATE_E_DATA;
    take(z, (uint32_t)code & 15);
    z->dist_sym = (uint16_t)(code >> 4);
    z->state = ST_DIST_EXTRA;
    return STEP_NEXT;
}

static int trailer(struct inflater *z, struct reader *r)
{
    while (z->idx < 4) {
        if (!need(z, r, 8))
            return INFLATE_MORE;
        z->trailer = z->trailer << 8 | take(z, 8);
        z->idx++;
    }
    if (z->trailer != (z->adler_b << 16 | z->adler_a))
        return INFLATE_E_CHECK;
    z->state = ST_END;
    return STEP_NEXT;
}

/* Steps until one needs more input, or the stream ends or fails. */
static int run(struct inflater *z, struct reader *r, inflate_out_fn out,
               void *ctx)
{
    for (;;) {
        uint32_t len;
        int sym, rc;
        switch (z->state) {
        case ST_ZHDR:
            if ((rc = zlib_header(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_HEADER:
            if ((rc = block_header(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_STORED_LEN:
            if ((rc = stored_len(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_STORED_COPY:
            while (z->stored_left) {
                if (r->p == r->end)
                    return INFLATE_MORE;
                if ((rc = put(z, *r->p++, out, ctx)) != 0)
                    return rc;
                z->stored_left--;
            }
            z->state = z->final ? ST_CHECK : ST_HEADER;
            break;
        case ST_TABLE:
            if ((rc = table_header(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_CLEN:
            if ((rc = clen_lens(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_LENS:
            if ((rc = code_lens(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_CODES:
            for (;;) {
                fill(z, r);
                uint32_t fast = z->bitcnt >= INFLATE_FAST_BITS
                                    ? z->lit_fast[z->bitbuf & ((1u << INFLATE_FAST_BITS) - 1)]
                                    : 0;
                sym = fast ? (int)fast : peek_symbol(z, &z->lit);
                if (sym == -1)
                    return INFLATE_MORE;
                if (sym < 0 || sym >> 4 > 285)
                    return INFLATE_E_DATA;
                len = (uint32_t)sym & 15;
                sym >>= 4;
                if (sym < 256) {
                    take(z, len);
                    if ((rc = put(z, (uint8_t)sym, out, ctx)) != 0)
                        return rc;
                    continue;
                }
                if (sym == 256) {
                    take(z, len);
                    z->state = z->final ? ST_CHECK : ST_HEADER;
                    break;
                }
                uint32_t e = len_extra((uint32_t)sym - 257);
                if (z->bitcnt < len + e)
                    return INFLATE_MORE;
                take(z, len);
                z->match_len = (uint16_t)(len_base((uint32_t)sym - 257) + take(z, e));
                z->state = ST_DIST;
                break;
            }
            break;
        case ST_DIST:
            if ((rc = dist_code(z, r)) != STEP_NEXT)
                return rc;
            break;
        case ST_DIST_EXTRA: {
            uint32_t e = dist_extra(z->dist_sym);
            if (!need(z, r, e))
                return INFLATE_MORE;
            uint32_t d = dist_base(z->dist_sym) + take(z, e);
            if (d > z->history)
                return INFLATE_E_DATA;
            uint32_t from = (z->pos - d) & WIN_MASK;
            for (uint32_t i = 0; i < z->match_len; i++) {
                if ((rc = put(z, z->win[from], out, ctx)) != 0)
                    return rc;
                from = (from + 1) & WIN_MASK;
            }
            z->state = ST_CODES;
            break;
        }
        case ST_CHECK:
            z->state = ST_END;
            if (z->zlib) {
                /* Every output byte must be in the sum before it is compared. */
                if ((rc = flush(z, out, ctx)) != 0)
                    return rc;
                take(z, z->bitcnt & 7);
                z->idx = 0;
                z->state = ST_TRAILER;
            }
            break;
        case ST_TRAILER:
            if ((rc = trailer(z, r)) != STEP_NEXT)
                return rc;
            break;
        default: /* ST_END */
            return INFLATE_DONE;
        }
    }
}

int inflate_feed(struct inflater *z, const uint8_t *in, uint32_t len,
                 inflate_out_fn out, void *ctx)
{
    if (z->status != INFLATE_MORE) {
        z->used = 0;
        return z->status;
    }
    struct reader r = {in, in + len};
    int rc = run(z, &r, out, ctx);
    z->used = (uint32_t)(r.p - in);
    if (rc >= 0) {
        int frc = flush(z, out, ctx);
        if (frc)
            rc = frc;
    }
    if (rc == INFLATE_DONE) {
        /* Whole bytes pulled into the bit buffer past the end belong to
           whatever follows the stream: give them back. */
        uint32_t back = z->bitcnt / 8;
        z->used = z->used > back ? z->used - back : 0;
    }
    z->status = rc == INFLATE_MORE ? INFLATE_MORE : rc;
    return rc;
}
