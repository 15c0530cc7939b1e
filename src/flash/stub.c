/* The flasher stub client; see include/esp01/stub.h and docs/stub.md. */
#include "esp01/stub.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/bytes.h"
#include "esp01/hash.h"
#include "rom_internal.h"
#include "stub_image.h"

#define SECTOR ESP01_ROM_SECTOR
#define DATA_HDR 16
#define MEM_BLOCK 0x1800u          /* the ROM's MEM_BEGIN block size limit */
#define CMD_TIMEOUT_MS 3000u
#define OHAI_TIMEOUT_MS 3000u
/* How long the stub waits for a valid frame after a baud change before it
 * goes back to the previous rate (docs/stub.md). */
#define STUB_REVERT_MS 1000u
#define CONFIRM_MS 200u
#define BAUD_SETTLE_MS 10u
/* Per MiB of flash touched, for a chip at its datasheet maximums
 * (W25Q80DV: sector erase 400 ms, page program 3 ms) rather than esptool's
 * 30 s/MiB erase and 40 s/MiB write budgets, which a chip erasing 64 KiB
 * blocks at the 2 s maximum already needs 32 s/MiB of.  MD5 as esptool's
 * MD5_TIMEOUT_PER_MB. */
#define ERASE_MS_PER_MIB ESP01_ROM_ERASE_MS_PER_MIB
#define WRITE_MS_PER_MIB (ERASE_MS_PER_MIB + 4096u * 3u)
#define MD5_MS_PER_MIB 8000u
#define CHIP_ERASE_MS 120000u
#define RUN_ATTEMPTS 3
#define READ_CHUNK 0x10000u
#define BLOCK64_BYTES 0x10000u

static uint32_t per_mib(uint64_t bytes, uint32_t ms_per_mib)
{
    return CMD_TIMEOUT_MS + (uint32_t)(bytes * ms_per_mib / (1024u * 1024u));
}

const char *esp01_stub_version(void)
{
    return esp01_stub_esp8266.version;
}

static bool cancelled(const esp01_rom *rom)
{
    return rom->cancel && *rom->cancel;
}

static void report(esp01_rom *rom, esp01_rom_progress *p,
                   esp01_rom_phase phase, uint32_t offset)
{
    p->phase = phase;
    p->offset = offset;
    if (rom->progress)
        rom->progress(rom->progress_ctx, p);
}

/* ---- uploading --------------------------------------------------------- */

/* One segment through MEM_BEGIN/MEM_DATA.  The ROM advances its sequence
 * number before it checks a MEM_DATA checksum (MemPacketSendReqMsgProc),
 * so a refused block goes again under the next number. */
static int upload_segment(esp01_rom *rom, const esp01_stub_segment *seg,
                          esp01_err *err)
{
    uint32_t blocks = (seg->len + MEM_BLOCK - 1) / MEM_BLOCK;
    uint8_t *pkt = malloc(DATA_HDR + MEM_BLOCK);
    if (!pkt)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    int rc = ESP01_E_PROTOCOL;
    for (int attempt = 0; attempt < RUN_ATTEMPTS; attempt++) {
        uint8_t begin[16];
        esp01_put_le32(begin, seg->len);
        esp01_put_le32(begin + 4, blocks);
        esp01_put_le32(begin + 8, MEM_BLOCK);
        esp01_put_le32(begin + 12, seg->addr);
        rc = esp01_romi_check(rom, ESP01_ROM_MEM_BEGIN, begin, 16, 0,
                              CMD_TIMEOUT_MS, NULL, err);
        uint32_t seq = 0;
        for (uint32_t b = 0; rc == 0 && b < blocks; b++) {
            uint32_t off = b * MEM_BLOCK;
            uint32_t n = seg->len - off < MEM_BLOCK ? seg->len - off
                                                    : MEM_BLOCK;
            esp01_put_le32(pkt, n);
            esp01_put_le32(pkt + 8, 0);
            esp01_put_le32(pkt + 12, 0);
            memcpy(pkt + DATA_HDR, seg->data + off, n);
            uint32_t chk = esp01_romi_checksum(seg->data + off, n);
            for (int resend = 0;; resend++) {
                esp01_put_le32(pkt + 4, seq);
                esp01_rom_response r;
                rc = esp01_romi_command(rom, ESP01_ROM_MEM_DATA, pkt,
                                        DATA_HDR + n, chk,
                                        ESP01_ROMI_BLOCK_TIMEOUT_MS, &r, err);
                if (rc == 0 && r.status == 0) {
                    seq++;
                    break;
                }
                if (rc == 0 && r.error == ESP01_ROM_ERR_CHECKSUM &&
                    resend < 3) {
                    seq++;
                    continue;
                }
                if (rc == 0)
                    rc = esp01_fail(err, ESP01_E_DEVICE, "the ROM loader "
                                    "refused the stub upload at 0x%08x: "
                                    "error 0x%02x", seg->addr + off,
                                    r.error);
                break;
            }
        }
        if (rc == 0)
            break;
        esp01_romi_recover(rom);
    }
    free(pkt);
    return rc;
}

