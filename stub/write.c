/*
 * FLASH_BEGIN/DATA/END and FLASH_DEFL_BEGIN/DATA/END.
 *
 * A DATA packet is answered as soon as its length, checksum and sequence
 * number are right, before it is inflated or written, so the host sends
 * the next packet while this one goes to flash.  What goes wrong after
 * that answer (the flash, the deflate stream, too much data) is kept in
 * `deferred` and becomes the answer to every later DATA, to END and to
 * SPI_FLASH_MD5 until the next BEGIN.
 */
#include "stub.h"

#include "hw.h"

static uint8_t begin(struct stub *s, uint8_t mode, const uint8_t *b,
                     uint32_t n)
{
    s->write_mode = WRITE_NONE;
    /* esptool may add a fifth word, "encrypt", which must be 0 here. */
    if (n != 16 && !(n == 20 && stub_le32(b + 16) == 0))
        return STUB_E_BAD_LEN;
    uint32_t size = stub_le32(b), block = stub_le32(b + 8);
    uint32_t offset = stub_le32(b + 12);
    if (block == 0 || block > STUB_MAX_BLOCK)
        return STUB_E_BLOCK_SIZE;
    if (offset % FLASH_SECTOR)
        return STUB_E_BAD_LEN;
    if (offset > s->flash_size || size > s->flash_size - offset)
        return STUB_E_SPI;
    if (SPIUnlock())
        return STUB_E_UNLOCK;
    flash_writer_begin(&s->fw, offset, size);
    if (mode == WRITE_DEFLATE)
        inflate_init(&s->inf, s->window, INFLATE_AUTO);
    s->write_mode = mode;
    s->block_size = block;
    s->next_seq = 0;
    s->deferred = 0;
    s->stream_done = 0;
    return 0;
}

/* Length, checksum and sequence; *dup is set for a repeat of the packet
   just taken (its answer was lost), which is answered but not written. */
static uint8_t check_data(struct stub *s, uint8_t mode, const uint8_t *b,
                          uint32_t n, uint32_t checksum, int *dup)
{
    *dup = 0;
    if (s->write_mode != mode)
        return STUB_E_NOT_FLASHING;
    if (n < STUB_DATA_HEADER)
        return STUB_E_BAD_LEN;
    uint32_t len = stub_le32(b), seq = stub_le32(b + 4);
    if (len != n - STUB_DATA_HEADER || len > s->block_size)
        return STUB_E_BAD_LEN;
    uint32_t sum = STUB_CHECKSUM_SEED;
    for (uint32_t i = 0; i < len; i++)
        sum ^= b[STUB_DATA_HEADER + i];
    if (sum != checksum)
        return STUB_E_CHECKSUM;
    if (s->deferred)
        return s->deferred;
    if (seq == s->next_seq)
        return 0;
    if (s->next_seq && seq == s->next_seq - 1) {
        *dup = 1;
        return 0;
    }
    return STUB_E_INVALID;
}

static void defer(struct stub *s, int err)
{
    if (err && !s->deferred)
        s->deferred = (uint8_t)err;
}

static void write_plain(struct stub *s, const uint8_t *p, uint32_t n)
{
    uint32_t room = s->fw.size - s->fw.pos;
    if (n > room) {
        /* esptool pads the last block with 0xFF up to the block size:
           padding is dropped, anything else past the size is an error. */
        for (uint32_t i = room; i < n; i++) {
            if (p[i] != 0xFF) {
                defer(s, STUB_E_TOO_MUCH);
                return;
            }
        }
        n = room;
    }
    defer(s, flash_writer_put(&s->fw, p, n));
}

static int inflated(void *ctx, const uint8_t *p, uint32_t n)
{
    struct stub *s = ctx;
    return flash_writer_put(&s->fw, p, n);
}

static void write_deflated(struct stub *s, const uint8_t *p, uint32_t n)
{
    if (s->stream_done) {
        if (n)
            defer(s, STUB_E_TOO_MUCH);
        return;
    }
    int rc = inflate_feed(&s->inf, p, n, inflated, s);
    if (rc == INFLATE_DONE) {
        s->stream_done = 1;
        if (s->inf.used < n)
            defer(s, STUB_E_TOO_MUCH);
    } else if (rc == INFLATE_E_OUTPUT) {
        defer(s, s->inf.out_err);
    } else if (rc < 0) {
        defer(s, STUB_E_INFLATE);
    }
}

static uint8_t end(struct stub *s, uint8_t mode, const uint8_t *b, uint32_t n,
                   int *reboot)
{
    *reboot = 0;
    if (s->write_mode != mode)
        return STUB_E_NOT_FLASHING;
    if (n != 4)
        return STUB_E_BAD_LEN;
    s->write_mode = WRITE_NONE;
    uint8_t err = s->deferred;
    if (!err && (s->fw.pos < s->fw.size ||
                 (mode == WRITE_DEFLATE && !s->stream_done)))
        err = STUB_E_NOT_ENOUGH;
    /* Leave the whole region as the host wrote it, the part that never
       got data erased, unless the flash itself is failing. */
    if (err != STUB_E_SPI) {
        int rc = flash_writer_finish(&s->fw);
        if (!err)
            err = (uint8_t)rc;
    }
    *reboot = !err && stub_le32(b) == 0;
    return err;
}

void stub_write_command(struct stub *s, uint8_t op, const uint8_t *b,
                        uint32_t n, uint32_t checksum)
{
    uint8_t mode = op == STUB_FLASH_BEGIN || op == STUB_FLASH_DATA ||
                           op == STUB_FLASH_END
                       ? WRITE_PLAIN
                       : WRITE_DEFLATE;
    uint8_t err;
    int dup, reboot;
    switch (op) {
    case STUB_FLASH_BEGIN:
    case STUB_FLASH_DEFL_BEGIN:
        stub_reply(s, op, 0, 0, 0, begin(s, mode, b, n));
        return;
    case STUB_FLASH_DATA:
    case STUB_FLASH_DEFL_DATA:
        err = check_data(s, mode, b, n, checksum, &dup);
        stub_reply(s, op, 0, 0, 0, err);
        if (err || dup)
            return;
        s->next_seq++;
        if (mode == WRITE_PLAIN)
            write_plain(s, b + STUB_DATA_HEADER, n - STUB_DATA_HEADER);
        else
            write_deflated(s, b + STUB_DATA_HEADER, n - STUB_DATA_HEADER);
        return;
    default:
        err = end(s, mode, b, n, &reboot);
        stub_reply(s, op, 0, 0, 0, err);
        if (reboot) {
            hw_uart_drain();
            software_reset();
        }
        return;
    }
}
