/*
 * slip.h - SLIP framing (RFC 1055) as the ESP8266 ROM loader uses it:
 * every frame starts and ends with 0xC0; inside a frame 0xC0 is sent as
 * 0xDB 0xDC and 0xDB as 0xDB 0xDD.
 *
 * The decoder is incremental: feed it whatever the port returned and it
 * hands back complete frames one at a time.  Bytes outside a frame (boot
 * text, line noise) are skipped; a frame with a bad escape or one larger
 * than the caller's buffer is dropped and decoding resynchronises at the
 * next 0xC0.  Memory is the caller's: the decoder never allocates.
 */
#ifndef ESP01_SLIP_H
#define ESP01_SLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_SLIP_END 0xC0
#define ESP01_SLIP_ESC 0xDB
#define ESP01_SLIP_ESC_END 0xDC
#define ESP01_SLIP_ESC_ESC 0xDD

/* Worst-case encoded size of a `len`-byte frame (every byte escaped). */
#define ESP01_SLIP_ENCODED_MAX(len) (2 * (size_t)(len) + 2)

/*
 * Encode `len` bytes of `in` as one frame into `out` (`cap` bytes).
 * Returns the encoded length, or 0 when `cap` is too small (use
 * ESP01_SLIP_ENCODED_MAX to size `out`).
 */
size_t esp01_slip_encode(const uint8_t *in, size_t len, uint8_t *out,
                         size_t cap);

typedef struct esp01_slip_decoder {
    uint8_t *buf;   /* caller's frame buffer */
    size_t cap;     /* its size: the largest frame accepted */
    size_t len;     /* bytes of the current frame so far */
    bool in_frame;  /* a 0xC0 has been seen: bytes belong to a frame */
    bool escape;    /* the previous byte was 0xDB */
    bool bad;       /* the current frame is being dropped */
    /* Counters for diagnostics (saturating). */
    uint32_t dropped_frames; /* bad escape or oversized */
    uint32_t noise_bytes;    /* bytes seen outside any frame */
} esp01_slip_decoder;

/* Start decoding into `buf` (`cap` bytes, at least 1). */
void esp01_slip_decoder_init(esp01_slip_decoder *dec, uint8_t *buf,
                             size_t cap);

/*
 * Consume bytes from `in` until a frame is complete or the input runs out.
 * `*used` is set to the number of bytes consumed.  Returns the length of
 * the completed frame (> 0; it is in dec->buf and stays valid until the
 * next call), or 0 when all of `in` was consumed without completing one.
 * Empty frames (two 0xC0 in a row) are not reported.
 */
size_t esp01_slip_feed(esp01_slip_decoder *dec, const uint8_t *in,
                       size_t len, size_t *used);

#ifdef __cplusplus
}
#endif

#endif