int esp01_stub_start(esp01_rom *rom, bool *started, esp01_err *err)
{
    if (started)
        *started = false;
    if (rom->stub_running)
        return 0;
    const esp01_stub_image *img = &esp01_stub_esp8266;
    for (size_t i = 0; i < img->nseg; i++) {
        int rc = upload_segment(rom, &img->seg[i], err);
        if (rc < 0)
            return rc;
    }
    /* MEM_END's flag is inverted in the ROM: 0 jumps to the entry. */
    uint8_t end[8];
    esp01_put_le32(end, 0);
    esp01_put_le32(end + 4, img->entry);
    int rc = esp01_romi_send(rom, ESP01_ROM_MEM_END, end, 8, 0, NULL, err);
    if (rc < 0)
        return rc;
    if (started)
        *started = true;
    uint64_t deadline = esp01_deadline_in(OHAI_TIMEOUT_MS);
    for (;;) {
        esp01_err e;
        int n = esp01_romi_read_frame(rom, deadline, &e);
        if (n < 0) {
            /* A greeting lost on the line, or a slow start: a stub that
             * runs answers SYNC with 0 all the same. */
            uint32_t value = 1;
            if (esp01_romi_sync(rom, &value, NULL) == 0 && value == 0)
                break;
            return esp01_fail(err, n == ESP01_E_TIMEOUT ? ESP01_E_TIMEOUT : n,
                              "the flasher stub did not greet within %u ms "
                              "after the upload", OHAI_TIMEOUT_MS);
        }
        if (n == 4 && memcmp(rom->frame, "OHAI", 4) == 0)
            break;
        esp01_rom_response r;
        if (esp01_rom_parse_response(rom->frame, (size_t)n, &r, NULL) == 0 &&
            r.op == ESP01_ROM_MEM_END && r.status != 0) {
            if (started)
                *started = false;
            return esp01_fail(err, ESP01_E_DEVICE, "the ROM loader refused "
                              "to start the stub: error 0x%02x", r.error);
        }
    }
    rom->stub_running = true;
    rom->flash_attached = false;
    return 0;
}

/* ---- baud rate ---------------------------------------------------------- */

/* A SYNC answered by the stub (value 0) at the port's current rate. */
static bool stub_answers(esp01_rom *rom, int tries)
{
    for (int i = 0; i < tries; i++) {
        esp01_romi_discard(rom);
        uint8_t pkt[36];
        pkt[0] = 0x07, pkt[1] = 0x07, pkt[2] = 0x12, pkt[3] = 0x20;
        memset(pkt + 4, 0x55, 32);
        esp01_rom_response r;
        if (esp01_romi_command(rom, ESP01_ROM_SYNC, pkt, sizeof pkt, 0,
                               CONFIRM_MS, &r, NULL) == 0 &&
            r.status == 0 && r.value == 0) {
            esp01_romi_discard(rom);
            return true;
        }
    }
    return false;
}

static int port_baud(esp01_rom *rom, uint32_t baud, esp01_err *err)
{
    return rom->port->ops->set_baud(rom->port, baud, err);
}

int esp01_stub_set_baud(esp01_rom *rom, uint32_t baud, uint32_t *got,
                        esp01_err *err)
{
    static const uint32_t ladder[] = {3000000, 2000000, 1500000, 1000000,
                                      921600, 460800, 230400, 115200};
    uint32_t cur = rom->port->baud ? rom->port->baud : 115200;
    if (got)
        *got = cur;
    if (!rom->stub_running)
        return esp01_fail(err, ESP01_E_UNSUPPORTED, "the ROM loader cannot "
                          "change its baud rate; the stub can");
    uint32_t cand = baud;
    for (;;) {
        if (cand == cur)
            return 0;
        uint8_t pkt[8];
        esp01_put_le32(pkt, cand);
        esp01_put_le32(pkt + 4, cur);
        esp01_err e;
        int rc = ESP01_E_TIMEOUT;
        for (int attempt = 0; attempt < RUN_ATTEMPTS && rc < 0; attempt++) {
            rc = esp01_romi_check(rom, ESP01_STUB_CHANGE_BAUDRATE, pkt, 8, 0,
                            CMD_TIMEOUT_MS, NULL, &e);
            if (rc < 0) {
                /* A lost reply may mean it did switch: it comes back to
                 * this rate by itself when nothing valid arrives. */
                esp01_sleep_ms(STUB_REVERT_MS + 200);
                stub_answers(rom, 3);
            }
        }
        if (rc < 0)
            return esp01_fail(err, rc, "changing to %u baud failed: %s", cand,
                              e.msg);
        /* The stub answers at the old rate, waits for its FIFO to empty
         * and one character more, and switches: by the time its whole
         * reply is here it has (a character is 87 us at 115200).  The
         * pause lets the line settle; a SYNC at the new rate confirms. */
        if (rom->port->ops->drain)
            rom->port->ops->drain(rom->port, esp01_deadline_in(500), NULL);
        esp01_sleep_ms(BAUD_SETTLE_MS);
        uint64_t switched = esp01_now_ms();
        if ((rc = port_baud(rom, cand, &e)) == 0 && stub_answers(rom, 2)) {
            if (got)
                *got = cand;
            return 0;
        }
        /* Silence at the new rate: go back and let the stub go back too
         * (it does when no valid frame arrives after a change). */
        if (port_baud(rom, cur, &e) < 0)
            return esp01_fail(err, ESP01_E_IO, "%s", e.msg);
        uint64_t until = switched + STUB_REVERT_MS + 200;
        uint64_t now = esp01_now_ms();
        if (until > now)
            esp01_sleep_ms((uint32_t)(until - now));
        if (!stub_answers(rom, 3))
            return esp01_fail(err, ESP01_E_TIMEOUT, "the flasher stub "
                              "answers neither at %u nor at %u baud", cand,
                              cur);
        uint32_t next = 0;
        for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++)
            if (ladder[i] < cand && ladder[i] > cur) {
                next = ladder[i];
                break;
            }
        if (!next)
            return 0; /* stays at `cur`; *got says so */
        cand = next;
    }
}

