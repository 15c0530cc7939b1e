/*
 * The flasher stub's protocol core (stub/) on the fake chip of stub/host:
 * every command and error code, the deferred-error rule, erase-ahead,
 * 0xFF pages, READ_FLASH flow control, baud-rate timers on a fake clock,
 * the receive path against garbage, and the inflater against zlib.
 */
#include <md5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "esp01/slip.h"
#include "host/fake.h"
#include "inflate.h"
#include "stub.h"

/* rom.h renames the ROM's MD5 functions to the fakes' names; the plain
   names are libmd's here, the independent reference. */
#undef MD5Init
#undef MD5Update
#undef MD5Final

#define MIB (1024u * 1024u)

static struct stub S;
static uint32_t arena[STUB_ARENA / 4];
static uint32_t window[INFLATE_WINDOW / 4];
static size_t tx_seen; /* transmitted bytes already decoded */
static unsigned idles;

/* ---- driving the stub ---------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void count_idle(void *ctx) { (void)ctx; }

static void feed_raw(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stub_rx_byte(&S.rx, p[i]);
}

/* SLIP-encode a frame and hand it to the receive path byte by byte. */
static void feed_frame(const uint8_t *p, size_t n)
{
    size_t cap = ESP01_SLIP_ENCODED_MAX(n);
    uint8_t *enc = malloc(cap);
    size_t k = esp01_slip_encode(p, n, enc, cap);
    feed_raw(enc, k);
    free(enc);
}

static size_t make_request(uint8_t *out, uint8_t op, const uint8_t *body,
                           size_t n, uint32_t checksum)
{
    out[0] = 0;
    out[1] = op;
    out[2] = (uint8_t)n;
    out[3] = (uint8_t)(n >> 8);
    put_le32(out + 4, checksum);
    if (n)
        memcpy(out + 8, body, n);
    return 8 + n;
}

static void send_cmd(uint8_t op, const uint8_t *body, size_t n, uint32_t chk)
{
    uint8_t *f = malloc(8 + n);
    size_t len = make_request(f, op, body, n, chk);
    feed_frame(f, len);
    free(f);
}

/* Poll until the stub goes idle (it called hw_idle with nothing to do). */
static void run(void)
{
    for (int guard = 0; guard < 1000000; guard++) {
        uint32_t before = fake.now_ms;
        stub_poll(&S);
        if (fake.now_ms != before) {
            idles++;
            return;
        }
    }
}

struct reply {
    uint8_t op, status, error;
    uint32_t value;
    uint8_t data[STUB_MAX_READ_BLOCK + 64];
    size_t len;      /* data before the status bytes */
    size_t raw_len;  /* whole frame */
    uint8_t raw[STUB_MAX_READ_BLOCK + 64];
};

/* Next transmitted frame, raw; false when none is complete. */
static bool next_frame(struct reply *r)
{
    esp01_slip_decoder d;
    esp01_slip_decoder_init(&d, r->raw, sizeof r->raw);
    while (tx_seen < fake.tx_len) {
        size_t used;
        size_t n = esp01_slip_feed(&d, fake.tx + tx_seen, fake.tx_len - tx_seen,
                                   &used);
        tx_seen += used;
        if (n) {
            r->raw_len = n;
            return true;
        }
    }
    return false;
}

/* Next frame parsed as a response. */
static bool next_reply(struct reply *r)
{
    if (!next_frame(r) || r->raw_len < 10 || r->raw[0] != 1)
        return false;
    r->op = r->raw[1];
    size_t n = (size_t)r->raw[2] | (size_t)r->raw[3] << 8;
    if (n + 8 != r->raw_len || n < 2)
        return false;
    r->value = get_le32(r->raw + 4);
    r->len = n - 2;
    memcpy(r->data, r->raw + 8, r->len);
    r->status = r->raw[8 + r->len];
    r->error = r->raw[9 + r->len];
    return true;
}

static unsigned pending_frames(void)
{
    size_t save = tx_seen;
    struct reply r;
    unsigned n = 0;
    while (next_frame(&r))
        n++;
    tx_seen = save;
    return n;
}

/* Send, run, and return the error byte of the one reply (-1: no reply). */
static int cmd(uint8_t op, const uint8_t *body, size_t n, struct reply *r)
{
    static struct reply spare;
    if (!r)
        r = &spare;
    send_cmd(op, body, n, 0);
    run();
    if (!next_reply(r) || r->op != op)
        return -1;
    if (r->status == 0 && r->error == 0)
        return 0;
    return r->status == 1 ? r->error : -2;
}

static void read_req(uint32_t addr, uint32_t len, uint32_t block,
                     uint32_t window_frames);
static void ack(uint32_t total);

static void start(uint32_t flash_len, uint32_t clkdiv)
{
    fake_reset(flash_len, clkdiv);
    fake.busy = count_idle;
    tx_seen = 0;
    stub_start(&S, (uint8_t *)arena, (uint8_t *)window);
}

static int begin(uint8_t op, uint32_t size, uint32_t blocks, uint32_t block,
                 uint32_t offset)
{
    uint8_t b[16];
    put_le32(b, size);
    put_le32(b + 4, blocks);
    put_le32(b + 8, block);
    put_le32(b + 12, offset);
    return cmd(op, b, 16, NULL);
}

static void send_data(uint8_t op, uint32_t seq, const uint8_t *p, size_t n,
                      int corrupt_checksum)
{
    uint8_t *body = malloc(16 + n);
    put_le32(body, (uint32_t)n);
    put_le32(body + 4, seq);
    put_le32(body + 8, 0);
    put_le32(body + 12, 0);
    memcpy(body + 16, p, n);
    uint32_t chk = STUB_CHECKSUM_SEED;
    for (size_t i = 0; i < n; i++)
        chk ^= p[i];
    send_cmd(op, body, 16 + n, corrupt_checksum ? chk ^ 1 : chk);
    free(body);
}

static int data(uint8_t op, uint32_t seq, const uint8_t *p, size_t n)
{
    struct reply r;
    send_data(op, seq, p, n, 0);
    run();
    if (!next_reply(&r) || r.op != op)
        return -1;
    return r.status ? r.error : 0;
}

static int end_cmd(uint8_t op, uint32_t flag)
{
    uint8_t b[4];
    put_le32(b, flag);
    return cmd(op, b, 4, NULL);
}

/* Write `len` bytes with FLASH_* (plain) or FLASH_DEFL_* in packets of
   `block`; returns the END error (or the first failing reply). */
static int write_image(bool deflate, uint32_t offset, const uint8_t *img,
                       uint32_t len, uint32_t block, int level)
{
    uint8_t *payload = (uint8_t *)img;
    uLongf plen = len;
    if (deflate) {
        plen = compressBound(len);
        payload = malloc(plen);
        compress2(payload, &plen, img, len, level);
    }
    uint32_t blocks = (uint32_t)((plen + block - 1) / block);
    int rc = begin(deflate ? STUB_FLASH_DEFL_BEGIN : STUB_FLASH_BEGIN, len,
                   blocks, block, offset);
    uint8_t *pad = malloc(block);
    for (uint32_t seq = 0; rc == 0 && seq < blocks; seq++) {
        uint32_t n = (uint32_t)plen - seq * block;
        if (n > block)
            n = block;
        const uint8_t *p = payload + (size_t)seq * block;
        if (!deflate && n < block) { /* esptool pads the last block */
            memset(pad, 0xFF, block);
            memcpy(pad, p, n);
            p = pad;
            n = block;
        }
        rc = data(deflate ? STUB_FLASH_DEFL_DATA : STUB_FLASH_DATA, seq, p, n);
    }
    if (rc == 0)
        rc = end_cmd(deflate ? STUB_FLASH_DEFL_END : STUB_FLASH_END, 1);
    free(pad);
    if (deflate)
        free(payload);
    return rc;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed, int kind)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: p[i] = (uint8_t)rand(); break;
        case 1: p[i] = (uint8_t)(i / 97); break;
        case 2: p[i] = (i / 4096) % 3 == 1 ? 0xFF : (uint8_t)(rand() % 4); break;
        default: p[i] = rand() % 8 == 0 ? (uint8_t)rand() : 0xFF; break;
        }
    }
}

static unsigned count_ops(char kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fake.nops; i++)
        n += fake.ops[i].kind == kind;
    return n;
}

/* ---- start-up and simple commands ---------------------------------- */

TEST(greets_with_ohai_and_configures_16mib)
{
    start(MIB, 452);
    struct reply r;
    CHECK(next_frame(&r));
    CHECK_EQ(r.raw_len, 4);
    CHECK(memcmp(r.raw, "OHAI", 4) == 0);
    CHECK_EQ(fake.chip_size, STUB_FLASH_MAX);
    CHECK_EQ(S.div0, 452);
}

TEST(sync_answers_eight_times_with_value_zero)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t b[36] = {0x07, 0x07, 0x12, 0x20};
    memset(b + 4, 0x55, 32);
    send_cmd(STUB_SYNC, b, sizeof b, 0);
    run();
    struct reply r;
    unsigned n = 0;
    while (next_reply(&r)) {
        CHECK_EQ(r.op, STUB_SYNC);
        CHECK_EQ(r.value, 0);
        CHECK_EQ(r.status, 0);
        n++;
    }
    CHECK_EQ(n, STUB_SYNC_REPLIES);
    CHECK_EQ(cmd(STUB_SYNC, b, 20, NULL), STUB_E_BAD_LEN);
}

