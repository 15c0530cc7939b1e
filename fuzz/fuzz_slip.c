/*
 * SLIP decoder on hostile input, fed in chunks whose sizes come from the
 * input, plus the encode -> decode round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/slip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 17) + 1;
    uint8_t frame[64];
    esp01_slip_decoder d;
    esp01_slip_decoder_init(&d, frame, sizeof frame);
    size_t pos = 1;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t used = 0;
        size_t f = esp01_slip_feed(&d, data + pos, n, &used);
        if (used == 0 || used > n || f > sizeof frame)
            abort();
        if (f && (used == 0 || data[pos + used - 1] != ESP01_SLIP_END))
            abort();
        pos += used;
    }

    /* Whatever the bytes, encoding then decoding gives them back. */
    size_t cap = ESP01_SLIP_ENCODED_MAX(size);
    uint8_t *enc = malloc(cap);
    uint8_t *dec = malloc(size);
    if (!enc || !dec)
        abort();
    size_t n = esp01_slip_encode(data, size, enc, cap);
    if (n == 0 || esp01_slip_encode(data, size, enc, n - 1) != 0)
        abort();
    esp01_slip_decoder_init(&d, dec, size);
    size_t used = 0;
    size_t f = esp01_slip_feed(&d, enc, n, &used);
    if (f != size || used != n || memcmp(dec, data, size) != 0)
        abort();
    free(enc);
    free(dec);
    return 0;
}
