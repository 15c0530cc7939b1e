/*
 * inflate.h - streaming inflater for the flasher stub (RFC 1951 deflate,
 * optionally inside an RFC 1950 zlib wrapper whose Adler-32 is checked).
 *
 * Input arrives in arbitrary pieces (one per FLASH_DEFL_DATA packet) and
 * every piece is consumed whole: bits that do not yet make a complete
 * symbol stay in the bit buffer until the next piece.  Output goes through
 * the caller's 32 KiB window and is handed to `out` in contiguous pieces
 * (at least once per call, and whenever the window wraps).  Every loop
 * consumes input or produces bounded output, and every table index is
 * checked, so hostile input ends in an error code, never a hang or an
 * access outside the window and tables.
 *
 * Portable C11: built for the lx106 and for the host (unit tests, fuzzer).
 */
#ifndef STUB_INFLATE_H
#define STUB_INFLATE_H

#include <stdint.h>

#define INFLATE_WINDOW 32768u
#define INFLATE_FAST_BITS 9 /* literal/length codes this short decode by table */

enum inflate_mode {
    INFLATE_ZLIB = 0, /* RFC 1950 header and Adler-32 trailer required */
    INFLATE_RAW = 1,  /* bare RFC 1951 stream */
    INFLATE_AUTO = 2  /* zlib when the first two bytes are a valid header */
};

enum inflate_status {
    INFLATE_MORE = 0,      /* input used up, the stream goes on */
    INFLATE_DONE = 1,      /* end of stream (trailer checked); see `used` */
    INFLATE_E_DATA = -1,   /* malformed stream */
    INFLATE_E_CHECK = -2,  /* Adler-32 of the output does not match */
    INFLATE_E_OUTPUT = -3  /* `out` refused; its code is in `out_err` */
};

/* Takes `len` output bytes; returns 0, or a nonzero code that stops the stream. */
typedef int (*inflate_out_fn)(void *ctx, const uint8_t *data, uint32_t len);

struct inflate_code {
    uint16_t count[16]; /* codes of each length, [0] unused */
    uint16_t *symbol;   /* symbols ordered by code */
};

struct inflater {
    uint8_t *win;        /* INFLATE_WINDOW bytes, the caller's */
    uint32_t pos;        /* next write position in win */
    uint32_t flushed;    /* win[flushed, pos) not yet handed out */
    uint32_t history;    /* bytes a distance may reach back (<= window) */
    uint32_t total_out;  /* bytes produced (wraps; for the caller) */
    uint32_t used;       /* bytes of the last piece consumed */
    uint32_t bitbuf;
    uint32_t bitcnt;
    uint32_t adler_a, adler_b, trailer;
    uint32_t stored_left;
    uint16_t match_len, dist_sym;
    uint16_t nlen, ndist, nclen, idx;
    uint8_t state, mode, final, zlib;
    int out_err;
    int status;          /* sticky once the stream ended or failed */
    struct inflate_code lit, dist;
    uint16_t lit_sym[288];
    /* Next 9 bits -> symbol << 4 | code length, 0 when the code is longer. */
    uint16_t lit_fast[1u << INFLATE_FAST_BITS];
    uint16_t dist_sym_tab[32];
    uint8_t lens[288 + 32];
};

void inflate_init(struct inflater *z, uint8_t *window, enum inflate_mode mode);

/*
 * Consume all of in[0, len) (fewer only when the stream ends inside it:
 * then INFLATE_DONE and z->used says how many bytes belonged to it).
 * After DONE or an error the same status is returned and nothing is used.
 */
int inflate_feed(struct inflater *z, const uint8_t *in, uint32_t len,
                 inflate_out_fn out, void *ctx);

#endif