TEST(registers_read_and_write_as_the_rom)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    fake_set_reg(0x3FF00050u, 0x12345678u);
    struct reply r;
    uint8_t b[32];
    put_le32(b, 0x3FF00050u);
    CHECK_EQ(cmd(STUB_READ_REG, b, 4, &r), 0);
    CHECK_EQ(r.value, 0x12345678u);
    /* Two groups: masked write with a delay first, then a full write. */
    put_le32(b, 0x3FF00050u);
    put_le32(b + 4, 0x0000AB00u);
    put_le32(b + 8, 0x0000FF00u);
    put_le32(b + 12, 0x00010064u); /* only the low 16 bits count: 100 us */
    put_le32(b + 16, 0x60000100u);
    put_le32(b + 20, 7);
    put_le32(b + 24, 0xFFFFFFFFu);
    put_le32(b + 28, 0);
    CHECK_EQ(cmd(STUB_WRITE_REG, b, 32, NULL), 0);
    CHECK_EQ(fake_reg(0x3FF00050u), 0x1234AB78u);
    CHECK_EQ(fake_reg(0x60000100u), 7);
    CHECK_EQ(fake.delays_us, 100);
    CHECK_EQ(cmd(STUB_WRITE_REG, b, 20, NULL), STUB_E_BAD_LEN);
    CHECK_EQ(cmd(STUB_WRITE_REG, b, 0, NULL), STUB_E_BAD_LEN);
    put_le32(b, 0x3FF00052u);
    CHECK_EQ(cmd(STUB_WRITE_REG, b, 16, NULL), STUB_E_INVALID);
    CHECK_EQ(cmd(STUB_READ_REG, b, 4, NULL), STUB_E_INVALID);
    CHECK_EQ(cmd(STUB_READ_REG, b, 8, NULL), STUB_E_BAD_LEN);
}

TEST(spi_params_attach_and_unknown_commands)
{
    start(2 * MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t b[24] = {0};
    put_le32(b + 4, MIB);
    put_le32(b + 8, 65536);
    put_le32(b + 12, 4096);
    put_le32(b + 16, 256);
    put_le32(b + 20, 0xFFFF);
    CHECK_EQ(cmd(STUB_SPI_SET_PARAMS, b, 24, NULL), 0);
    CHECK_EQ(fake.chip_size, MIB);
    CHECK_EQ(S.flash_size, MIB);
    CHECK_EQ(cmd(STUB_SPI_SET_PARAMS, b, 20, NULL), STUB_E_BAD_LEN);
    put_le32(b + 4, 0);
    CHECK_EQ(cmd(STUB_SPI_SET_PARAMS, b, 24, NULL), STUB_E_INVALID);
    put_le32(b + 4, 32 * MIB);
    CHECK_EQ(cmd(STUB_SPI_SET_PARAMS, b, 24, NULL), STUB_E_INVALID);
    CHECK_EQ(S.flash_size, MIB);
    /* Past the recorded size: erases, writes and reads are refused. */
    uint8_t e[16];
    put_le32(e, MIB - 4096);
    put_le32(e + 4, 8192);
    CHECK_EQ(cmd(STUB_ERASE_REGION, e, 8, NULL), STUB_E_SPI);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 8192, 1, 0x4000, MIB - 4096), STUB_E_SPI);
    put_le32(e + 8, 0x1000);
    put_le32(e + 12, 1);
    CHECK_EQ(cmd(STUB_READ_FLASH, e, 16, NULL), STUB_E_SPI);
    put_le32(e + 8, 0);
    put_le32(e + 12, 0);
    CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, e, 16, NULL), STUB_E_SPI);
    CHECK_EQ(fake.nops, 0);

    CHECK_EQ(cmd(STUB_SPI_ATTACH, b, 4, NULL), 0);
    CHECK_EQ(cmd(0x05, b, 16, NULL), STUB_E_INVALID); /* MEM_BEGIN: ROM only */
    CHECK_EQ(cmd(0x14, NULL, 0, NULL), STUB_E_INVALID);
    CHECK_EQ(cmd(0x77, NULL, 0, NULL), STUB_E_INVALID);
}

TEST(malformed_requests)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    /* Length field larger than the frame: a reply says so. */
    uint8_t f[12] = {0, STUB_READ_REG, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    feed_frame(f, sizeof f);
    run();
    struct reply r;
    CHECK(next_reply(&r));
    CHECK_EQ(r.op, STUB_READ_REG);
    CHECK_EQ(r.status, 1);
    CHECK_EQ(r.error, STUB_E_BAD_LEN);
    /* Not requests at all: no reply. */
    uint8_t g[10] = {1, STUB_SYNC, 2, 0, 0, 0, 0, 0, 0, 0};
    feed_frame(g, sizeof g);
    feed_frame(g, 5);
    run();
    CHECK_EQ(pending_frames(), 0);
    CHECK_EQ(S.ignored, 2);
}

TEST(receive_path_survives_garbage)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t junk[300];
    fill_pattern(junk, sizeof junk, 7, 0);
    for (size_t i = 0; i < sizeof junk; i++)
        if (junk[i] == 0xC0)
            junk[i] = 0x11;
    feed_raw(junk, sizeof junk);                     /* noise, no frame */
    const uint8_t bad_escape[] = {0xC0, 0x00, 0x0A, 0xDB, 0x41, 0xC0};
    feed_raw(bad_escape, sizeof bad_escape);
    /* A frame larger than the whole receive arena. */
    uint8_t big = 0x00;
    stub_rx_byte(&S.rx, 0xC0);
    for (uint32_t i = 0; i < STUB_ARENA + 10; i++)
        stub_rx_byte(&S.rx, big);
    stub_rx_byte(&S.rx, 0xC0);
    CHECK_EQ(S.rx.dropped, 2);
    uint8_t b[4];
    put_le32(b, 0x60000014u);
    struct reply r;
    CHECK_EQ(cmd(STUB_READ_REG, b, 4, &r), 0);
    CHECK_EQ(r.value, 694);
    CHECK_EQ(pending_frames(), 0);
}

/* ---- flash writes --------------------------------------------------- */

TEST(plain_write_erases_ahead_and_skips_blank_pages)
{
    start(4 * MIB, 694);
    next_frame(&(struct reply){0});
    /* 0x8000..0x38000 region: sectors 8-15 one by one, blocks 1 and 2,
       then sectors 0x30-0x37 (block 3 is not wholly inside). */
    uint32_t off = 0x8000, len = 0x30000 - 100;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 1, 2);
    size_t before = fake.tx_len;
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 0, 0x4000, off), 0);
    /* BEGIN erases nothing before its answer; the idle stub then erases
       ahead of the data. */
    CHECK(fake.nops > 0 && fake.ops[0].tx_at >= before + 12);
    CHECK_EQ(fake.unlocks, 1);
    fake.nops = 0;
    CHECK_EQ(write_image(false, off, img, len, 0x4000, 0), 0);
    CHECK(memcmp(fake.flash + off, img, len) == 0);
    for (uint32_t i = off + len; i < 0x38000; i++)
        if (fake.flash[i] != 0xFF) {
            CHECK(!"region tail not erased");
            break;
        }
    unsigned sectors = 0, blocks = 0;
    uint32_t expect_sector[16] = {8, 9, 10, 11, 12, 13, 14, 15};
    for (unsigned i = 0; i < fake.nops; i++) {
        struct fake_op *o = &fake.ops[i];
        if (o->kind == 'S') {
            uint32_t want = sectors < 8 ? expect_sector[sectors] : 0x30 + sectors - 8;
            CHECK_EQ(o->arg, want);
            sectors++;
        } else if (o->kind == 'B') {
            CHECK_EQ(o->arg, 1 + blocks);
            blocks++;
        } else if (o->kind == 'W') {
            CHECK(o->arg >= off && o->arg + o->len <= off + len + 3);
        }
    }
    CHECK_EQ(sectors, 16);
    CHECK_EQ(blocks, 2);
    /* Pages of 0xFF in the image were not programmed. */
    unsigned nonblank = 0;
    for (uint32_t p = 0; p < len; p += 256) {
        uint32_t n = len - p < 256 ? len - p : 256;
        for (uint32_t i = 0; i < n; i++)
            if (img[p + i] != 0xFF) {
                nonblank++;
                break;
            }
    }
    CHECK_EQ(count_ops('W'), nonblank);
    CHECK(nonblank < len / 256);
    free(img);
}

TEST(each_sector_is_erased_before_its_first_write)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 3 * 0x4000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 2, 0);
    /* Host silent after BEGIN: the idle stub erases the region ahead,
       sectors 0x10-0x1B one by one (the 64 KiB block at 0x10000 is not
       wholly inside the 48 KiB region), nothing else. */
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 3, 0x4000, 0x10000), 0);
    CHECK_EQ(count_ops('S'), 12);
    CHECK_EQ(count_ops('B'), 0);
    for (unsigned i = 0; i < fake.nops; i++)
        CHECK_EQ(fake.ops[i].arg, 0x10 + i);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, img, 0x4000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, img + 0x4000, 0x4000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x8000, 0x4000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK_EQ(count_ops('S'), 12); /* none again */
    CHECK(memcmp(fake.flash + 0x10000, img, len) == 0);
    CHECK_EQ(fake.resets, 0);
    free(img);
}

