/*
 * The stub's streaming inflater (stub/inflate.c) on hostile input, fed in
 * pieces whose sizes come from the input, with a bounded output; and, for
 * zlib streams that fit, the same bytes and the same verdict as zlib.
 *
 * Input: byte 0 = piece size - 1 (low 6 bits) and mode (high 2 bits),
 * then the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "inflate.h"

#define OUT_CAP (1u << 16) /* past the 32 KiB window, and quick */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    uint8_t *buf;
    size_t len;
};

static int to_sink(void *ctx, const uint8_t *p, uint32_t n)
{
    struct sink *k = ctx;
    if (n == 0 || k->len + n > OUT_CAP)
        return 1; /* bounded output, as the flash writer's size is */
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t window[INFLATE_WINDOW];
    static uint8_t out[OUT_CAP], ref[OUT_CAP];
    static struct inflater z;
    if (size < 1)
        return 0;
    size_t piece = (size_t)(data[0] & 63) + 1;
    enum inflate_mode mode = (enum inflate_mode)((data[0] >> 6) % 3);
    const uint8_t *in = data + 1;
    size_t n = size - 1;

    inflate_init(&z, window, mode);
    struct sink k = {out, 0};
    size_t pos = 0, consumed = 0;
    int rc = INFLATE_MORE;
    while (pos < n && rc == INFLATE_MORE) {
        size_t len = n - pos < piece ? n - pos : piece;
        rc = inflate_feed(&z, in + pos, (uint32_t)len, to_sink, &k);
        if (z.used > len)
            abort();
        if (rc == INFLATE_MORE && z.used != len)
            abort(); /* a piece is taken whole unless the stream ends */
        consumed = pos + z.used;
        pos += len;
    }
    /* Finished or failed streams stay so. */
    if (rc != INFLATE_MORE && inflate_feed(&z, in, (uint32_t)n, to_sink, &k) != rc)
        abort();

    if (mode != INFLATE_ZLIB || rc == INFLATE_E_OUTPUT)
        return 0;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return 0;
    zs.next_in = (uint8_t *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = ref;
    zs.avail_out = OUT_CAP;
    int zr = inflate(&zs, Z_FINISH);
    size_t zlen = OUT_CAP - zs.avail_out, zin = n - zs.avail_in;
    inflateEnd(&zs);
    if (zr == Z_NEED_DICT || (zr == Z_BUF_ERROR && zs.avail_out == 0))
        return 0; /* preset dictionaries: refused here, asked for by zlib */
    if ((zr == Z_STREAM_END) != (rc == INFLATE_DONE))
        abort();
    if (rc == INFLATE_DONE && (zlen != k.len || memcmp(ref, out, zlen) || zin != consumed))
        abort();
    return 0;
}