/* ---- writing ------------------------------------------------------------ */

/*
 * FLASH_DEFL_DATA blocks of 8 KiB, two in flight: the stub's receive
 * arena holds four such packets, so it can answer one while the one
 * before is still being written, with room for the two the host then has
 * on the way (docs/stub.md, STUB_WRITE_AHEAD).  The line stays busy while
 * the stub erases or writes, as long as the stub keeps up on average.
 */
#define WRITE_BLOCK ESP01_STUB_BLOCK
#define WRITE_AHEAD 2u
/* Input given to zlib at a time, so that a block's input span is known. */
#define ZIN_STEP 4096u

/* A zlib stream of `n` bytes, produced one block at a time as the blocks
 * are first needed (compressing overlaps with waiting for the stub), and
 * kept for sending again. */
struct zstream {
    z_stream z;
    const uint8_t *in;
    size_t n;
    uint8_t *buf;         /* every block so far, back to back */
    size_t cap, used;
    size_t *start;        /* block i is buf[start[i], start[i] + len[i]) */
    uint32_t *len, *upto; /* upto: input bytes covered once it is written */
    size_t nb, bcap;
    bool done;
};

static int zs_init(struct zstream *zs, const uint8_t *in, size_t n,
                   esp01_err *err)
{
    memset(zs, 0, sizeof *zs);
    zs->in = in;
    zs->n = n;
    zs->cap = compressBound((uLong)n) + WRITE_BLOCK;
    zs->bcap = zs->cap / WRITE_BLOCK + 2;
    zs->buf = malloc(zs->cap);
    zs->start = calloc(zs->bcap, sizeof *zs->start);
    zs->len = calloc(zs->bcap, sizeof *zs->len);
    zs->upto = calloc(zs->bcap, sizeof *zs->upto);
    if (!zs->buf || !zs->start || !zs->len || !zs->upto ||
        deflateInit(&zs->z, 9) != Z_OK) {
        free(zs->buf);
        free(zs->start);
        free(zs->len);
        free(zs->upto);
        return esp01_fail(err, ESP01_E_NOMEM, "cannot start compressing");
    }
    zs->z.next_in = (Bytef *)in;
    return 0;
}

static void zs_free(struct zstream *zs)
{
    deflateEnd(&zs->z);
    free(zs->buf);
    free(zs->start);
    free(zs->len);
    free(zs->upto);
}

/* Make block `i` if the stream has one: 1 yes, 0 the stream ended
 * before it, < 0 failure. */