TEST(a_sector_is_erased_before_data_reaches_it_even_without_idle_time)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 3 * 0x4000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 12, 0);
    /* BEGIN and the first packet back to back: no idle poll between. */
    uint8_t b[16];
    put_le32(b, len);
    put_le32(b + 4, 3);
    put_le32(b + 8, 0x4000);
    put_le32(b + 12, 0x10000);
    send_cmd(STUB_FLASH_BEGIN, b, 16, 0);
    send_data(STUB_FLASH_DATA, 0, img, 0x4000, 0);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.op == STUB_FLASH_BEGIN && r.status == 0);
    CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    uint32_t erased_upto = 0;
    for (unsigned i = 0; i < fake.nops; i++) {
        struct fake_op *o = &fake.ops[i];
        if (o->kind == 'S') {
            CHECK_EQ(o->arg * 4096, 0x10000 + erased_upto);
            erased_upto += 4096;
        } else if (o->kind == 'W') {
            CHECK(o->arg + o->len <= 0x10000 + erased_upto);
        }
    }
    CHECK_EQ(data(STUB_FLASH_DATA, 1, img + 0x4000, 0x4000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x8000, 0x4000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash + 0x10000, img, len) == 0);
    free(img);
}

TEST(data_is_acknowledged_before_it_is_written)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t img[0x1000];
    fill_pattern(img, sizeof img, 3, 0);
    memset(fake.flash, 0, 0x1000);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, sizeof img, 1, 0x4000, 0), 0);
    unsigned ops = fake.nops;
    size_t before = fake.tx_len;
    CHECK_EQ(data(STUB_FLASH_DATA, 0, img, sizeof img), 0);
    CHECK(fake.nops > ops);
    /* The DATA reply (a whole frame) was out before the first write. */
    CHECK(fake.ops[ops].tx_at >= before + 12);
}

static const uint8_t *g_next_frame;
static size_t g_next_len;
static unsigned g_busy_calls;
static void deliver_during_write(void *ctx)
{
    (void)ctx;
    g_busy_calls++;
    if (g_next_frame) {
        feed_frame(g_next_frame, g_next_len);
        g_next_frame = NULL;
    }
}

TEST(next_packet_arrives_while_flash_is_busy)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 3 * 0x4000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 4, 0);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 3, 0x4000, 0), 0);
    /* Packet 1 arrives whole while packet 0 is being erased/written, as the
       UART interrupt delivers it; then packet 2 while 1 is written and the
       frame buffer of 0 is free again. */
    uint8_t *f1 = malloc(8 + 16 + 0x4000);
    uint8_t body[16 + 0x4000];
    put_le32(body, 0x4000);
    put_le32(body + 4, 1);
    memset(body + 8, 0, 8);
    memcpy(body + 16, img + 0x4000, 0x4000);
    uint32_t chk = STUB_CHECKSUM_SEED;
    for (int i = 0; i < 0x4000; i++)
        chk ^= img[0x4000 + i];
    g_next_len = make_request(f1, STUB_FLASH_DATA, body, sizeof body, chk);
    g_next_frame = f1;
    fake.busy = deliver_during_write;
    send_data(STUB_FLASH_DATA, 0, img, 0x4000, 0);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.status == 0);
    CHECK(next_reply(&r) && r.status == 0 && r.op == STUB_FLASH_DATA);
    CHECK_EQ(S.rx.dropped, 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x8000, 0x4000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash, img, len) == 0);
    CHECK(g_busy_calls > 0);
    fake.busy = count_idle;
    free(f1);
    free(img);
}

/* A DATA request for packet `seq` of `img` (blocks of `block`). */
static size_t data_frame(uint8_t *out, uint8_t op, uint32_t seq,
                         const uint8_t *p, uint32_t n)
{
    uint8_t *body = malloc(16 + n);
    put_le32(body, n);
    put_le32(body + 4, seq);
    memset(body + 8, 0, 8);
    memcpy(body + 16, p, n);
    uint32_t chk = STUB_CHECKSUM_SEED;
    for (uint32_t i = 0; i < n; i++)
        chk ^= p[i];
    size_t len = make_request(out, op, body, 16 + n, chk);
    free(body);
    return len;
}

/* Frames the fake UART interrupt delivers at the first flash operation. */
static uint8_t *g_later[4];
static size_t g_later_len[4];
static unsigned g_nlater;
static void deliver_later(void *ctx)
{
    (void)ctx;
    for (unsigned i = 0; i < g_nlater; i++)
        feed_frame(g_later[i], g_later_len[i]);
    g_nlater = 0;
}

/* Queue DATA packet `seq` of `size` bytes to arrive at the next flash
 * operation; returns the frame, for tests that spoil it. */
static uint8_t *later(uint32_t seq, const uint8_t *payload, uint32_t size)
{
    unsigned i = g_nlater++;
    free(g_later[i]);
    g_later[i] = malloc(8 + 16 + size);
    g_later_len[i] = data_frame(g_later[i], STUB_FLASH_DATA, seq, payload, size);
    fake.busy = deliver_later;
    return g_later[i];
}

static void free_later(void)
{
    for (unsigned i = 0; i < 4; i++) {
        free(g_later[i]);
        g_later[i] = NULL;
    }
    g_nlater = 0;
}

/* Where in the transmitted bytes the reply to DATA packet `k` (counting
   DATA replies only) starts; SIZE_MAX when there is none. */
static size_t data_reply_at(unsigned k)
{
    size_t save = tx_seen;
    struct reply r;
    size_t at = SIZE_MAX;
    for (unsigned n = 0;;) {
        size_t start = tx_seen;
        if (!next_reply(&r))
            break;
        if (r.op == STUB_FLASH_DATA && n++ == k) {
            at = start;
            break;
        }
    }
    tx_seen = save;
    return at;
}

/* The last flash write inside [lo, hi): where the transmitter was. */
static size_t last_write_in(uint32_t lo, uint32_t hi)
{
    size_t at = 0;
    for (unsigned i = 0; i < fake.nops; i++)
        if (fake.ops[i].kind == 'W' && fake.ops[i].arg >= lo &&
            fake.ops[i].arg < hi)
            at = fake.ops[i].tx_at;
    return at;
}

TEST(packets_behind_the_one_written_are_answered_when_two_more_fit)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 4 * 0x2000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 13, 0);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 4, 0x2000, 0), 0); /* erases ahead */
    size_t tx0 = fake.tx_len;
    /* Packets 1 and 2 arrive whole while packet 0 is written. */
    for (unsigned i = 0; i < 2; i++)
        later(1 + i, img + (1 + i) * 0x2000, 0x2000);
    send_data(STUB_FLASH_DATA, 0, img, 0x2000, 0);
    run();
    fake.busy = count_idle;
    CHECK_EQ(S.rx.dropped, 0);
    /* All three answered, in order. */
    struct reply r;
    tx_seen = tx0;
    for (unsigned i = 0; i < 3; i++)
        CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    CHECK(!next_reply(&r));
    /* Packet 1 was answered while packet 0 was still being written (four
       8 KiB frames fit: 0, 1, 2 and the one the host sends next); packet
       2 only once 0 was done, when two more fit behind it. */
    tx_seen = tx0;
    size_t a1 = data_reply_at(1), a2 = data_reply_at(2);
    CHECK(a1 != SIZE_MAX && a1 < last_write_in(0, 0x2000));
    CHECK(a2 != SIZE_MAX && a2 >= last_write_in(0, 0x2000));
    CHECK(a2 < last_write_in(0x2000, 0x4000));
    tx_seen = fake.tx_len;
    CHECK_EQ(data(STUB_FLASH_DATA, 3, img + 0x6000, 0x2000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash, img, len) == 0);
    free_later();
    free(img);
}

TEST(a_16k_packet_behind_the_one_written_waits_for_it)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 2 * 0x4000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 14, 0);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 2, 0x4000, 0), 0);
    size_t tx0 = fake.tx_len;
    later(1, img + 0x4000, 0x4000);
    send_data(STUB_FLASH_DATA, 0, img, 0x4000, 0);
    run();
    fake.busy = count_idle;
    tx_seen = tx0;
    /* Two 16 KiB frames fill the arena: no room for what a host keeping
       two in flight would send, so 1 is answered after 0 is written. */
    size_t a1 = data_reply_at(1);
    CHECK(a1 != SIZE_MAX && a1 >= last_write_in(0, 0x4000));
    struct reply r;
    CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash, img, len) == 0);
    free_later();
    free(img);
}

