/* SLIP framing for the ROM loader; see include/esp01/slip.h. */
#include "esp01/slip.h"

size_t esp01_slip_encode(const uint8_t *in, size_t len, uint8_t *out,
                         size_t cap)
{
    size_t o = 0;
    if (cap < 2)
        return 0;
    out[o++] = ESP01_SLIP_END;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        if (b == ESP01_SLIP_END || b == ESP01_SLIP_ESC) {
            if (cap - o < 3)
                return 0;
            out[o++] = ESP01_SLIP_ESC;
            out[o++] = b == ESP01_SLIP_END ? ESP01_SLIP_ESC_END
                                           : ESP01_SLIP_ESC_ESC;
        } else {
            if (cap - o < 2)
                return 0;
            out[o++] = b;
        }
    }
    out[o++] = ESP01_SLIP_END;
    return o;
}

void esp01_slip_decoder_init(esp01_slip_decoder *dec, uint8_t *buf,
                             size_t cap)
{
    dec->buf = buf;
    dec->cap = cap;
    dec->len = 0;
    dec->in_frame = false;
    dec->escape = false;
    dec->bad = false;
    dec->dropped_frames = 0;
    dec->noise_bytes = 0;
}

static void drop_frame(esp01_slip_decoder *dec)
{
    if (!dec->bad && dec->dropped_frames < UINT32_MAX)
        dec->dropped_frames++;
    dec->bad = true;
}

size_t esp01_slip_feed(esp01_slip_decoder *dec, const uint8_t *in,
                       size_t len, size_t *used)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        if (b == ESP01_SLIP_END) {
            size_t n = dec->len;
            bool ok = dec->in_frame && !dec->bad && !dec->escape && n > 0;
            /* 0xC0 both ends one frame and opens the next. */
            dec->in_frame = true;
            dec->len = 0;
            dec->escape = false;
            dec->bad = false;
            if (ok) {
                *used = i + 1;
                return n;
            }
            continue;
        }
        if (!dec->in_frame) {
            if (dec->noise_bytes < UINT32_MAX)
                dec->noise_bytes++;
            continue;
        }
        if (dec->bad)
            continue;
        if (dec->escape) {
            dec->escape = false;
            if (b == ESP01_SLIP_ESC_END)
                b = ESP01_SLIP_END;
            else if (b == ESP01_SLIP_ESC_ESC)
                b = ESP01_SLIP_ESC;
            else {
                drop_frame(dec);
                continue;
            }
        } else if (b == ESP01_SLIP_ESC) {
            dec->escape = true;
            continue;
        }
        if (dec->len >= dec->cap) {
            drop_frame(dec);
            continue;
        }
        dec->buf[dec->len++] = b;
    }
    *used = len;
    return 0;
}
