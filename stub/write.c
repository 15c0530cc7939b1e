/*
 * FLASH_BEGIN/DATA/END and FLASH_DEFL_BEGIN/DATA/END.
 *
 * A DATA packet is answered as soon as its length, checksum and sequence
 * number are right, before it is inflated or written, so the host sends
 * the next packet while this one goes to flash.  Packets that arrive
 * while one is written are answered from between its flash operations
 * (service), in order, while the receive arena keeps room for what the
 * host may send on each answer (STUB_WRITE_AHEAD packets).  What goes
 * wrong after an answer (the flash, the deflate stream, too much data) is
 * kept in `deferred` and becomes the answer to every later DATA, to END
 * and to SPI_FLASH_MD5 until the next BEGIN.  While it waits for data the
 * stub erases the region ahead of it (stub_write_idle).
 */
#include "stub.h"

#include "hw.h"

static void service(void *ctx);

static uint8_t begin(struct stub *s, uint8_t mode, const uint8_t *b,
                     uint32_t n)
{
    s->write_mode = WRITE_NONE;
    s->rx.expect = STUB_FRAME_MAX;
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
    s->fw.service = service;
    s->fw.ctx = s;
    /* DATA frames of this session are no larger: plan the arena for them. */
    s->rx.expect = STUB_HEADER + STUB_DATA_HEADER + block;
    if (mode == WRITE_DEFLATE)
        inflate_init(&s->inf, s->window, INFLATE_AUTO);
    s->write_mode = mode;
    s->block_size = block;
    s->next_seq = 0;
    s->deferred = 0;
    s->stream_done = 0;
    return 0;
}

/* Length, checksum and sequence; *dup is set for a repeat of one of the
   last STUB_WRITE_AHEAD packets taken (its answer was lost, and the host
   sends again from there), which is answered but not written. */
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
    if (seq < s->next_seq && s->next_seq - seq <= STUB_WRITE_AHEAD) {
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
    s->rx.expect = STUB_FRAME_MAX;
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

static void write_payload(struct stub *s, const uint8_t *b, uint32_t n)
{
    if (s->write_mode == WRITE_PLAIN)
        write_plain(s, b + STUB_DATA_HEADER, n - STUB_DATA_HEADER);
    else
        write_deflated(s, b + STUB_DATA_HEADER, n - STUB_DATA_HEADER);
}

/* Check a DATA packet and answer it: 1 when it is to be written. */
static int take(struct stub *s, uint8_t op, uint8_t mode, const uint8_t *b,
                uint32_t n, uint32_t checksum)
{
    int dup;
    uint8_t err = check_data(s, mode, b, n, checksum, &dup);
    stub_reply(s, op, 0, 0, 0, err);
    if (err || dup)
        return 0;
    s->next_seq++;
    return 1;
}

/*
 * Between two flash operations of a write (a packet's, or erasing ahead
 * while the poll loop had nothing to do): answer the DATA packets that
 * arrived complete and wait behind it, in order, each as soon as the
 * arena keeps room for the STUB_WRITE_AHEAD packets the host may then
 * have on the way (those already here or arriving counted).  Any other
 * frame stops it: frames are answered in the order they came.
 */
static void service(void *ctx)
{
    struct stub *s = ctx;
    struct stub_rx *rx = &s->rx;
    uint8_t op = s->write_mode == WRITE_PLAIN ? STUB_FLASH_DATA
                                              : STUB_FLASH_DEFL_DATA;
    /* The frame the main loop is working on has had its answer. */
    for (uint32_t k = (uint32_t)stub_rx_head_taken(rx);; k++) {
        uint32_t len;
        uint8_t *note;
        const uint8_t *f = stub_rx_peek(rx, k, &len, &note);
        if (!f || s->write_mode == WRITE_NONE)
            return;
        if (*note != RX_NOTE_NONE)
            continue;
        uint32_t n = (uint32_t)f[2] | (uint32_t)f[3] << 8;
        if (len < STUB_HEADER || f[0] != 0 || f[1] != op ||
            n != len - STUB_HEADER)
            return; /* its turn comes in the poll loop */
        uint32_t coming = stub_rx_queued(rx) - k - 1 +
                          (stub_rx_arriving(rx) == 2);
        if (coming < STUB_WRITE_AHEAD &&
            !stub_rx_room(rx, STUB_HEADER + STUB_DATA_HEADER + s->block_size,
                          STUB_WRITE_AHEAD - coming))
            return;
        s->confirm_pending = 0;
        s->last_rx_ms = hw_now_ms();
        *note = take(s, op, s->write_mode, f + STUB_HEADER, n,
                     stub_le32(f + 4))
                    ? RX_NOTE_TAKEN
                    : RX_NOTE_ANSWERED;
    }
}

void stub_write_taken(struct stub *s, const uint8_t *f, uint32_t len)
{
    s->last_rx_ms = hw_now_ms();
    if (s->write_mode != WRITE_NONE && !s->deferred)
        write_payload(s, f + STUB_HEADER, len - STUB_HEADER);
    s->last_rx_ms = hw_now_ms();
}

int stub_write_idle(struct stub *s)
{
    if (s->write_mode == WRITE_NONE || s->deferred)
        return 0;
    int rc = flash_writer_erase_next(&s->fw);
    if (rc < 0)
        return 0;
    defer(s, rc);
    return 1;
}

void stub_write_command(struct stub *s, uint8_t op, const uint8_t *b,
                        uint32_t n, uint32_t checksum)
{
    uint8_t mode = op == STUB_FLASH_BEGIN || op == STUB_FLASH_DATA ||
                           op == STUB_FLASH_END
                       ? WRITE_PLAIN
                       : WRITE_DEFLATE;
    uint8_t err;
    int reboot;
    switch (op) {
    case STUB_FLASH_BEGIN:
    case STUB_FLASH_DEFL_BEGIN:
        stub_reply(s, op, 0, 0, 0, begin(s, mode, b, n));
        return;
    case STUB_FLASH_DATA:
    case STUB_FLASH_DEFL_DATA:
        if (take(s, op, mode, b, n, checksum))
            write_payload(s, b, n);
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