TEST(ahead_answers_keep_order_and_errors)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 4 * 0x2000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 15, 0);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 4, 0x2000, 0), 0);
    /* Behind packet 0: packet 1 with a bad checksum, then packet 2 (out
       of sequence now): answered C1 and C3, in order, neither written. */
    later(1, img + 0x2000, 0x2000)[4] ^= 1;
    later(2, img + 0x4000, 0x2000);
    send_data(STUB_FLASH_DATA, 0, img, 0x2000, 0);
    run();
    fake.busy = count_idle;
    struct reply r;
    CHECK(next_reply(&r) && r.status == 0);
    CHECK(next_reply(&r) && r.error == STUB_E_CHECKSUM);
    CHECK(next_reply(&r) && r.error == STUB_E_INVALID);
    CHECK(!next_reply(&r));
    /* The host goes back to packet 1: a repeat of 0 (already written) is
       answered and not written again, as is a repeat of the last two. */
    unsigned writes = count_ops('W');
    CHECK_EQ(data(STUB_FLASH_DATA, 0, img, 0x2000), 0);
    CHECK_EQ(count_ops('W'), writes);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, img + 0x2000, 0x2000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x4000, 0x2000), 0);
    writes = count_ops('W');
    CHECK_EQ(data(STUB_FLASH_DATA, 1, img + 0x2000, 0x2000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x4000, 0x2000), 0);
    CHECK_EQ(count_ops('W'), writes);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, img, 0x2000), STUB_E_INVALID);
    CHECK_EQ(data(STUB_FLASH_DATA, 3, img + 0x6000, 0x2000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash, img, len) == 0);
    free_later();
    free(img);
}

TEST(packets_arriving_while_erasing_ahead_are_answered_in_turn)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 0x30000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 17, 0);
    /* Packets 0 and 1 come in while the idle stub erases the first 64 KiB
       block ahead: both are answered before the next block erase, 0 first,
       both taken. */
    for (unsigned i = 0; i < 2; i++)
        later(i, img + i * 0x2000, 0x2000);
    size_t tx0 = fake.tx_len;
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 0x18, 0x2000, 0x10000), 0);
    fake.busy = count_idle;
    CHECK_EQ(fake.ops[0].kind, 'B');
    CHECK(fake.nops > 1);
    tx_seen = tx0;
    struct reply r;
    CHECK(next_reply(&r) && r.op == STUB_FLASH_BEGIN && r.status == 0);
    size_t a0 = data_reply_at(0), a1 = data_reply_at(1);
    /* Answered as the first erase ended, before anything else. */
    CHECK(a0 != SIZE_MAX && a0 < fake.ops[1].tx_at);
    CHECK(a1 != SIZE_MAX && a1 < fake.ops[1].tx_at);
    CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    CHECK(next_reply(&r) && r.op == STUB_FLASH_DATA && r.status == 0);
    CHECK(!next_reply(&r));
    for (uint32_t seq = 2; seq < len / 0x2000; seq++)
        CHECK_EQ(data(STUB_FLASH_DATA, seq, img + seq * 0x2000, 0x2000), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash + 0x10000, img, len) == 0);
    free_later();
    free(img);
}

TEST(erasing_ahead_stops_at_a_flash_failure)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t p[0x1000];
    fill_pattern(p, sizeof p, 16, 0);
    fake.fail_erase_at = 0x23000;
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x8000, 8, 0x1000, 0x20000), 0);
    /* Sectors 0x20-0x23 tried, the failing one last; then nothing. */
    CHECK_EQ(count_ops('S'), 4);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, sizeof p), STUB_E_SPI);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), STUB_E_SPI);
    CHECK_EQ(count_ops('S'), 4);
}

TEST(small_frames_queue_behind_big_ones)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t big[300], small[10];
    memset(big, 0x11, sizeof big);
    memset(small, 0x22, sizeof small);
    uint32_t len;
    feed_frame(big, 300);
    const uint8_t *f = stub_rx_frame(&S.rx, &len); /* being written */
    CHECK(f != NULL && len == 300);
    for (uint32_t i = 1; i < RX_BIG; i++)
        feed_frame(big, 300 - i); /* the arena holds RX_BIG frames */
    feed_frame(small, 10);        /* small slots still take frames */
    feed_frame(small, 9);
    feed_frame(big, 200);         /* no place left: dropped whole */
    feed_frame(small, 8);
    CHECK_EQ(S.rx.dropped, 1);
    stub_rx_release(&S.rx);
    static const uint32_t order[] = {299, 298, 297, 296, 295, 10, 9, 8};
    for (unsigned i = 0; i < 8; i++) {
        f = stub_rx_frame(&S.rx, &len);
        CHECK(f != NULL);
        CHECK_EQ(len, order[i]);
        if (f && len > 100)
            CHECK(f[0] == 0x11 && f[len - 1] == 0x11);
        stub_rx_release(&S.rx);
    }
    CHECK(stub_rx_frame(&S.rx, &len) == NULL);
}

TEST(the_arena_holds_two_16k_or_four_8k_packets)
{
    /* Frames placed one after another and round the arena, leaving in
       order: with 8 KiB packets four fit at once, with 16 KiB two. */
    for (int big = 0; big < 2; big++) {
        start(MIB, 694);
        next_frame(&(struct reply){0});
        uint32_t block = big ? 0x4000 : 0x2000;
        uint32_t flen = STUB_HEADER + STUB_DATA_HEADER + block;
        S.rx.expect = flen;
        uint8_t *fr = malloc(flen);
        unsigned fit = big ? 2 : 4;
        uint32_t len;
        for (unsigned round = 0; round < 3; round++) {
            for (unsigned i = 0; i < fit; i++) {
                memset(fr, (int)(0x10 + round * 8 + i), flen);
                feed_frame(fr, flen);
            }
            CHECK(!stub_rx_room(&S.rx, flen, 1));
            CHECK_EQ(S.rx.dropped, 0);
            for (unsigned i = 0; i < fit; i++) {
                const uint8_t *f = stub_rx_frame(&S.rx, &len);
                CHECK(f != NULL && len == flen);
                if (f)
                    CHECK(f[0] == 0x10 + round * 8 + i &&
                          f[flen - 1] == 0x10 + round * 8 + i);
                stub_rx_release(&S.rx);
                CHECK(stub_rx_room(&S.rx, flen, i + 1));
            }
            /* Leave one behind so the next round wraps round the end. */
            memset(fr, 0x77, flen);
            feed_frame(fr, flen);
            CHECK(stub_rx_frame(&S.rx, &len) != NULL);
            stub_rx_release(&S.rx);
        }
        /* One more than fits is dropped whole, the rest kept. */
        for (unsigned i = 0; i <= fit; i++)
            feed_frame(fr, flen);
        CHECK_EQ(S.rx.dropped, 1);
        free(fr);
    }
}

TEST(acks_and_the_next_command_back_to_back)
{
    /* A host acknowledges the last READ_FLASH frames and sends its next
       command without waiting for the MD5 frame: all must get through. */
    start(MIB, 694);
    next_frame(&(struct reply){0});
    read_req(0, 8192, 4096, 2);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.status == 0);
    CHECK(next_frame(&r) && r.raw_len == 4096);
    CHECK(next_frame(&r) && r.raw_len == 4096);
    ack(4096);
    ack(8192);
    uint8_t b[4];
    put_le32(b, 0x60000014u);
    send_cmd(STUB_READ_REG, b, 4, 0);
    uint8_t sync[36] = {7, 7, 0x12, 0x20};
    memset(sync + 4, 0x55, 32);
    send_cmd(STUB_SYNC, sync, 36, 0);
    send_cmd(STUB_READ_REG, b, 4, 0);
    CHECK_EQ(S.rx.dropped, 0);
    run();
    CHECK(next_frame(&r) && r.raw_len == 16); /* the MD5 frame */
    CHECK(next_reply(&r) && r.op == STUB_READ_REG && r.value == 694);
    for (unsigned i = 0; i < STUB_SYNC_REPLIES; i++)
        CHECK(next_reply(&r) && r.op == STUB_SYNC);
    CHECK(next_reply(&r) && r.op == STUB_READ_REG);
}

TEST(data_validation_codes)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t p[64];
    memset(p, 0x5A, sizeof p);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, 64), STUB_E_NOT_FLASHING);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), STUB_E_NOT_FLASHING);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 256, 1, 0, 0), STUB_E_BLOCK_SIZE);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 256, 1, 0x4001, 0), STUB_E_BLOCK_SIZE);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 256, 1, 0x400, 0x100), STUB_E_BAD_LEN);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 256, 1, 0x400, STUB_FLASH_MAX), STUB_E_SPI);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x2000, 1, 0x400, STUB_FLASH_MAX - 0x1000), STUB_E_SPI);
    CHECK_EQ(cmd(STUB_FLASH_BEGIN, p, 12, NULL), STUB_E_BAD_LEN);
    fake.unlock_result = 1;
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 256, 1, 0x400, 0), STUB_E_UNLOCK);
    fake.unlock_result = 0;
    /* esptool's optional fifth word must be 0. */
    uint8_t b20[20] = {0};
    put_le32(b20, 128);
    put_le32(b20 + 4, 1);
    put_le32(b20 + 8, 64);
    CHECK_EQ(cmd(STUB_FLASH_BEGIN, b20, 20, NULL), 0);
    put_le32(b20 + 16, 1);
    CHECK_EQ(cmd(STUB_FLASH_BEGIN, b20, 20, NULL), STUB_E_BAD_LEN);

    CHECK_EQ(begin(STUB_FLASH_BEGIN, 128, 2, 64, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, p, 64), STUB_E_NOT_FLASHING);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, p, 64), STUB_E_INVALID);     /* seq */
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, 64), 0);
    send_data(STUB_FLASH_DATA, 1, p, 64, 1);                        /* checksum */
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.error == STUB_E_CHECKSUM);
    uint8_t big[80];
    memset(big, 1, sizeof big);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, big, 80), STUB_E_BAD_LEN);    /* > block */
    /* The payload length word must match the payload. */
    uint8_t body[16 + 8] = {0};
    put_le32(body, 9);
    put_le32(body + 4, 1);
    CHECK_EQ(cmd(STUB_FLASH_DATA, body, sizeof body, NULL), STUB_E_BAD_LEN);
    CHECK_EQ(cmd(STUB_FLASH_DATA, body, 10, NULL), STUB_E_BAD_LEN);
    /* A repeat of packet 0 (its answer was lost) is answered, not rewritten. */
    unsigned writes = count_ops('W');
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, 64), 0);
    CHECK_EQ(count_ops('W'), writes);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, p, 64), 0);
    CHECK_EQ(cmd(STUB_FLASH_END, p, 8, NULL), STUB_E_BAD_LEN);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_NOT_FLASHING);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK(memcmp(fake.flash, p, 64) == 0 && memcmp(fake.flash + 64, p, 64) == 0);
}

