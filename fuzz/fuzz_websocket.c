/*
 * The WebSocket client's parsers on hostile input: the server's upgrade
 * answer, and the frame decoder fed in chunks whose sizes come from the
 * input.  Decoding in chunks must give exactly what decoding the whole
 * stream at once gives (payload bytes, message ends, control frames and
 * where an error is found).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
    uint8_t bytes[4096]; /* payloads and event marks, cut at the end */
    size_t n;
    size_t consumed;
    int error;
};

static void note(struct trace *t, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n && t->n < sizeof t->bytes; i++)
        t->bytes[t->n++] = b[i];
}

static void decode(const uint8_t *s, size_t n, size_t chunk, size_t max_data,
                   struct trace *t)
{
    esp01_ws_decoder d;
    esp01_ws_decoder_init(&d);
    memset(t, 0, sizeof *t);
    size_t pos = 0;
    while (pos < n) {
        size_t len = n - pos < chunk ? n - pos : chunk;
        esp01_ws_event ev;
        esp01_err err;
        int used = esp01_ws_decode(&d, s + pos, len, max_data, &ev, &err);
        if (used < 0) {
            t->error = used;
            if (strlen(err.msg) >= sizeof err.msg)
                abort();
            break;
        }
        if (used == 0 || (size_t)used > len)
            abort();
        if (ev.kind == ESP01_WS_DATA) {
            if (ev.len > max_data || ev.len > (size_t)used ||
                ev.data < s + pos || ev.data + ev.len > s + pos + used)
                abort();
            uint8_t mark[2] = {(uint8_t)ev.opcode, ev.end};
            note(t, ev.data, ev.len);
            if (ev.end)
                note(t, mark, 2);
        } else if (ev.kind == ESP01_WS_CONTROL) {
            if (ev.len > 125 || ev.opcode < ESP01_WS_CLOSE)
                abort();
            uint8_t mark[2] = {0xee, (uint8_t)ev.opcode};
            note(t, mark, 2);
            note(t, ev.data, ev.len);
        }
        pos += (size_t)used;
    }
    t->consumed = pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const uint8_t *s = data + 3;
    size_t n = size - 3;
    if (data[0] & 1) {
        size_t used = 0;
        esp01_err err;
        int rc = esp01_ws_check_response(s, n, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                                         &used, &err);
        if (rc == 0 && (used == 0 || used > n))
            abort();
        if (rc < 0)
            for (const char *m = err.msg; *m; m++)
                if ((unsigned char)*m < 0x20)
                    abort();
        return 0;
    }
    size_t chunk = (size_t)data[1] % 23 + 1;
    size_t max_data = (size_t)data[2] % 41 + 1;
    static struct trace whole, pieces;
    decode(s, n, n ? n : 1, SIZE_MAX, &whole);
    decode(s, n, chunk, max_data, &pieces);
    /* Pieces of data may come in different cuts; the bytes may not. */
    if (whole.error != pieces.error || whole.n != pieces.n ||
        memcmp(whole.bytes, pieces.bytes, whole.n) != 0)
        abort();
    if (!whole.error && (whole.consumed != n || pieces.consumed != n))
        abort();
    return 0;
}
