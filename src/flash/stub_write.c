/*
 * stub_write.c - writing an image through the flasher stub: only the
 * sectors whose MD5 differs (stub_read.c), each run of them as one zlib
 * stream of FLASH_DEFL_DATA packets kept in flight, blank runs only
 * erased, and a final MD5 check with one more round for what still
 * differs.
 */
#include "esp01/stub.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/bytes.h"
#include "esp01/hash.h"
#include "stub_internal.h"

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

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
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
    uint8_t *img = esp01_stubi_padded_copy(data, len, &nsec);
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
        rc = esp01_stubi_diff_padded(rom, offset, img, nsec, false, todo,
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
        if ((rc = esp01_stubi_diff_padded(rom, offset, img, nsec, true,
                                          todo, &bad, err)) < 0 ||
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