TEST(errors_after_the_ack_are_deferred)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint32_t len = 4 * 0x4000;
    uint8_t *img = malloc(len);
    fill_pattern(img, len, 5, 0);
    fake.fail_write_at = 0x5000; /* inside packet 1 */
    CHECK_EQ(begin(STUB_FLASH_BEGIN, len, 4, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, img, 0x4000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, img + 0x4000, 0x4000), 0); /* fails later */
    CHECK_EQ(data(STUB_FLASH_DATA, 2, img + 0x8000, 0x4000), STUB_E_SPI);
    uint8_t m[16] = {0};
    put_le32(m + 4, 0x4000);
    CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, m, 16, NULL), STUB_E_SPI);
    CHECK_EQ(data(STUB_FLASH_DATA, 3, img + 0xC000, 0x4000), STUB_E_SPI);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 0), STUB_E_SPI);
    CHECK_EQ(fake.resets, 0); /* no reboot after a failed write */
    /* A new BEGIN forgets the error. */
    fake.fail_write_at = 0xFFFFFFFF;
    CHECK_EQ(write_image(false, 0, img, len, 0x4000, 0), 0);
    CHECK(memcmp(fake.flash, img, len) == 0);
    free(img);
}

TEST(end_checks_the_byte_count)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t p[0x400];
    fill_pattern(p, sizeof p, 6, 0);
    /* Fewer bytes than announced: C8, and the region is still left as
       written: data, then erased flash up to the sector end. */
    memset(fake.flash + 0x3000, 0x00, 0x3000);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x2000, 8, 0x400, 0x3000), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, sizeof p), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 0), STUB_E_NOT_ENOUGH);
    CHECK(memcmp(fake.flash + 0x3000, p, sizeof p) == 0);
    CHECK_EQ(fake.flash[0x3000 + 0x400], 0xFF);
    CHECK_EQ(fake.flash[0x3000 + 0x1FFF], 0xFF);
    CHECK_EQ(fake.flash[0x5000], 0x00); /* outside the region: untouched */
    CHECK_EQ(fake.resets, 0);
    /* More: a non-0xFF byte past the size is an error (0xFF is padding). */
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x300, 1, 0x400, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, sizeof p), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), STUB_E_TOO_MUCH);
    memset(p + 0x300, 0xFF, 0x100);
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x300, 1, 0x400, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, sizeof p), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 1, p, 4), 0); /* acked; C9 comes later */
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), STUB_E_TOO_MUCH);
    /* END 0 reboots after the reply went out. */
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0x300, 1, 0x400, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DATA, 0, p, sizeof p), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 0), 0);
    CHECK_EQ(fake.resets, 1);
    CHECK(fake.drains > 0);
    /* A zero-length write: nothing erased, nothing written. */
    unsigned ops = fake.nops;
    CHECK_EQ(begin(STUB_FLASH_BEGIN, 0, 0, 0x400, 0), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_END, 1), 0);
    CHECK_EQ(fake.nops, ops);
}

TEST(deflate_writes_at_every_level_match_md5)
{
    start(4 * MIB, 694);
    next_frame(&(struct reply){0});
    static const uint32_t sizes[] = {1, 4, 255, 4096, 70000, 300000};
    static const uint32_t offsets[] = {0, 0x1000, 0x10000, 0x2F000, 0x100000, 0x3B000};
    unsigned cases = 0;
    for (int level = 0; level <= 9; level++) {
        for (unsigned k = 0; k < 6; k++) {
            uint32_t len = sizes[(k + (unsigned)level) % 6];
            uint32_t off = offsets[k];
            uint8_t *img = malloc(len);
            fill_pattern(img, len, (unsigned)(level * 10 + (int)k), (int)(k % 4));
            memset(fake.flash + off, 0x00, (len + 4095) & ~4095u); /* stale data */
            int rc = write_image(true, off, img, len, 0x4000, level);
            CHECK_EQ(rc, 0);
            CHECK(memcmp(fake.flash + off, img, len) == 0);
            for (uint32_t i = len; i < ((len + 4095) & ~4095u); i++)
                if (fake.flash[off + i] != 0xFF) {
                    CHECK(!"sector tail not erased");
                    break;
                }
            uint8_t m[16] = {0}, want[16];
            put_le32(m, off);
            put_le32(m + 4, len);
            struct reply r;
            CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, m, 16, &r), 0);
            CHECK_EQ(r.len, 16);
            MD5_CTX c;
            MD5Init(&c);
            MD5Update(&c, img, len);
            MD5Final(want, &c);
            CHECK(memcmp(r.data, want, 16) == 0);
            free(img);
            cases++;
        }
    }
    CHECK_EQ(cases, 60);
}

TEST(deflate_errors)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    uint8_t img[5000];
    fill_pattern(img, sizeof img, 8, 1);
    uint8_t z[6000];
    uLongf zn = sizeof z;
    compress2(z, &zn, img, sizeof img, 6);
    /* A wrong Adler-32 trailer. */
    z[zn - 1] ^= 1;
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, zn), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_INFLATE);
    z[zn - 1] ^= 1;
    /* Garbage: reported on the next DATA. */
    uint8_t junk[64];
    memset(junk, 0xEE, sizeof junk);
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 2, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, junk, sizeof junk), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 1, z, zn), STUB_E_INFLATE);
    /* Bytes after the end of the stream. */
    uint8_t z2[6100];
    memcpy(z2, z, zn);
    memset(z2 + zn, 0, 10);
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z2, zn + 10), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_TOO_MUCH);
    /* Stream longer than announced: stopped at the size, C9. */
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, 4000, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, zn), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_TOO_MUCH);
    /* Shorter: C8. */
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, 6000, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, zn), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_NOT_ENOUGH);
    /* Stream cut short: C8 at END although the byte count was reached. */
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, zn - 4), 0);
    CHECK_EQ(S.fw.pos, sizeof img);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_NOT_ENOUGH);
    /* Another DATA after the stream ended. */
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 2, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, zn), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 1, junk, 4), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), STUB_E_TOO_MUCH);
    /* A raw deflate stream is accepted too. */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = img;
    zs.avail_in = sizeof img;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    deflate(&zs, Z_FINISH);
    size_t rn = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    memset(fake.flash, 0, 8192);
    CHECK_EQ(begin(STUB_FLASH_DEFL_BEGIN, sizeof img, 1, 0x4000, 0), 0);
    CHECK_EQ(data(STUB_FLASH_DEFL_DATA, 0, z, rn), 0);
    CHECK_EQ(end_cmd(STUB_FLASH_DEFL_END, 1), 0);
    CHECK(memcmp(fake.flash, img, sizeof img) == 0);
}

/* ---- reading -------------------------------------------------------- */

static void read_req(uint32_t addr, uint32_t len, uint32_t block,
                     uint32_t window_frames)
{
    uint8_t b[16];
    put_le32(b, addr);
    put_le32(b + 4, len);
    put_le32(b + 8, block);
    put_le32(b + 12, window_frames);
    send_cmd(STUB_READ_FLASH, b, 16, 0);
}

static void ack(uint32_t total)
{
    uint8_t b[4];
    put_le32(b, total);
    feed_frame(b, 4);
}

TEST(read_flash_keeps_to_the_window)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    fill_pattern(fake.flash, MIB, 9, 0);
    uint32_t addr = 0x1235, len = 10 * 700 + 123, block = 700;
    read_req(addr, len, block, 3);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.op == STUB_READ_FLASH && r.status == 0);
    /* Three frames, then nothing until acknowledged. */
    CHECK_EQ(pending_frames(), 3);
    uint8_t *got = malloc(len);
    uint32_t have = 0, frames = 0;
    while (have < len) {
        CHECK(next_frame(&r));
        uint32_t want = len - have < block ? len - have : block;
        CHECK_EQ(r.raw_len, want);
        if (r.raw_len != want)
            break;
        memcpy(got + have, r.raw, r.raw_len);
        have += (uint32_t)r.raw_len;
        frames++;
        run();
        /* Never more than 3 unacknowledged. */
        CHECK(pending_frames() <= 2);
        ack(have);
        run();
    }
    CHECK_EQ(frames, 11);
    CHECK(memcmp(got, fake.flash + addr, len) == 0);
    CHECK(next_frame(&r));
    CHECK_EQ(r.raw_len, 16);
    uint8_t want[16];
    MD5_CTX c;
    MD5Init(&c);
    MD5Update(&c, got, len);
    MD5Final(want, &c);
    CHECK(memcmp(r.raw, want, 16) == 0);
    CHECK_EQ(S.reading, 0);
    free(got);
}