static int zs_block(struct zstream *zs, size_t i, esp01_err *err)
{
    while (zs->nb <= i && !zs->done) {
        if (zs->nb == zs->bcap || zs->cap - zs->used < WRITE_BLOCK)
            return esp01_fail(err, ESP01_E_LIMIT, "compressed data too large");
        zs->z.next_out = zs->buf + zs->used;
        zs->z.avail_out = WRITE_BLOCK;
        int zr = Z_OK;
        while (zs->z.avail_out > 0 && zr != Z_STREAM_END) {
            size_t left = zs->n - (size_t)(zs->z.next_in - zs->in);
            zs->z.avail_in = (uInt)(left < ZIN_STEP ? left : ZIN_STEP);
            zr = deflate(&zs->z, left <= ZIN_STEP ? Z_FINISH : Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
                return esp01_fail(err, ESP01_E_FORMAT, "compressing failed");
        }
        uint32_t got = WRITE_BLOCK - zs->z.avail_out;
        if (zr == Z_STREAM_END)
            zs->done = true;
        if (got == 0)
            break;
        zs->start[zs->nb] = zs->used;
        zs->len[zs->nb] = got;
        zs->upto[zs->nb] = (uint32_t)(zs->z.next_in - zs->in);
        zs->used += got;
        zs->nb++;
    }
    return i < zs->nb;
}

/*
 * One FLASH_DEFL_BEGIN/DATA/END of `n` bytes at `addr`.  DATA goes
 * WRITE_AHEAD packets at a time.  The stub answers in order, and a DATA
 * reply names no sequence number, so on any doubt (a refusal, a timeout,
 * a garbled reply) the host waits for the line to settle (a SYNC answered
 * means every earlier reply is in) and sends again from the oldest packet
 * not answered: the stub answers a repeat of the last WRITE_AHEAD packets
 * it took without writing them twice.
 */
static int defl_write(esp01_rom *rom, uint32_t addr, const uint8_t *in,
                      size_t n, esp01_rom_progress *prog, uint32_t base,
                      uint64_t *wire, esp01_err *err)
{
    struct zstream zs;
    int rc = zs_init(&zs, in, n, err);
    if (rc < 0)
        return rc;
    uint8_t *pkt = malloc(DATA_HDR + WRITE_BLOCK);
    if (!pkt) {
        zs_free(&zs);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    esp01_err e;
    /* The stub does not use the block count; this is what it can be at
       most, as the stream is made while it is sent. */
    uint8_t begin[16];
    esp01_put_le32(begin, (uint32_t)n);
    esp01_put_le32(begin + 4, (uint32_t)(compressBound((uLong)n) / WRITE_BLOCK + 1));
    esp01_put_le32(begin + 8, WRITE_BLOCK);
    esp01_put_le32(begin + 12, addr);
    rc = esp01_romi_check(rom, ESP01_STUB_FLASH_DEFL_BEGIN, begin, 16, 0,
                    CMD_TIMEOUT_MS, NULL, &e);
    size_t acked = 0, sent = 0;
    int doubts = 0;
    uint64_t deadline = 0;
    while (rc == 0) {
        if (cancelled(rom)) {
            rc = esp01_fail(&e, ESP01_E_INTERRUPTED, "interrupted");
            break;
        }
        while (sent < acked + WRITE_AHEAD) {
            int have = zs_block(&zs, sent, &e);
            if (have < 0)
                rc = have;
            if (have <= 0)
                break;
            esp01_put_le32(pkt, zs.len[sent]);
            esp01_put_le32(pkt + 4, (uint32_t)sent);
            esp01_put_le32(pkt + 8, 0);
            esp01_put_le32(pkt + 12, 0);
            memcpy(pkt + DATA_HDR, zs.buf + zs.start[sent], zs.len[sent]);
            size_t w = 0;
            rc = esp01_romi_send(rom, ESP01_STUB_FLASH_DEFL_DATA, pkt,
                                 DATA_HDR + zs.len[sent],
                                 esp01_romi_checksum(zs.buf + zs.start[sent],
                                                     zs.len[sent]),
                                 &w, &e);
            if (rc < 0)
                break;
            *wire += zs.len[sent];
            if (sent == acked)
                deadline = 0;
            sent++;
        }
        if (rc < 0 || acked == sent)
            break; /* a failure, or every block answered */
        /* The next block is made while the stub works on these. */
        if ((rc = zs_block(&zs, sent, &e)) < 0)
            break;
        rc = 0;
        if (!deadline) {
            /* The stub may first finish writing the blocks before, and
             * erase ahead of them. */
            uint32_t span = zs.upto[sent - 1] - (acked ? zs.upto[acked - 1] : 0);
            deadline = esp01_deadline_in(esp01_romi_wire_ms(rom, 2 * (DATA_HDR + WRITE_BLOCK)) +
                                         per_mib(span + BLOCK64_BYTES, WRITE_MS_PER_MIB));
        }
        int len = esp01_romi_read_frame(rom, deadline, &e);
        esp01_rom_response r;
        bool parsed = len >= 0 &&
                      esp01_rom_parse_response(rom->frame, (size_t)len, &r, NULL) == 0;
        if (parsed && r.op != ESP01_STUB_FLASH_DEFL_DATA)
            continue; /* a stray frame */
        if (parsed && r.status == 0) {
            acked++;
            deadline = 0;
            uint32_t from = acked > 1 ? zs.upto[acked - 2] : 0;
            prog->done = base + zs.upto[acked - 1];
            /* Image bytes, so the rate shown is what the user's data moves at. */
            prog->payload_done += zs.upto[acked - 1] - from;
            report(rom, prog, ESP01_ROM_PHASE_WRITE, addr + zs.upto[acked - 1]);
            continue;
        }
        /* A block refused for its checksum or out of turn was not taken,
         * and one whose reply was lost may have been: after the line has
         * settled, all from the oldest unanswered one go again. */
        bool retry = !parsed || r.error == ESP01_STUB_ERR_CHECKSUM ||
                     r.error == ESP01_STUB_ERR_INVALID;
        if (!retry || ++doubts > 3 * (int)WRITE_AHEAD) {
            if (parsed) {
                rom->last_error = r.error;
                rc = esp01_fail(&e, ESP01_E_DEVICE, "the flasher stub refused "
                                "the data: error 0x%02x (%s)", r.error,
                                esp01_stub_error_text(r.error));
            } else if (len >= 0) {
                rc = esp01_fail(&e, ESP01_E_PROTOCOL, "garbled reply to the "
                                "data at 0x%06x", addr + (acked ? zs.upto[acked - 1] : 0));
            } else {
                rc = len;
            }
            break;
        }
        esp01_romi_recover(rom);
        sent = acked;
        deadline = 0;
    }
    if (rc == 0) {
        uint8_t end[4];
        esp01_put_le32(end, 1); /* stay in the stub */
        /* The stub writes what it holds and erases what the data did not
         * reach before it answers. */
        rc = esp01_romi_check(rom, ESP01_STUB_FLASH_DEFL_END, end, 4, 0,
                              per_mib((uint64_t)n + BLOCK64_BYTES, WRITE_MS_PER_MIB),
                              NULL, &e);
    }
    free(pkt);
    zs_free(&zs);
    if (rc < 0)
        return esp01_fail(err, rc, "writing flash at 0x%06x failed: %s",
                          addr, e.msg);
    return 0;
}

/* Asking for an MD5 changes nothing on the chip: any doubt asks again. */
int esp01_stub_md5(esp01_rom *rom, uint32_t addr, uint32_t size,
                   uint8_t out[16], esp01_err *err)
{
    uint8_t pkt[16];
    esp01_put_le32(pkt, addr);
    esp01_put_le32(pkt + 4, size);
    esp01_put_le32(pkt + 8, 0);
    esp01_put_le32(pkt + 12, 0);
    esp01_err e;
    int rc = ESP01_E_TIMEOUT;
    for (int attempt = 0; attempt < RUN_ATTEMPTS; attempt++) {
        if (attempt)
            esp01_romi_recover(rom);
        esp01_rom_response r;
        rc = esp01_romi_check(rom, ESP01_STUB_SPI_FLASH_MD5, pkt, 16, 0,
                        per_mib(size, MD5_MS_PER_MIB), &r, &e);
        if (rc == 0 && r.data_len != 16)
            rc = esp01_fail(&e, ESP01_E_PROTOCOL, "the stub's MD5 reply has "
                            "%zu bytes, not 16", r.data_len);
        if (rc == 0) {
            memcpy(out, r.data, 16);
            return 0;
        }
    }
    return esp01_fail(err, rc, "the MD5 of flash at 0x%06x could not be "
                      "computed: %s", addr, e.msg);
}

int esp01_stub_erase_region(esp01_rom *rom, uint32_t addr, uint32_t size,
                            esp01_err *err)
{
    if (addr % SECTOR || size % SECTOR || size == 0)
        return esp01_fail(err, ESP01_E_INVAL, "erase region 0x%x+0x%x is "
                          "not whole 4096-byte sectors", addr, size);
    uint8_t pkt[8];
    esp01_put_le32(pkt, addr);
    esp01_put_le32(pkt + 4, size);
    return esp01_romi_check(rom, ESP01_STUB_ERASE_REGION, pkt, 8, 0,
                      per_mib(size, ERASE_MS_PER_MIB), NULL, err);
}

int esp01_stub_erase_flash(esp01_rom *rom, esp01_err *err)
{
    return esp01_romi_check(rom, ESP01_STUB_ERASE_FLASH, NULL, 0, 0, CHIP_ERASE_MS,
                      NULL, err);
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

static bool bit(const uint8_t *map, uint32_t i)
{
    return map[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *map, uint32_t i)
{
    map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* One region whose flash MD5 is wanted, and what the stub said. */
struct md5_job {
    uint32_t addr, size;
    uint8_t digest[16];
};

/* SPI_FLASH_MD5 requests sent ahead of their replies: the stub keeps
 * small frames that arrive while it works (four slots, docs/stub.md), so
 * the round trips overlap with its reading of the flash. */
#define MD5_IN_FLIGHT 3

/* Every job's digest, or < 0 at the first doubt. */
static int md5_pipelined(esp01_rom *rom, struct md5_job *jobs, size_t n,
                         esp01_err *err)
{
    size_t sent = 0, done = 0;
    uint64_t deadline = 0;
    while (done < n) {
        while (sent < n && sent - done < MD5_IN_FLIGHT) {
            if (cancelled(rom))
                return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
            uint8_t pkt[16];
            esp01_put_le32(pkt, jobs[sent].addr);
            esp01_put_le32(pkt + 4, jobs[sent].size);
            esp01_put_le32(pkt + 8, 0);
            esp01_put_le32(pkt + 12, 0);
            int rc = esp01_romi_send(rom, ESP01_STUB_SPI_FLASH_MD5, pkt, 16, 0,
                                     NULL, err);
            if (rc < 0)
                return rc;
            if (sent == done)
                deadline = esp01_deadline_in(per_mib(jobs[done].size,
                                                     MD5_MS_PER_MIB));
            sent++;
        }
        int len = esp01_romi_read_frame(rom, deadline, err);
        if (len < 0)
            return len;
        esp01_rom_response r;
        if (esp01_rom_parse_response(rom->frame, (size_t)len, &r, NULL) < 0 ||
            r.op != ESP01_STUB_SPI_FLASH_MD5)
            continue; /* a stray frame */
        if (r.status != 0 || r.data_len != 16)
            return esp01_fail(err, ESP01_E_PROTOCOL, "MD5 reply refused or "
                              "short");
        memcpy(jobs[done].digest, r.data, 16);
        done++;
        /* The next reply comes once the stub has read that region. */
        if (done < n)
            deadline = esp01_deadline_in(per_mib(jobs[done].size,
                                                 MD5_MS_PER_MIB));
    }
    return 0;
}

/*
 * The stub's MD5 of each job.  A doubt on the pipelined path (a lost or
 * garbled reply) asks the rest again one at a time: asking for an MD5
 * changes nothing on the chip.
 */
static int md5_jobs(esp01_rom *rom, struct md5_job *jobs, size_t n,
                    esp01_err *err)
{
    if (cancelled(rom))
        return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
    esp01_err e;
    int rc = md5_pipelined(rom, jobs, n, &e);
    if (rc == 0 || rc == ESP01_E_INTERRUPTED)
        return rc == 0 ? 0 : esp01_fail(err, rc, "%s", e.msg);
    esp01_romi_recover(rom);
    for (size_t i = 0; i < n; i++) {
        if (cancelled(rom))
            return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
        if ((rc = esp01_stub_md5(rom, jobs[i].addr, jobs[i].size,
                                 jobs[i].digest, err)) < 0)
            return rc;
    }
    return 0;
}

/* Does the chip's MD5 of [addr, addr + n) match `img`? 1, 0 or < 0. */
static int md5_same(esp01_rom *rom, uint32_t addr, const uint8_t *img,
                    uint32_t n, esp01_err *err)
{
    uint8_t want[16], got[16];
    esp01_md5(img, n, want);
    int rc = esp01_stub_md5(rom, addr, n, got, err);
    return rc < 0 ? rc : memcmp(want, got, 16) == 0;
}

/* esp01_stub_diff over an image already padded to `nsec` sectors. */
/*
 * Which sectors differ: the MD5 of every 64 KiB block of flash addresses,
 * then of each sector inside the blocks that differ.  (One MD5 of
 * everything first would read the flash once more whenever anything
 * changed, which is when this runs.)  With `exact` false and most blocks
 * differing (another image, or noise), the sector sums are skipped and
 * every sector of a differing block is taken as differing: they would
 * cost a round trip each to save little.
 */
static int diff_padded(esp01_rom *rom, uint32_t offset, const uint8_t *img,
                       uint32_t nsec, bool exact, uint8_t *differs,
                       uint32_t *ndiff, esp01_err *err)
{
    memset(differs, 0, (nsec + 7) / 8);
    *ndiff = 0;
    uint32_t first = offset / SECTOR, nblocks = 0, nbad = 0;
    uint8_t bad[(0x1000000u / BLOCK64_BYTES + 7) / 8];
    memset(bad, 0, sizeof bad);
    /* At most one job per sector, and a block job covers at least one. */
    struct md5_job *jobs = malloc(sizeof *jobs * nsec);
    if (!jobs)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    for (uint32_t s = 0; s < nsec; nblocks++) {
        uint32_t e = s + (16 - (first + s) % 16);
        if (e > nsec)
            e = nsec;
        jobs[nblocks].addr = (first + s) * SECTOR;
        jobs[nblocks].size = (e - s) * SECTOR;
        s = e;
    }
    int rc = md5_jobs(rom, jobs, nblocks, err);
    for (uint32_t b = 0; rc == 0 && b < nblocks; b++) {
        uint8_t want[16];
        esp01_md5(img + (jobs[b].addr - offset), jobs[b].size, want);
        if (memcmp(want, jobs[b].digest, 16) != 0) {
            set_bit(bad, b);
            nbad++;
        }
    }
    bool refine = exact || 2 * nbad <= nblocks;
    uint32_t njobs = 0;
    for (uint32_t s = 0, b = 0; rc == 0 && s < nsec; b++) {
        uint32_t e = s + (16 - (first + s) % 16);
        if (e > nsec)
            e = nsec;
        for (uint32_t k = s; bit(bad, b) && k < e; k++) {
            if (refine && e - s > 1) {
                jobs[njobs].addr = (first + k) * SECTOR;
                jobs[njobs].size = SECTOR;
                njobs++;
            } else {
                set_bit(differs, k);
                (*ndiff)++;
            }
        }
        s = e;
    }
    if (rc == 0 && njobs)
        rc = md5_jobs(rom, jobs, njobs, err);
    for (uint32_t j = 0; rc == 0 && j < njobs; j++) {
        uint32_t k = jobs[j].addr / SECTOR - first;
        uint8_t want[16];
        esp01_md5(img + (size_t)k * SECTOR, SECTOR, want);
        if (memcmp(want, jobs[j].digest, 16) != 0) {
            set_bit(differs, k);
            (*ndiff)++;
        }
    }
    free(jobs);
    return rc;
}

/* The image padded with 0xFF to whole sectors. */
static uint8_t *padded_copy(const uint8_t *data, size_t len, uint32_t *nsec)
{
    *nsec = (uint32_t)((len + SECTOR - 1) / SECTOR);
    size_t plen = (size_t)*nsec * SECTOR;
    uint8_t *img = malloc(plen);
    if (img) {
        memcpy(img, data, len);
        memset(img + len, 0xFF, plen - len);
    }
    return img;
}

int esp01_stub_diff(esp01_rom *rom, uint32_t offset, const uint8_t *data,
                    size_t len, uint8_t *differs, uint32_t *ndiff,
                    esp01_err *err)
{
    uint32_t nsec, count = 0;
    if (offset % SECTOR || len == 0 || len > 0x1000000u ||
        offset > 0x1000000u - len)
        return esp01_fail(err, ESP01_E_INVAL, "0x%x + %zu bytes is not a "
                          "flash region", offset, len);
    uint8_t *img = padded_copy(data, len, &nsec);
    if (!img)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    int rc = diff_padded(rom, offset, img, nsec, true, differs, &count, err);
    free(img);
    if (ndiff)
        *ndiff = count;
    return rc;
}

/* The run of marked sectors starting at `s`: its end, and whether every
 * sector in it is blank (0xFF). */
static uint32_t run_end(const uint8_t *img, uint32_t nsec, const uint8_t *todo,
                        uint32_t s, bool *blank)
{
    uint32_t e = s;
    *blank = true;
    while (e < nsec && bit(todo, e)) {
        if (*blank && !all_ff(img + (size_t)e * SECTOR, SECTOR))
            *blank = false;
        e++;
    }
    return e;
}

/*
 * Write the sectors marked in `todo`: each run of them as one zlib stream
 * (its blank sectors cost a few bytes of it and are only erased on the
 * chip), or, when every sector of the run is blank, as an ERASE_REGION.
 * One stream per run lets the stub erase ahead of the data over the whole
 * run while it waits for the next packet.  A run that fails on the wire is
 * tried again from its start.
 */
static int write_marked(esp01_rom *rom, uint32_t offset, const uint8_t *img,
                        uint32_t nsec, const uint8_t *todo,
                        esp01_rom_progress *prog,
                        esp01_stub_write_stats *stats, esp01_err *err)
{
    for (uint32_t s = 0; s < nsec;) {
        if (!bit(todo, s)) {
            s++;
            continue;
        }
        bool blank;
        uint32_t e = run_end(img, nsec, todo, s, &blank);
        uint32_t addr = offset + s * SECTOR, n = (e - s) * SECTOR;
        uint32_t done_before = prog->done, payload_before = prog->payload_done;
        int rc = 0;
        esp01_err e1;
        for (int attempt = 0; attempt < RUN_ATTEMPTS; attempt++) {
            if (cancelled(rom))
                return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted at "
                                  "0x%06x", addr);
            prog->payload_done = payload_before;
            if (blank) {
                report(rom, prog, ESP01_ROM_PHASE_ERASE, addr);
                rc = esp01_stub_erase_region(rom, addr, n, &e1);
                if (rc < 0)
                    esp01_fail(&e1, rc, "erasing flash at 0x%06x failed: %s",
                               addr, e1.msg);
            } else {
                rc = defl_write(rom, addr, img + (size_t)s * SECTOR, n, prog,
                                done_before, &stats->compressed, &e1);
            }
            if (rc == 0 || rc == ESP01_E_INTERRUPTED)
                break;
            /* Once more from the start of the run, on a clean line. */
            esp01_romi_recover(rom);
        }
        if (rc < 0)
            return esp01_fail(err, rc, "%s", e1.msg);
        for (uint32_t k = s; k < e; k++) {
            if (all_ff(img + (size_t)k * SECTOR, SECTOR))
                stats->blank_sectors++;
            else
                stats->data_sectors++;
        }
        if (!blank)
            stats->runs++;
        prog->done = done_before + n;
        report(rom, prog, blank ? ESP01_ROM_PHASE_ERASE : ESP01_ROM_PHASE_WRITE,
               addr + n);
        s = e;
    }
    return 0;
}

int esp01_stub_write_flash(esp01_rom *rom, uint32_t offset,
                           const uint8_t *data, size_t len,
                           const esp01_stub_write_opts *opts,
                           esp01_stub_write_stats *stats, esp01_err *err)
{
    esp01_stub_write_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    int rc = esp01_romi_region_ok(rom, offset, len, true, err);
    if (rc < 0)
        return rc;
    if (!rom->stub_running)
        return esp01_fail(err, ESP01_E_INVAL, "the flasher stub is not "
                          "running");
    /* The stub erases whole sectors: the MD5s cover the padded image. */
    uint32_t nsec;
    uint8_t *img = padded_copy(data, len, &nsec);
    uint8_t *todo = calloc((nsec + 7) / 8, 1);
    if (!img || !todo) {
        free(img);
        free(todo);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    stats->sectors = nsec;
    esp01_rom_progress prog;
    memset(&prog, 0, sizeof prog);
    if (opts && opts->full) {
        memset(todo, 0xFF, (nsec + 7) / 8);
        stats->differing = nsec;
    } else {
        report(rom, &prog, ESP01_ROM_PHASE_VERIFY, offset);
        rc = diff_padded(rom, offset, img, nsec, false, todo,
                         &stats->differing, err);
    }
    /* Image bytes that go through a stream (blank runs are only erased). */
    for (uint32_t s = 0; s < nsec;) {
        bool blank;
        uint32_t e = bit(todo, s) ? run_end(img, nsec, todo, s, &blank) : s + 1;
        if (bit(todo, s)) {
            prog.total += (e - s) * SECTOR;
            if (!blank)
                prog.payload_total += (e - s) * SECTOR;
        }
        s = e;
    }
    for (int round = 0; rc == 0; round++) {
        prog.done = 0;
        if ((rc = write_marked(rom, offset, img, nsec, todo, &prog, stats,
                               err)) < 0)
            break;
        /* The final check covers the whole image, written or not: one
         * MD5, and only when it differs, which sectors. */
        report(rom, &prog, ESP01_ROM_PHASE_VERIFY, offset);
        uint32_t bad = 0;
        int same = md5_same(rom, offset, img, nsec * SECTOR, err);
        if (same != 0) {
            rc = same < 0 ? same : 0;
            break;
        }
        if ((rc = diff_padded(rom, offset, img, nsec, true, todo, &bad,
                              err)) < 0 ||
            bad == 0)
            break;
        if (round == 1) {
            uint32_t first = 0;
            while (!bit(todo, first))
                first++;
            rc = esp01_fail(err, ESP01_E_CHECKSUM, "flash at 0x%06x does not "
                            "hold the image after writing (%u sector%s "
                            "differ%s)", offset + first * SECTOR, bad,
                            bad == 1 ? "" : "s", bad == 1 ? "s" : "");
            break;
        }
        stats->rewritten += bad;
    }
    free(img);
    free(todo);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

/* One READ_FLASH of up to READ_CHUNK bytes. */
static int read_chunk(esp01_rom *rom, uint32_t addr, uint32_t size,
                      uint8_t *out, esp01_rom_progress *prog, uint32_t base,
                      esp01_err *err)
{
    uint8_t pkt[16];
    esp01_put_le32(pkt, addr);
    esp01_put_le32(pkt + 4, size);
    esp01_put_le32(pkt + 8, ESP01_STUB_READ_BLOCK);
    esp01_put_le32(pkt + 12, ESP01_STUB_READ_IN_FLIGHT);
    int rc = esp01_romi_check(rom, ESP01_STUB_READ_FLASH, pkt, 16, 0, CMD_TIMEOUT_MS,
                        NULL, err);
    if (rc < 0)
        return rc;
    uint32_t total = 0;
    while (total < size) {
        if (cancelled(rom))
            return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted at "
                              "0x%06x", addr + total);
        int n = esp01_romi_read_frame(rom, esp01_deadline_in(CMD_TIMEOUT_MS),
                                      err);
        if (n < 0)
            return esp01_fail(err, n, "no flash data from the stub after "
                              "0x%06x", addr + total);
        uint32_t want = size - total < ESP01_STUB_READ_BLOCK
                            ? size - total
                            : ESP01_STUB_READ_BLOCK;
        if ((uint32_t)n != want)
            return esp01_fail(err, ESP01_E_PROTOCOL, "the stub sent %d bytes "
                              "of flash at 0x%06x, not %u", n, addr + total,
                              want);
        memcpy(out + total, rom->frame, (size_t)n);
        total += (uint32_t)n;
        uint8_t ack[4];
        esp01_put_le32(ack, total);
        size_t enc_len = esp01_slip_encode(ack, 4, rom->wire,
                                           sizeof rom->wire);
        if ((rc = esp01_port_write(rom->port, rom->wire, enc_len,
                                   esp01_deadline_in(CMD_TIMEOUT_MS), err)) < 0)
            return rc;
        rom->wire_tx += enc_len;
        prog->done = base + total;
        prog->payload_done = base + total;
        report(rom, prog, ESP01_ROM_PHASE_READ, addr + total);
    }
    int n = esp01_romi_read_frame(rom, esp01_deadline_in(CMD_TIMEOUT_MS), err);
    if (n < 0)
        return esp01_fail(err, n, "no MD5 from the stub after reading "
                          "0x%06x", addr);
    uint8_t mine[16];
    esp01_md5(out, size, mine);
    if (n != 16 || memcmp(rom->frame, mine, 16) != 0)
        return esp01_fail(err, ESP01_E_CHECKSUM, "flash read at 0x%06x "
                          "arrived damaged (MD5 differs)", addr);
    return 0;
}

int esp01_stub_read_flash(esp01_rom *rom, uint32_t addr, uint32_t size,
                          uint8_t *out, esp01_err *err)
{
    if (!rom->stub_running)
        return esp01_fail(err, ESP01_E_INVAL, "the flasher stub is not "
                          "running");
    int region = esp01_romi_region_ok(rom, addr, size, false, err);
    if (region < 0)
        return region;
    esp01_rom_progress prog;
    memset(&prog, 0, sizeof prog);
    prog.total = prog.payload_total = size;
    for (uint32_t done = 0; done < size;) {
        uint32_t n = size - done < READ_CHUNK ? size - done : READ_CHUNK;
        int rc = ESP01_E_PROTOCOL;
        esp01_err e;
        for (int attempt = 0; attempt < RUN_ATTEMPTS; attempt++) {
            if (cancelled(rom))
                return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted at "
                                  "0x%06x", addr + done);
            rc = read_chunk(rom, addr + done, n, out + done, &prog, done, &e);
            if (rc == 0)
                break;
            if (rc == ESP01_E_INTERRUPTED)
                return esp01_fail(err, rc, "%s", e.msg);
            report(rom, &prog, ESP01_ROM_PHASE_RETRY, addr + done);
            /* Let a stub still sending the chunk run out of acks. */
            esp01_sleep_ms(STUB_REVERT_MS);
            esp01_romi_recover(rom);
        }
        if (rc < 0)
            return esp01_fail(err, rc, "reading flash at 0x%06x failed: %s",
                              addr + done, e.msg);
        done += n;
    }
    return 0;
}

int esp01_stub_finish(esp01_rom *rom, esp01_rom_after after, esp01_err *err)
{
    switch (after) {
    case ESP01_ROM_AFTER_NO_RESET: {
        /* Leave it where a new connection looks for it. */
        uint32_t home = rom->connect_baud ? rom->connect_baud : 115200;
        if (rom->port->baud != home)
            return esp01_stub_set_baud(rom, home, NULL, err);
        return 0;
    }
    case ESP01_ROM_AFTER_HARD_RESET:
        return esp01_rom_finish(rom, after, err);
    case ESP01_ROM_AFTER_RUN: {
        int rc = esp01_romi_send(rom, ESP01_STUB_RUN_USER_CODE, NULL, 0, 0,
                                 NULL, err);
        if (rc == 0 && rom->port->ops->drain)
            rom->port->ops->drain(rom->port, esp01_deadline_in(500), NULL);
        rom->stub_running = false;
        return rc;
    }
    }
    return esp01_fail(err, ESP01_E_INVAL, "unknown after-action %d",
                      (int)after);
}
