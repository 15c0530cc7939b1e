/*
 * READ_FLASH and SPI_FLASH_MD5.
 *
 * READ_FLASH streams bare SLIP frames of `block` bytes, never more than
 * `window` of them unacknowledged; the host acknowledges each with a
 * 4-byte frame holding the total it has received.  The poll loop sends
 * one frame per step, so acknowledgements (and the baud-rate timers) are
 * looked at between frames.  After the last frame is acknowledged comes
 * one 16-byte frame with the MD5 of everything sent.
 */
#include "stub.h"

#include "hw.h"

static int md5_piece(void *ctx, const uint8_t *p, uint32_t n)
{
    MD5Update(ctx, p, n);
    return 0;
}

uint8_t stub_md5_command(struct stub *s, const uint8_t *b, uint32_t n,
                         uint8_t digest[16])
{
    if (n != 16)
        return STUB_E_BAD_LEN;
    /* A write whose END has not come yet may have failed after its last
       DATA was acknowledged: this is where a host that checks the MD5
       instead of sending END learns it. */
    if (s->write_mode != WRITE_NONE && s->deferred)
        return s->deferred;
    uint32_t addr = stub_le32(b), size = stub_le32(b + 4);
    if (addr > s->flash_size || size > s->flash_size - addr)
        return STUB_E_SPI;
    struct rom_md5_ctx ctx;
    MD5Init(&ctx);
    if (flash_read(addr, size, md5_piece, &ctx))
        return STUB_E_SPI;
    MD5Final(digest, &ctx);
    return 0;
}

uint8_t stub_read_begin(struct stub *s, const uint8_t *b, uint32_t n)
{
    if (n != 16)
        return STUB_E_BAD_LEN;
    uint32_t addr = stub_le32(b), len = stub_le32(b + 4);
    uint32_t block = stub_le32(b + 8), window = stub_le32(b + 12);
    if (block == 0 || block > STUB_MAX_READ_BLOCK)
        return STUB_E_BLOCK_SIZE;
    if (window == 0)
        return STUB_E_INVALID;
    if (addr > s->flash_size || len > s->flash_size - addr)
        return STUB_E_SPI;
    s->reading = 1;
    s->rd_addr = addr;
    s->rd_len = len;
    s->rd_block = block;
    s->rd_window = window;
    s->rd_sent = s->rd_acked = 0;
    MD5Init(&s->rd_md5);
    return 0;
}

void stub_read_ack(struct stub *s, const uint8_t *f, uint32_t len)
{
    (void)len;
    uint32_t got = stub_le32(f);
    if (got > s->rd_acked && got <= s->rd_sent)
        s->rd_acked = got;
    s->confirm_pending = 0;
    s->last_rx_ms = hw_now_ms();
}

static int send_piece(void *ctx, const uint8_t *p, uint32_t n)
{
    struct stub *s = ctx;
    MD5Update(&s->rd_md5, p, n);
    stub_tx(s, p, n);
    return 0;
}

int stub_read_pump(struct stub *s)
{
    if (s->rd_sent < s->rd_len) {
        uint32_t unacked = s->rd_sent - s->rd_acked;
        uint32_t in_flight = (unacked + s->rd_block - 1) / s->rd_block;
        if (in_flight >= s->rd_window)
            return 0;
        uint32_t n = s->rd_len - s->rd_sent;
        if (n > s->rd_block)
            n = s->rd_block;
        stub_tx_begin(s);
        int rc = flash_read(s->rd_addr + s->rd_sent, n, send_piece, s);
        stub_tx_end(s);
        if (rc) {
            s->reading = 0; /* the short frame tells the host */
            return 1;
        }
        s->rd_sent += n;
        return 1;
    }
    if (s->rd_acked < s->rd_len)
        return 0;
    uint8_t digest[16];
    MD5Final(digest, &s->rd_md5);
    stub_tx_begin(s);
    stub_tx(s, digest, 16);
    stub_tx_end(s);
    s->reading = 0;
    return 1;
}