TEST(read_flash_window_of_one_and_errors)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    fill_pattern(fake.flash, 8192, 10, 0);
    read_req(0, 4096, 1024, 1);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.status == 0);
    CHECK_EQ(pending_frames(), 1);
    run();
    CHECK_EQ(pending_frames(), 1);
    ack(500); /* not a frame boundary: still one in flight */
    run();
    CHECK_EQ(pending_frames(), 1);
    ack(1024);
    run();
    CHECK_EQ(pending_frames(), 2);
    ack(99999); /* more than was sent: ignored */
    run();
    CHECK_EQ(pending_frames(), 2);
    /* A request in the middle ends the read and is answered. */
    uint8_t b[4];
    put_le32(b, 0x60000014u);
    send_cmd(STUB_READ_REG, b, 4, 0);
    run();
    next_frame(&r);
    next_frame(&r);
    CHECK(next_reply(&r) && r.op == STUB_READ_REG && r.value == 694);
    CHECK_EQ(S.reading, 0);
    uint8_t q[16];
    put_le32(q, 0);
    put_le32(q + 4, 16);
    put_le32(q + 8, 0);
    put_le32(q + 12, 1);
    CHECK_EQ(cmd(STUB_READ_FLASH, q, 16, NULL), STUB_E_BLOCK_SIZE);
    put_le32(q + 8, 0x1001);
    CHECK_EQ(cmd(STUB_READ_FLASH, q, 16, NULL), STUB_E_BLOCK_SIZE);
    put_le32(q + 8, 0x1000);
    put_le32(q + 12, 0);
    CHECK_EQ(cmd(STUB_READ_FLASH, q, 16, NULL), STUB_E_INVALID);
    CHECK_EQ(cmd(STUB_READ_FLASH, q, 12, NULL), STUB_E_BAD_LEN);
    /* Zero bytes: just the MD5 of nothing. */
    read_req(0, 0, 16, 1);
    run();
    CHECK(next_reply(&r) && r.status == 0);
    CHECK(next_frame(&r));
    CHECK_EQ(r.raw_len, 16);
    CHECK(memcmp(r.raw, "\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16) == 0);
}

TEST(md5_of_any_range)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    fill_pattern(fake.flash, MIB, 11, 0);
    static const uint32_t cases[][2] = {{0, 0}, {1, 1}, {3, 257}, {0x1000, 0x10000}, {MIB - 5, 5}};
    for (unsigned i = 0; i < 5; i++) {
        uint8_t m[16] = {0}, want[16];
        put_le32(m, cases[i][0]);
        put_le32(m + 4, cases[i][1]);
        struct reply r;
        CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, m, 16, &r), 0);
        MD5_CTX c;
        MD5Init(&c);
        MD5Update(&c, fake.flash + cases[i][0], cases[i][1]);
        MD5Final(want, &c);
        CHECK(r.len == 16 && memcmp(r.data, want, 16) == 0);
    }
    uint8_t m[16] = {0};
    CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, m, 8, NULL), STUB_E_BAD_LEN);
    put_le32(m + 4, STUB_FLASH_MAX + 1);
    CHECK_EQ(cmd(STUB_SPI_FLASH_MD5, m, 16, NULL), STUB_E_SPI);
}

TEST(erase_commands)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    memset(fake.flash, 0, MIB);
    uint8_t b[8];
    put_le32(b, 0xF000);
    put_le32(b + 4, 0x22000);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 8, NULL), 0);
    /* sector 0xF, blocks 1 and 2, sector 0x30 */
    CHECK_EQ(count_ops('S'), 2);
    CHECK_EQ(count_ops('B'), 2);
    CHECK_EQ(fake.flash[0xEFFF], 0);
    CHECK_EQ(fake.flash[0xF000], 0xFF);
    CHECK_EQ(fake.flash[0x30FFF], 0xFF);
    CHECK_EQ(fake.flash[0x31000], 0);
    put_le32(b, 0x100);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 8, NULL), STUB_E_BAD_LEN);
    put_le32(b, 0x1000);
    put_le32(b + 4, 0x100);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 8, NULL), STUB_E_BAD_LEN);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 4, NULL), STUB_E_BAD_LEN);
    fake.unlock_result = 1;
    put_le32(b + 4, 0x1000);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 8, NULL), STUB_E_UNLOCK);
    CHECK_EQ(cmd(STUB_ERASE_FLASH, NULL, 0, NULL), STUB_E_UNLOCK);
    fake.unlock_result = 0;
    CHECK_EQ(cmd(STUB_ERASE_FLASH, b, 4, NULL), STUB_E_BAD_LEN);
    CHECK_EQ(cmd(STUB_ERASE_FLASH, NULL, 0, NULL), 0);
    CHECK_EQ(count_ops('C'), 1);
    CHECK_EQ(fake.flash[0], 0xFF);
    CHECK_EQ(fake.flash[MIB - 1], 0xFF);
    fake.fail_erase_at = 0x2000;
    put_le32(b, 0x1000);
    put_le32(b + 4, 0x2000);
    CHECK_EQ(cmd(STUB_ERASE_REGION, b, 8, NULL), STUB_E_SPI);
}

TEST(run_user_code_has_no_reply)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    send_cmd(STUB_RUN_USER_CODE, NULL, 0, 0);
    run();
    CHECK_EQ(pending_frames(), 0);
    CHECK_EQ(S.run_user, 1);
}

/* ---- baud rate ------------------------------------------------------ */

static int change_baud(uint32_t want, uint32_t old)
{
    uint8_t b[8];
    put_le32(b, want);
    put_le32(b + 4, old);
    return cmd(STUB_CHANGE_BAUDRATE, b, 8, NULL);
}

static void sync_cmd(void)
{
    uint8_t b[36] = {7, 7, 0x12, 0x20};
    memset(b + 4, 0x55, 32);
    send_cmd(STUB_SYNC, b, 36, 0);
    run();
    struct reply r;
    while (next_reply(&r))
        ;
}

TEST(baud_divider_from_the_rom_rate)
{
    /* 26 MHz crystal: 452 at 115200. esptool-js always passes the ROM
       rate as `old`, esptool the current one: same dividers. */
    for (int style = 0; style < 2; style++) {
        start(MIB, 452);
        next_frame(&(struct reply){0});
        size_t before = fake.tx_len;
        CHECK_EQ(change_baud(460800, 115200), 0);
        CHECK_EQ(fake.ndivs, 1);
        CHECK_EQ(fake.divs[0], 113); /* 452 * 115200 / 460800 = 113 */
        CHECK(fake.tx_len > before); /* replied before switching */
        CHECK(fake.drains > 0);
        sync_cmd();
        CHECK_EQ(change_baud(921600, style ? 460800 : 115200), 0);
        CHECK_EQ(fake.divs[1], 57); /* 56.5 rounds up */
        sync_cmd();
        CHECK_EQ(change_baud(115200, style ? 921600 : 115200), 0);
        CHECK_EQ(fake.divs[2], 452);
    }
    start(MIB, 694); /* 40 MHz crystal */
    next_frame(&(struct reply){0});
    CHECK_EQ(change_baud(230400, 0), 0); /* 0: the ROM rate is 115200 */
    CHECK_EQ(fake.divs[0], 347);
    CHECK_EQ(change_baud(0, 115200), STUB_E_INVALID);
    CHECK_EQ(change_baud(1, 115200), STUB_E_INVALID); /* divider > 20 bits */
    uint8_t four[4] = {0};
    CHECK_EQ(cmd(STUB_CHANGE_BAUDRATE, four, 4, NULL), STUB_E_BAD_LEN);
}

static void wait_ms(uint32_t ms)
{
    uint32_t until = fake.now_ms + ms;
    while ((int32_t)(fake.now_ms - until) < 0)
        run();
}

TEST(baud_change_reverts_without_the_host)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    /* Nothing at the new rate: back to the previous divider after 1 s. */
    CHECK_EQ(change_baud(460800, 115200), 0);
    CHECK_EQ(fake_reg(0x60000014u), 174);
    wait_ms(STUB_BAUD_CONFIRM_MS - 10);
    CHECK_EQ(fake.ndivs, 1);
    wait_ms(20);
    CHECK_EQ(fake.ndivs, 2);
    CHECK_EQ(fake.divs[1], 694);
    /* Confirmed by a request: kept until 3 s of silence. */
    CHECK_EQ(change_baud(460800, 115200), 0);
    wait_ms(500);
    sync_cmd();
    wait_ms(STUB_BAUD_CONFIRM_MS + 500);
    CHECK_EQ(fake.ndivs, 3);
    wait_ms(STUB_BAUD_IDLE_MS - 1500 - 20); /* 3 s after the SYNC */
    CHECK_EQ(fake.ndivs, 3);
    wait_ms(40);
    CHECK_EQ(fake.ndivs, 4);
    CHECK_EQ(fake.divs[3], 694);
    /* A chain: 460800 confirmed, 921600 not -> 460800 after 1 s, then the
       ROM's divider after 3 s more of silence. */
    CHECK_EQ(change_baud(460800, 115200), 0);
    sync_cmd();
    CHECK_EQ(change_baud(921600, 460800), 0);
    CHECK_EQ(fake.divs[5], 87);
    wait_ms(STUB_BAUD_CONFIRM_MS + 10);
    CHECK_EQ(fake.divs[6], 174);
    wait_ms(STUB_BAUD_IDLE_MS + 10);
    CHECK_EQ(fake.ndivs, 8);
    CHECK_EQ(fake.divs[7], 694);
    /* At the ROM's divider, silence changes nothing. */
    wait_ms(10000);
    CHECK_EQ(fake.ndivs, 8);
}

