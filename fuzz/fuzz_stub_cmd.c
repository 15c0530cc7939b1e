/*
 * The stub's protocol core (stub/) on the fake chip of stub/host, fed
 * hostile serial input: raw bytes, well-framed requests with any body
 * (right checksums, so the command code runs), READ_FLASH-style
 * acknowledgements and clock jumps, in any order.  The core must never
 * crash, touch memory it does not own, or stop making progress.
 *
 * Input: records of [kind][len][len bytes]:
 *   kind % 4 == 0  raw bytes into the UART
 *   kind % 4 == 1  a request: op = first byte, body = the rest
 *   kind % 4 == 2  a 4-byte acknowledgement frame
 *   kind % 4 == 3  the clock jumps by 10 ms x first byte
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/slip.h"
#include "host/fake.h"
#include "stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stub S;
static uint32_t arena[STUB_ARENA / 4];
static uint32_t window[INFLATE_WINDOW / 4];
static uint8_t enc[ESP01_SLIP_ENCODED_MAX(8 + 256)];

static void feed(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stub_rx_byte(&S.rx, p[i]);
}

static void frame(const uint8_t *p, size_t n)
{
    size_t k = esp01_slip_encode(p, n, enc, sizeof enc);
    feed(enc, k);
}

/* Poll until the stub idles.  A step that neither idles, nor sends, nor
   takes a frame, many times over, means it is stuck; sending forever
   means a read that never ends.  (A READ_FLASH of 64 KiB in 1-byte frames
   with a huge window legitimately takes 64 Ki steps.) */
static void settle(void)
{
    unsigned stuck = 0;
    for (uint32_t steps = 0; steps < (1u << 22); steps++) {
        uint32_t before = fake.now_ms;
        size_t tx = fake.tx_len;
        uint8_t head = S.rx.head;
        stub_poll(&S);
        if (fake.now_ms != before)
            return;
        if (fake.tx_len != tx || S.rx.head != head)
            stuck = 0;
        else if (++stuck > 1000)
            abort();
        if (fake.tx_len > (1u << 22))
            fake.tx_len = 0; /* keep memory bounded; content is not checked */
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fake_reset(64 * 1024, 452); /* small: every erase and read stays quick */
    stub_start(&S, (uint8_t *)arena, (uint8_t *)window);
    size_t pos = 0;
    uint8_t req[8 + 256];
    while (pos + 2 <= size && !S.run_user) {
        uint8_t kind = data[pos], len = data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = (uint8_t)(size - pos);
        const uint8_t *p = data + pos;
        pos += len;
        switch (kind % 4) {
        case 0:
            feed(p, len);
            break;
        case 1: {
            if (len == 0)
                break;
            uint32_t body = len - 1u, chk = 0xEF;
            for (uint32_t i = 16; i < body; i++)
                chk ^= p[1 + i];
            req[0] = 0;
            req[1] = p[0];
            req[2] = (uint8_t)body;
            req[3] = 0;
            req[4] = (uint8_t)chk;
            req[5] = req[6] = req[7] = 0;
            memcpy(req + 8, p + 1, body);
            /* DATA packets: make the length word match the payload. */
            if (body >= 16 && (p[0] == 0x03 || p[0] == 0x11)) {
                req[8] = (uint8_t)(body - 16);
                req[9] = req[10] = req[11] = 0;
            }
            frame(req, 8 + body);
            break;
        }
        case 2:
            if (len >= 4)
                frame(p, 4);
            break;
        default:
            fake.now_ms += 10u * (len ? p[0] : 1);
            break;
        }
        settle();
    }
    fake_free();
    return 0;
}