TEST(acks_keep_a_changed_rate_alive)
{
    start(MIB, 694);
    next_frame(&(struct reply){0});
    CHECK_EQ(change_baud(460800, 115200), 0);
    sync_cmd();
    read_req(0, 8 * 256, 256, 1);
    run();
    struct reply r;
    CHECK(next_reply(&r) && r.status == 0);
    uint32_t have = 0;
    for (int i = 0; i < 8; i++) {
        wait_ms(2000); /* slow host, but alive */
        CHECK(next_frame(&r));
        have += (uint32_t)r.raw_len;
        ack(have);
        run();
    }
    CHECK_EQ(fake.ndivs, 1);
    CHECK(next_frame(&r) && r.raw_len == 16);
}

/* ---- inflater ------------------------------------------------------- */

struct sink {
    uint8_t *buf;
    size_t len, cap;
    unsigned calls;
    int fail_after; /* refuse once this many bytes went through (-1 never) */
};

static int to_sink(void *ctx, const uint8_t *p, uint32_t n)
{
    struct sink *k = ctx;
    k->calls++;
    if (k->fail_after >= 0 && k->len + n > (size_t)k->fail_after)
        return 0x55;
    if (k->len + n > k->cap)
        return 0x66;
    memcpy(k->buf + k->len, p, n);
    k->len += n;
    return 0;
}

/* Inflate `z` fed in pieces cut at `cuts` (ascending, may be empty). */
static int inflate_pieces(const uint8_t *z, size_t zn, const size_t *cuts,
                          size_t ncuts, struct sink *k, enum inflate_mode mode,
                          uint32_t *used_last)
{
    static struct inflater inf;
    inflate_init(&inf, (uint8_t *)window, mode);
    size_t pos = 0;
    int rc = INFLATE_MORE;
    for (size_t i = 0; i <= ncuts && rc == INFLATE_MORE; i++) {
        size_t stop = i < ncuts ? cuts[i] : zn;
        rc = inflate_feed(&inf, z + pos, (uint32_t)(stop - pos), to_sink, k);
        if (used_last)
            *used_last = inf.used;
        pos = stop;
    }
    return rc;
}

static int deflate_with(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                        int level, int bits, int strategy, size_t *outn)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, bits, 9, strategy) != Z_OK)
        return -1;
    zs.next_in = (uint8_t *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *outn = cap - zs.avail_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

TEST(inflate_matches_zlib_levels_and_strategies)
{
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED,
                                     Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    size_t n = 200000;
    uint8_t *in = malloc(n), *z = malloc(n * 2), *out = malloc(n);
    unsigned ok = 0, total = 0;
    for (int kind = 0; kind < 4; kind++) {
        fill_pattern(in, n, (unsigned)kind + 100, kind);
        for (int level = 0; level <= 9; level++) {
            for (unsigned s = 0; s < 5; s++) {
                for (int raw = 0; raw < 2; raw++) {
                    size_t zn;
                    size_t len = (size_t)(level * 7919 + (int)s * 104729 + kind * 31) % n;
                    if (deflate_with(in, len, z, n * 2, level, raw ? -15 : 15,
                                     strategies[s], &zn))
                        continue;
                    struct sink k = {out, 0, n, 0, -1};
                    size_t cut = zn / 3;
                    int rc = inflate_pieces(z, zn, &cut, 1, &k,
                                            raw ? INFLATE_RAW : INFLATE_AUTO, NULL);
                    total++;
                    if (rc == INFLATE_DONE && k.len == len && memcmp(out, in, len) == 0)
                        ok++;
                }
            }
        }
    }
    CHECK_EQ(total, 4 * 10 * 5 * 2);
    CHECK_EQ(ok, total);
    free(in);
    free(z);
    free(out);
}

TEST(inflate_split_at_every_byte)
{
    uint8_t in[600];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)("the quick brown fox "[i % 20] + (i > 400 ? i % 3 : 0));
    uint8_t z[800], out[700];
    for (int level = 0; level <= 9; level += 3) {
        uLongf zn = sizeof z;
        compress2(z, &zn, in, sizeof in, level);
        unsigned good = 0;
        for (size_t cut = 0; cut <= zn; cut++) {
            struct sink k = {out, 0, sizeof out, 0, -1};
            size_t cuts[1] = {cut};
            if (inflate_pieces(z, zn, cuts, 1, &k, INFLATE_ZLIB, NULL) == INFLATE_DONE &&
                k.len == sizeof in && memcmp(out, in, sizeof in) == 0)
                good++;
        }
        CHECK_EQ(good, zn + 1);
        /* One byte at a time. */
        size_t cuts[800];
        for (size_t i = 0; i < zn; i++)
            cuts[i] = i + 1;
        struct sink k = {out, 0, sizeof out, 0, -1};
        CHECK_EQ(inflate_pieces(z, zn, cuts, zn - 1, &k, INFLATE_ZLIB, NULL), INFLATE_DONE);
        CHECK(k.len == sizeof in && memcmp(out, in, sizeof in) == 0);
        /* Truncated anywhere: never done, never an overrun. */
        unsigned more = 0;
        for (size_t t = 0; t < zn; t++) {
            struct sink k2 = {out, 0, sizeof out, 0, -1};
            if (inflate_pieces(z, t, NULL, 0, &k2, INFLATE_ZLIB, NULL) == INFLATE_MORE)
                more++;
        }
        CHECK_EQ(more, zn);
    }
}

/* A bit writer for hand-made deflate streams (LSB first). */
struct bits {
    uint8_t *p;
    size_t n;
    uint32_t acc, cnt;
};

static void put_bits(struct bits *b, uint32_t v, uint32_t n)
{
    b->acc |= v << b->cnt;
    b->cnt += n;
    while (b->cnt >= 8) {
        b->p[b->n++] = (uint8_t)b->acc;
        b->acc >>= 8;
        b->cnt -= 8;
    }
}

/* Huffman codes go out most significant bit first. */
static void put_code(struct bits *b, uint32_t code, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        put_bits(b, (code >> (len - 1 - i)) & 1, 1);
}

static void flush_bits(struct bits *b)
{
    if (b->cnt)
        put_bits(b, 0, 8 - b->cnt);
}

/* Fixed-code literal/length symbol. */
static void fixed_sym(struct bits *b, uint32_t sym)
{
    if (sym < 144)
        put_code(b, 0x30 + sym, 8);
    else if (sym < 256)
        put_code(b, 0x190 + sym - 144, 9);
    else if (sym < 280)
        put_code(b, sym - 256, 7);
    else
        put_code(b, 0xC0 + sym - 280, 8);
}

TEST(inflate_window_edges)
{
    /* A stored block of 32768 bytes, then a fixed block copying 258 bytes
       from exactly 32768 back, twice (across the window wrap), then one
       from 32769 back: an error. */
    static uint8_t z[40000], out[70000], want[70000];
    struct bits b = {z, 0, 0, 0};
    put_bits(&b, 0, 1);
    put_bits(&b, 0, 2);
    flush_bits(&b);
    put_bits(&b, 32768, 16);
    put_bits(&b, 0xFFFF ^ 32768, 16);
    for (uint32_t i = 0; i < 32768; i++) {
        want[i] = (uint8_t)(i * 7 + (i >> 8));
        put_bits(&b, want[i], 8);
    }
    put_bits(&b, 1, 1);
    put_bits(&b, 1, 2);
    for (int rep = 0; rep < 2; rep++) {
        fixed_sym(&b, 285);          /* length 258 */
        put_code(&b, 29, 5);         /* distance 24577 + 13 extra bits */
        put_bits(&b, 32768 - 24577, 13);
    }
    size_t n = 32768;
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < 258; i++, n++)
            want[n] = want[n - 32768];
    fixed_sym(&b, 256);
    flush_bits(&b);
    struct sink k = {out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_DONE);
    CHECK_EQ(k.len, n);
    CHECK(memcmp(out, want, n) == 0);

    /* Distance past what was produced. */
    b = (struct bits){z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 1, 2);
    fixed_sym(&b, 'a');
    fixed_sym(&b, 257);              /* length 3 */
    put_code(&b, 1, 5);              /* distance 2 > 1 byte of history */
    fixed_sym(&b, 256);
    flush_bits(&b);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    /* Distance codes 30/31 and length codes 286/287 do not exist. */
    b = (struct bits){z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 1, 2);
    fixed_sym(&b, 'a');
    fixed_sym(&b, 257);
    put_code(&b, 30, 5);
    flush_bits(&b);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    b = (struct bits){z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 1, 2);
    fixed_sym(&b, 286);
    flush_bits(&b);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
}

/* A final dynamic block header: every code length 0-15 coded in 4 bits
   by the code length code, then the given literal/length and distance
   code lengths; no payload. */
static size_t dynamic_block(uint8_t *z, const uint8_t *lit, unsigned nlit,
                            const uint8_t *dist, unsigned ndist)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                      11, 4, 12, 3, 13, 2, 14, 1, 15};
    struct bits b = {z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 2, 2);
    put_bits(&b, nlit - 257, 5);
    put_bits(&b, ndist - 1, 5);
    put_bits(&b, 19 - 4, 4);
    for (int i = 0; i < 19; i++)
        put_bits(&b, order[i] >= 16 ? 0 : 4, 3);
    for (unsigned i = 0; i < nlit; i++)
        put_code(&b, lit[i], 4);
    for (unsigned i = 0; i < ndist; i++)
        put_code(&b, dist[i], 4);
    flush_bits(&b);
    return b.n;
}

TEST(inflate_rejects_bad_codes)
{
    uint8_t z[512], out[64];
    uint8_t lit[286], dist[30];
    struct sink k;
    /* Over-subscribed literal/length code: three 1-bit codes. */
    memset(lit, 0, sizeof lit);
    memset(dist, 0, sizeof dist);
    lit['a'] = 1;
    lit['b'] = 1;
    lit[256] = 1;
    dist[0] = 1;
    size_t n = dynamic_block(z, lit, 257, dist, 1);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    /* Incomplete literal/length code (two 2-bit codes): refused. */
    lit['b'] = 0;
    lit['a'] = 2;
    lit[256] = 2;
    n = dynamic_block(z, lit, 257, dist, 1);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    /* No end-of-block code. */
    lit['a'] = 1;
    lit['b'] = 1;
    lit[256] = 0;
    n = dynamic_block(z, lit, 257, dist, 1);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    /* One 1-bit distance code (incomplete, allowed) and two 1-bit
       literal/length codes: 'a' is code 0, end of block code 1. */
    lit['b'] = 0;
    lit[256] = 1;
    struct bits b = {z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 2, 2);
    put_bits(&b, 0, 5);
    put_bits(&b, 0, 5);
    put_bits(&b, 15, 4);
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                      11, 4, 12, 3, 13, 2, 14, 1, 15};
    for (int i = 0; i < 19; i++)
        put_bits(&b, order[i] >= 16 ? 0 : 4, 3);
    for (unsigned i = 0; i < 257; i++)
        put_code(&b, lit[i], 4);
    put_code(&b, dist[0], 4);
    put_code(&b, 0, 1); /* 'a' */
    put_code(&b, 0, 1); /* 'a' */
    put_code(&b, 1, 1); /* end of block */
    flush_bits(&b);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_DONE);
    CHECK(k.len == 2 && out[0] == 'a' && out[1] == 'a');
    /* Block type 3, a stored block whose NLEN is wrong, too many lengths. */
    uint8_t t3[1] = {0x07};
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(t3, 1, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    uint8_t st[5] = {0x01, 0x05, 0x00, 0xFA, 0xFE};
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(st, 5, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
    b = (struct bits){z, 0, 0, 0};
    put_bits(&b, 1, 1);
    put_bits(&b, 2, 2);
    put_bits(&b, 30, 5); /* HLIT 287 */
    put_bits(&b, 0, 5);
    put_bits(&b, 0, 4);
    flush_bits(&b);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(z, b.n, NULL, 0, &k, INFLATE_RAW, NULL), INFLATE_E_DATA);
}

TEST(inflate_zlib_wrapper_and_output_errors)
{
    uint8_t in[3000], z[4000], out[4000];
    fill_pattern(in, sizeof in, 12, 1);
    uLongf zn = sizeof z;
    compress2(z, &zn, in, sizeof in, 9);
    struct sink k = {out, 0, sizeof out, 0, -1};
    /* zlib mode refuses a raw stream; raw mode sees the header as data. */
    uint8_t bad[4000];
    memcpy(bad, z, zn);
    bad[0] = 0x79; /* CM 9 */
    CHECK_EQ(inflate_pieces(bad, zn, NULL, 0, &k, INFLATE_ZLIB, NULL), INFLATE_E_DATA);
    memcpy(bad, z, zn);
    bad[zn - 2] ^= 0x10;
    k = (struct sink){out, 0, sizeof out, 0, -1};
    CHECK_EQ(inflate_pieces(bad, zn, NULL, 0, &k, INFLATE_AUTO, NULL), INFLATE_E_CHECK);
    /* Trailing bytes: DONE, with `used` short of the piece. */
    memcpy(bad, z, zn);
    memset(bad + zn, 0xAB, 7);
    k = (struct sink){out, 0, sizeof out, 0, -1};
    uint32_t used = 0;
    CHECK_EQ(inflate_pieces(bad, zn + 7, NULL, 0, &k, INFLATE_ZLIB, &used), INFLATE_DONE);
    CHECK_EQ(used, zn);
    /* The output side refuses: the stream stops with its code. */
    static struct inflater inf;
    inflate_init(&inf, (uint8_t *)window, INFLATE_ZLIB);
    k = (struct sink){out, 0, sizeof out, 0, 1000};
    CHECK_EQ(inflate_feed(&inf, z, (uint32_t)zn, to_sink, &k), INFLATE_E_OUTPUT);
    CHECK_EQ(inf.out_err, 0x55);
    CHECK_EQ(inflate_feed(&inf, z, (uint32_t)zn, to_sink, &k), INFLATE_E_OUTPUT);
    CHECK_EQ(inf.used, 0);
}

TEST(inflate_random_input_terminates)
{
    uint8_t junk[4096], out[1 << 16];
    unsigned errors = 0, runs = 0;
    for (unsigned seed = 0; seed < 300; seed++) {
        fill_pattern(junk, sizeof junk, seed, 0);
        struct sink k = {out, 0, sizeof out, 0, -1};
        int rc = inflate_pieces(junk, sizeof junk, NULL, 0, &k,
                                seed % 2 ? INFLATE_RAW : INFLATE_AUTO, NULL);
        runs++;
        errors += rc < 0;
    }
    CHECK_EQ(runs, 300);
    CHECK(errors > 250);
}

/* ---- the MD5 used by the QEMU build's fake ROM ----------------------- */

TEST(qemu_md5_matches_libmd)
{
    uint8_t buf[1000];
    fill_pattern(buf, sizeof buf, 13, 0);
    unsigned same = 0, cases = 0;
    for (size_t n = 0; n < sizeof buf; n += 37) {
        struct rom_md5_ctx a;
        uint8_t da[16], db[16];
        stub_host_MD5Init(&a);
        stub_host_MD5Update(&a, buf, (uint32_t)(n / 2));
        stub_host_MD5Update(&a, buf + n / 2, (uint32_t)(n - n / 2));
        stub_host_MD5Final(da, &a);
        MD5_CTX c;
        MD5Init(&c);
        MD5Update(&c, buf, n);
        MD5Final(db, &c);
        same += memcmp(da, db, 16) == 0;
        cases++;
    }
    CHECK_EQ(same, cases);
}

int main(void)
{
    RUN(greets_with_ohai_and_configures_16mib);
    RUN(sync_answers_eight_times_with_value_zero);
    RUN(registers_read_and_write_as_the_rom);
    RUN(spi_params_attach_and_unknown_commands);
    RUN(malformed_requests);
    RUN(receive_path_survives_garbage);
    RUN(plain_write_erases_ahead_and_skips_blank_pages);
    RUN(each_sector_is_erased_before_its_first_write);
    RUN(a_sector_is_erased_before_data_reaches_it_even_without_idle_time);
    RUN(data_is_acknowledged_before_it_is_written);
    RUN(next_packet_arrives_while_flash_is_busy);
    RUN(packets_behind_the_one_written_are_answered_when_two_more_fit);
    RUN(a_16k_packet_behind_the_one_written_waits_for_it);
    RUN(ahead_answers_keep_order_and_errors);
    RUN(packets_arriving_while_erasing_ahead_are_answered_in_turn);
    RUN(erasing_ahead_stops_at_a_flash_failure);
    RUN(small_frames_queue_behind_big_ones);
    RUN(the_arena_holds_two_16k_or_four_8k_packets);
    RUN(acks_and_the_next_command_back_to_back);
    RUN(data_validation_codes);
    RUN(errors_after_the_ack_are_deferred);
    RUN(end_checks_the_byte_count);
    RUN(deflate_writes_at_every_level_match_md5);
    RUN(deflate_errors);
    RUN(read_flash_keeps_to_the_window);
    RUN(read_flash_window_of_one_and_errors);
    RUN(md5_of_any_range);
    RUN(erase_commands);
    RUN(run_user_code_has_no_reply);
    RUN(baud_divider_from_the_rom_rate);
    RUN(baud_change_reverts_without_the_host);
    RUN(acks_keep_a_changed_rate_alive);
    RUN(inflate_matches_zlib_levels_and_strategies);
    RUN(inflate_split_at_every_byte);
    RUN(inflate_window_edges);
    RUN(inflate_rejects_bad_codes);
    RUN(inflate_zlib_wrapper_and_output_errors);
    RUN(inflate_random_input_terminates);
    RUN(qemu_md5_matches_libmd);
    fake_free();
    CHECK_DONE();
}
