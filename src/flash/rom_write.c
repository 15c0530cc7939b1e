/*
 * Writing and erasing flash through the ESP8266 ROM loader (no stub).
 *
 * The rules this follows are the ROM's own (docs/flashing.md lists each
 * with its source; tests/tools/romsim enforces them):
 *  - every FLASH_BEGIN starts on a sector boundary, because the ROM's
 *    SPIEraseArea refuses any other offset even when it erases nothing;
 *  - its erase size is corrected for the ROM's erase bug
 *    (esp01_rom_erase_arg); the whole region is erased by one FLASH_BEGIN
 *    and the data runs are positioned by FLASH_BEGINs that erase nothing;
 *  - blank data is skipped in whole sectors only: a run of data sectors is
 *    sent block after block, a blank 1 KiB block inside it included;
 *  - FLASH_DATA blocks are whole and a multiple of 4 bytes (the last is
 *    padded with 0xFF); the ROM advances its expected sequence number
 *    before it checks the checksum but keeps the write address, so a block
 *    refused for its checksum is sent again under the next number;
 *  - no FLASH_END after writing: the ROM always leaves the loader on it
 *    and reports an error unless every announced block arrived.
 */
#include <string.h>

#include "util/bytes.h"
#include "rom_internal.h"

#define SECTOR ESP01_ROM_SECTOR
#define DATA_HDR 16
#define CMD_TIMEOUT_MS ESP01_ROMI_CMD_TIMEOUT_MS
#define BLOCK_TIMEOUT_MS ESP01_ROMI_BLOCK_TIMEOUT_MS
/* One sector per FLASH_DATA: the ROM takes block sizes up to 0x1800
 * (FlashDwnLdStartMsgProc refuses larger ones); 1024 if it refuses. */
#define BLOCK_FIRST 4096u
#define BLOCK_FALLBACK 1024u
#define CHECKSUM_RESENDS 3
#define MAX_FAILS 6
#define MAX_SECTORS 4096u           /* 16 MiB */
/* 0x3FFFC714 holds a pointer to the ROM's SpiFlashChip; chip_size at +4
 * bounds SPIEraseArea and SPIWrite (bootrom.s, SPIEraseArea/SPIWrite). */
#define FLASHCHIP_PTR 0x3FFFC714u

struct writer {
    esp01_rom *rom;
    uint32_t first;          /* first sector of the region (absolute) */
    uint32_t nsec;           /* sectors in the region */
    const uint8_t *data;
    size_t len;
    uint32_t bs;             /* FLASH_DATA block size */
    esp01_rom_write_stats *st;
    esp01_rom_progress prog;
    uint32_t fail_sector, fails;
    uint32_t spi_saved[2];   /* the ROM's SPI USR, USR2 */
    bool have_spi_saved;
    bool suspect;            /* something went wrong: verify densely */
    bool params_set;         /* SPI_SET_PARAMS was needed */
    uint8_t done[MAX_SECTORS / 8]; /* region sectors written and acked */
};

/* ---- the image, sector by sector --------------------------------------- */

static bool sector_blank(const struct writer *w, uint32_t s)
{
    size_t off = (size_t)s * SECTOR;
    if (off >= w->len)
        return true;
    size_t n = w->len - off < SECTOR ? w->len - off : SECTOR;
    for (size_t i = 0; i < n; i++)
        if (w->data[off + i] != 0xFF)
            return false;
    return true;
}

static bool range_blank(const struct writer *w, size_t off, size_t n)
{
    for (size_t i = 0; i < n && off + i < w->len; i++)
        if (w->data[off + i] != 0xFF)
            return false;
    return true;
}

/* Bytes of the region at `off` (0xFF past the data). */
static void region_bytes(const struct writer *w, size_t off, uint8_t *out,
                         size_t n)
{
    memset(out, 0xFF, n);
    if (off < w->len)
        memcpy(out, w->data + off, w->len - off < n ? w->len - off : n);
}

static uint32_t region_word(const struct writer *w, uint32_t rel)
{
    uint8_t b[4];
    region_bytes(w, rel, b, 4);
    return esp01_le32(b);
}

static bool is_done(const struct writer *w, uint32_t s)
{
    return w->done[s / 8] & (1u << (s % 8));
}

static void set_done(struct writer *w, uint32_t s, bool on)
{
    if (on)
        w->done[s / 8] |= (uint8_t)(1u << (s % 8));
    else
        w->done[s / 8] &= (uint8_t)~(1u << (s % 8));
}

static uint32_t addr_of(const struct writer *w, uint32_t s)
{
    return (w->first + s) * SECTOR;
}

static void report(struct writer *w, esp01_rom_phase phase, uint32_t offset)
{
    w->prog.phase = phase;
    w->prog.offset = offset;
    if (w->rom->progress)
        w->rom->progress(w->rom->progress_ctx, &w->prog);
}

/* Count a failure at region sector `s`; false once it failed too often. */
static bool note_failure(struct writer *w, uint32_t s)
{
    if (s != w->fail_sector) {
        w->fail_sector = s;
        w->fails = 0;
    }
    report(w, ESP01_ROM_PHASE_RETRY, addr_of(w, s));
    return ++w->fails < MAX_FAILS;
}

static uint32_t erase_timeout(uint32_t sectors)
{
    uint64_t ms = (uint64_t)sectors * SECTOR * ESP01_ROM_ERASE_MS_PER_MIB /
                  (1024u * 1024u);
    return ms < CMD_TIMEOUT_MS ? CMD_TIMEOUT_MS : (uint32_t)ms + 1000;
}

/* ---- the ROM's flash size limit ---------------------------------------- */

/*
 * The ROM checks every erase and write against its own idea of the chip
 * size, which is data the disassembly does not show.  Read it (two
 * READ_REGs) and, when the region goes past it, raise it with
 * SPI_SET_PARAMS (command 0x0B, FlashDwnLdParamCfgMsgProc -> SPIParamCfg)
 * and read it back.  A pointer that does not look like one leaves the
 * check to the ROM's own refusals.
 */
static int ensure_chip_size(esp01_rom *rom, uint32_t need, bool *raised,
                            esp01_err *err)
{
    uint32_t ptr, size;
    int rc = esp01_rom_read_reg(rom, FLASHCHIP_PTR, &ptr, err);
    if (rc < 0)
        return rc;
    if (ptr < 0x3FFE8000u || ptr > 0x3FFFFFE0u || ptr % 4)
        return 0;
    if ((rc = esp01_rom_read_reg(rom, ptr + 4, &size, err)) < 0)
        return rc;
    if (size >= need)
        return 0;
    uint32_t total = rom->flash_size >= need ? rom->flash_size : need;
    uint8_t pkt[24];
    esp01_put_le32(pkt, rom->jedec);
    esp01_put_le32(pkt + 4, total);
    esp01_put_le32(pkt + 8, 0x10000);
    esp01_put_le32(pkt + 12, SECTOR);
    esp01_put_le32(pkt + 16, 256);
    esp01_put_le32(pkt + 20, 0xFFFF);
    esp01_err e;
    rc = esp01_romi_check(rom, 0x0B, pkt, sizeof pkt, 0, CMD_TIMEOUT_MS, NULL,
                          &e);
    if (rc == 0)
        rc = esp01_rom_read_reg(rom, ptr + 4, &size, &e);
    if (rc < 0 || size < need)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the ROM loader only writes the first %u KiB of "
                          "flash and did not accept a larger size (%s)",
                          size / 1024, rc < 0 ? e.msg : "size unchanged");
    *raised = true;
    return 0;
}

/*
 * After a doubtful exchange: re-sync, and since the chip may have reset,
 * give the ROM its size limit again and attach the flash again (a reset
 * chip answers SPI reads with all ones until a FLASH_BEGIN attaches it).
 */
static void resync(struct writer *w)
{
    esp01_romi_recover(w->rom);
    if (w->params_set)
        ensure_chip_size(w->rom, addr_of(w, w->nsec), &w->params_set, NULL);
    esp01_romi_flash_begin(w->rom, 0, 0, w->bs, 0, CMD_TIMEOUT_MS, NULL);
}

/* ---- erasing ------------------------------------------------------------ */

/*
 * Erase [first, first + n) (absolute sectors) and nothing else.  One
 * FLASH_BEGIN does it when the corrected erase size can be exact; the ROM
 * bug makes an odd count that stays inside one 64 KiB block impossible in
 * one request (see esp01_rom_erase_arg), so then the first n - 1 sectors
 * (an even count) go in one request and the last two in a second: the
 * sector between is erased twice, before anything is written.  A single
 * sector can only be erased with a neighbour: the one after it when that
 * is on the chip, else the one before; `*collateral` gets its address
 * (else ESP01_ROM_NO_COLLATERAL).  The ROM's size limit is raised first if
 * it does not cover every sector touched.
 */
static int erase_sectors(esp01_rom *rom, uint32_t first, uint32_t n,
                         uint32_t block_size, bool *raised,
                         uint32_t *collateral, esp01_err *err)
{
    uint32_t chip = rom->flash_size ? rom->flash_size / SECTOR : MAX_SECTORS;
    uint32_t req[2][2]; /* start, count */
    int nreq = 1;
    req[0][0] = first;
    req[0][1] = n;
    *collateral = ESP01_ROM_NO_COLLATERAL;
    uint32_t erased;
    esp01_rom_erase_arg(first, n, &erased);
    if (erased != n && n >= 3) {
        req[0][1] = n - 1;
        req[1][0] = first + n - 2;
        req[1][1] = 2;
        nreq = 2;
    } else if (erased != n) {
        if (first + n < chip || first == 0) {
            *collateral = (first + n) * SECTOR;
        } else {
            req[0][0] = first - 1;
            *collateral = (first - 1) * SECTOR;
        }
        req[0][1] = 2;
    }
    for (int i = 0; i < nreq; i++) {
        uint32_t arg = esp01_rom_erase_arg(req[i][0], req[i][1], &erased);
        int rc = ensure_chip_size(rom, (req[i][0] + erased) * SECTOR, raised,
                                  err);
        if (rc == 0)
            rc = esp01_romi_flash_begin(rom, arg, 0, block_size,
                                        req[i][0] * SECTOR,
                                        erase_timeout(erased), err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Erase region sector `s` again (its write was interrupted) together with
 * a neighbour, since two sectors can always be erased exactly; the
 * neighbour is the sector before when it belongs to the region (it is
 * then written again), else the one after.  Returns the first region
 * sector that now needs writing.
 */
static int reerase(struct writer *w, uint32_t s, uint32_t *resume,
                   esp01_err *err)
{
    uint32_t p = s > 0 ? s - 1 : s;
    uint32_t n = 2;
    if (w->nsec == 1)
        n = 1;
    else if (p + 2 > w->nsec)
        p = w->nsec - 2;
    uint32_t collateral;
    report(w, ESP01_ROM_PHASE_ERASE, addr_of(w, p));
    int rc = erase_sectors(w->rom, w->first + p, n, w->bs, &w->params_set,
                           &collateral, err);
    if (rc < 0)
        return rc;
    for (uint32_t k = p; k < p + n; k++)
        set_done(w, k, false);
    *resume = p;
    return 0;
}

/* reerase, tried again after a re-sync when the exchange fails. */
static int reerase_retry(struct writer *w, uint32_t s, uint32_t *resume,
                         esp01_err *err)
{
    int rc = ESP01_E_TIMEOUT;
    for (int attempt = 0; attempt < MAX_FAILS; attempt++) {
        if ((rc = reerase(w, s, resume, err)) == 0 ||
            rc == ESP01_E_UNSUPPORTED)
            return rc;
        resync(w);
    }
    return rc;
}

/* ---- reading back ---------------------------------------------------------- */

static int spi_begin(struct writer *w, esp01_err *err)
{
    uint32_t cur[2];
    int rc = esp01_romi_spi_read_begin(w->rom, cur, err);
    if (rc == 0 && !w->have_spi_saved) {
        w->spi_saved[0] = cur[0];
        w->spi_saved[1] = cur[1];
        w->have_spi_saved = true;
    }
    return rc;
}

/*
 * Read the flash word at region offset `rel`: 1 when it holds the image's
 * bytes, 0 when it does not (read twice), or a negative code.  FLASH_BEGIN
 * carries no checksum, so this is how a misplaced write shows.
 */
static int spi_begin(struct writer *w, esp01_err *err);

static int word_matches(struct writer *w, uint32_t rel, esp01_err *err)
{
    uint32_t want = region_word(w, rel), got = 0, first = 0;
    uint32_t addr = w->first * SECTOR + rel;
    for (int reads = 0, resets = 0; reads < 3; reads++) {
        uint32_t before = w->rom->resyncs;
        int rc = esp01_romi_spi_read_word(w->rom, addr, &got, err);
        if (rc < 0)
            return rc;
        if (w->rom->resyncs != before && resets++ < 3) {
            /* The chip may have reset underneath: its answer says nothing
             * about the flash until the flash is attached and the SPI set
             * up again. */
            esp01_romi_flash_begin(w->rom, 0, 0, w->bs, 0, CMD_TIMEOUT_MS,
                                   NULL);
            if ((rc = spi_begin(w, err)) < 0)
                return rc;
            reads = -1;
            continue;
        }
        if (got == want)
            return 1;
        /* The register writes that aim the read have no checksum either:
         * only the same wrong word twice counts. */
        if (reads > 0 && got == first)
            return 0;
        first = got;
    }
    return 0;
}

static int placement_ok(struct writer *w, uint32_t s, esp01_err *err)
{
    int rc = spi_begin(w, err);
    if (rc < 0)
        return rc;
    int ok = word_matches(w, s * SECTOR, err);
    rc = esp01_romi_spi_read_end(w->rom, w->spi_saved, err);
    return ok < 0 ? ok : rc < 0 ? rc : ok;
}

/* ---- writing ------------------------------------------------------------ */

/* Blocks to send for region sectors [s, e): up to the last non-blank one. */
static uint32_t blocks_for(const struct writer *w, uint32_t s, uint32_t e)
{
    uint32_t per = SECTOR / w->bs;
    for (uint32_t b = e * per; b > s * per; b--)
        if (!range_blank(w, (size_t)(b - 1) * w->bs, w->bs))
            return b - s * per;
    return 0;
}

enum block_result { BLOCK_OK, BLOCK_RESTART, BLOCK_SMALLER };

/*
 * Send block `b` (region block number) as sequence number *seq.  Checksum
 * refusals are answered by sending it again under the next number (the
 * ROM advanced its counter but not its address).
 */
static int send_block(struct writer *w, uint32_t b, uint32_t *seq,
                      enum block_result *res, esp01_err *err)
{
    esp01_rom *rom = w->rom;
    uint8_t pkt[DATA_HDR + BLOCK_FIRST];
    esp01_put_le32(pkt, w->bs);
    esp01_put_le32(pkt + 8, 0);
    esp01_put_le32(pkt + 12, 0);
    region_bytes(w, (size_t)b * w->bs, pkt + DATA_HDR, w->bs);
    uint32_t chk = esp01_romi_checksum(pkt + DATA_HDR, w->bs);
    for (int resend = 0;; resend++) {
        esp01_put_le32(pkt + 4, *seq);
        esp01_rom_response r;
        int rc = esp01_romi_command(rom, ESP01_ROM_FLASH_DATA, pkt,
                                    DATA_HDR + w->bs, chk, BLOCK_TIMEOUT_MS,
                                    &r, err);
        if (rc == 0 && r.status == 0) {
            (*seq)++;
            *res = BLOCK_OK;
            return 0;
        }
        if (rc == 0 && r.error == ESP01_ROM_ERR_CHECKSUM &&
            resend < CHECKSUM_RESENDS) {
            (*seq)++;
            if (w->st)
                w->st->block_retries++;
            report(w, ESP01_ROM_PHASE_RETRY, addr_of(w, 0) + b * w->bs);
            continue;
        }
        if (rc == 0)
            esp01_fail(err, ESP01_E_DEVICE,
                       "the ROM loader refused the block: error 0x%02x (%s)",
                       r.error, esp01_romi_error_text(r.error));
        *res = BLOCK_RESTART;
        return 0;
    }
}

/* Write the data sectors [s, e) of the region (a run of them). */
static int write_run(struct writer *w, uint32_t s, uint32_t e, esp01_err *err)
{
    esp01_rom *rom = w->rom;
    while (s < e) {
        if (is_done(w, s)) {
            s++;
            continue;
        }
        esp01_err fe;
        uint32_t per = SECTOR / w->bs;
        uint32_t blocks = blocks_for(w, s, e);
        uint32_t addr = addr_of(w, s);
        int rc = esp01_romi_flash_begin(rom, 0, blocks, w->bs, addr,
                                        CMD_TIMEOUT_MS, &fe);
        if (rc == ESP01_E_DEVICE && w->bs == BLOCK_FIRST &&
            rom->last_error == ESP01_ROM_ERR_INVALID) {
            /* A ROM that does not take sector-sized blocks: use 1 KiB. */
            w->bs = BLOCK_FALLBACK;
            rom->block_size = w->bs;
            continue;
        }
        uint32_t b = s * per, seq = 0, end = s * per + blocks;
        bool placed = false;
        enum block_result res = rc < 0 ? BLOCK_RESTART : BLOCK_OK;
        while (res == BLOCK_OK && b < end) {
            if ((rc = send_block(w, b, &seq, &res, &fe)) < 0)
                return rc;
            if (res != BLOCK_OK)
                break;
            uint32_t bs_done = (b + 1) * w->bs;
            if (!placed) {
                int ok = placement_ok(w, b / per, &fe);
                if (ok != 1) {
                    if (ok == 0)
                        esp01_fail(&fe, ESP01_E_DEVICE, "the block after a "
                                   "FLASH_BEGIN landed somewhere else");
                    w->suspect = true;
                    res = BLOCK_RESTART;
                    break;
                }
                placed = true;
            }
            if (w->st)
                w->st->payload_sent += w->bs;
            w->prog.payload_done += w->bs;
            if ((b + 1) % per == 0 || b + 1 == end) {
                set_done(w, b / per, true);
                if (bs_done > w->prog.done)
                    w->prog.done = bs_done;
            }
            report(w, ESP01_ROM_PHASE_WRITE, w->first * SECTOR + b * w->bs);
            b++;
        }
        if (res == BLOCK_OK) {
            for (uint32_t k = s; k < e; k++)
                set_done(w, k, true);
            return 0;
        }
        /* Anything but a clean answer: the chip's state is in doubt. */
        uint32_t at = b / per;
        if (!note_failure(w, at))
            return esp01_fail(err, rc < 0 ? rc : ESP01_E_DEVICE,
                              "writing flash at 0x%06x failed: %s",
                              addr_of(w, at), fe.msg);
        if (w->st)
            w->st->restarts++;
        w->suspect = true;
        resync(w);
        uint32_t resume;
        if ((rc = reerase_retry(w, at, &resume, &fe)) < 0)
            return esp01_fail(err, rc, "erasing flash at 0x%06x failed: %s",
                              addr_of(w, at), fe.msg);
        /* A sector before the run that the re-erase took is blank in the
         * image; sectors of the run from `resume` on are written again. */
        s = resume;
        while (s < e && sector_blank(w, s))
            s++;
    }
    return 0;
}

/* Data sectors the re-erases cleared outside the run being written. */
static int write_all_runs(struct writer *w, esp01_err *err)
{
    for (int pass = 0; pass < 8; pass++) {
        bool again = false;
        for (uint32_t s = 0; s < w->nsec;) {
            if (sector_blank(w, s) || is_done(w, s)) {
                s++;
                continue;
            }
            uint32_t e = s;
            while (e < w->nsec && !sector_blank(w, e))
                e++;
            int rc = write_run(w, s, e, err);
            if (rc < 0)
                return rc;
            again = true;
            s = e;
        }
        bool all = true;
        for (uint32_t s = 0; s < w->nsec; s++)
            if (!sector_blank(w, s) && !is_done(w, s))
                all = false;
        if (all || !again)
            return 0;
    }
    return esp01_fail(err, ESP01_E_DEVICE, "writing flash at 0x%06x did not "
                      "settle", addr_of(w, 0));
}

/*
 * One word of every sector (eight when anything went wrong), at a place
 * that changes between rounds, is read back; sectors that do not match are
 * erased (with a neighbour, see reerase) and written again.
 */
static int verify_and_repair(struct writer *w, esp01_err *err)
{
    esp01_rom *rom = w->rom;
    uint32_t nonce = 0x9E3779B9u ^ w->nsec ^ (uint32_t)esp01_now_ms();
    uint8_t bad[MAX_SECTORS / 8];
    for (int round = 0; round < 4; round++) {
        esp01_err e;
        uint32_t first_bad = UINT32_MAX, nbad = 0;
        uint32_t samples = w->suspect ? 8 : 1, span = SECTOR / samples;
        memset(bad, 0, sizeof bad);
        /* SPI reads need the flash attached (a FLASH_BEGIN since reset). */
        int rc = esp01_romi_flash_begin(rom, 0, 0, w->bs, 0, CMD_TIMEOUT_MS,
                                        &e);
        if (rc < 0) {
            resync(w);
            rc = 0;
        }
        rc = spi_begin(w, &e);
        for (uint32_t s = 0; rc == 0 && s < w->nsec; s++) {
            for (uint32_t k = 0; k < samples; k++) {
                nonce = nonce * 1103515245u + 12345u;
                uint32_t rel = s * SECTOR + k * span +
                               (nonce >> 8) % (span / 4) * 4;
                int ok = word_matches(w, rel, &e);
                /* A chip that reset lost the SPI set-up too. */
                for (int again = 0; ok < 0 && again < MAX_FAILS; again++) {
                    resync(w);
                    if ((rc = spi_begin(w, &e)) == 0)
                        ok = word_matches(w, rel, &e);
                }
                if (ok < 0) {
                    rc = ok;
                    first_bad = addr_of(w, 0) + rel;
                    break;
                }
                if (ok == 0) {
                    if (first_bad == UINT32_MAX)
                        first_bad = addr_of(w, 0) + rel;
                    bad[s / 8] |= (uint8_t)(1u << (s % 8));
                    nbad++;
                    break;
                }
            }
            if (s % 16 == 15 || s + 1 == w->nsec)
                report(w, ESP01_ROM_PHASE_VERIFY, addr_of(w, s));
        }
        if (rc == 0 && w->have_spi_saved)
            rc = esp01_romi_spi_read_end(rom, w->spi_saved, &e);
        if (rc < 0)
            return esp01_fail(err, rc, "verifying flash at 0x%06x failed: %s",
                              first_bad != UINT32_MAX ? first_bad
                                                      : addr_of(w, 0),
                              e.msg);
        if (nbad == 0)
            return 0;
        if (round == 3)
            return esp01_fail(err, ESP01_E_DEVICE,
                              "flash at 0x%06x does not hold the image after "
                              "writing", first_bad);
        if (w->st)
            w->st->repaired_sectors += nbad;
        w->suspect = true;
        for (uint32_t s = 0; s < w->nsec; s++) {
            if (!(bad[s / 8] & (1u << (s % 8))))
                continue;
            uint32_t resume;
            if ((rc = reerase_retry(w, s, &resume, &e)) < 0)
                return esp01_fail(err, rc, "erasing flash at 0x%06x failed: "
                                  "%s", addr_of(w, s), e.msg);
        }
        /* Erased sectors that are blank in the image are now right. */
        for (uint32_t s = 0; s < w->nsec; s++)
            if (sector_blank(w, s))
                set_done(w, s, true);
        if ((rc = write_all_runs(w, err)) < 0)
            return rc;
    }
    return 0;
}

int esp01_rom_write_flash(esp01_rom *rom, uint32_t offset,
                          const uint8_t *data, size_t len,
                          esp01_rom_write_stats *stats, esp01_err *err)
{
    int rc = esp01_romi_region_ok(rom, offset, len, true, err);
    if (rc < 0)
        return rc;
    struct writer w;
    esp01_rom_write_stats local;
    memset(&w, 0, sizeof w);
    w.rom = rom;
    w.first = offset / SECTOR;
    w.nsec = (uint32_t)((len + SECTOR - 1) / SECTOR);
    w.data = data;
    w.len = len;
    w.st = stats ? stats : &local;
    memset(w.st, 0, sizeof *w.st);
    w.st->collateral = ESP01_ROM_NO_COLLATERAL;
    w.fail_sector = UINT32_MAX;
    w.bs = rom->block_size ? rom->block_size : BLOCK_FIRST;
    w.prog.total = w.nsec * SECTOR;
    for (uint32_t s = 0; s < w.nsec; s++) {
        if (sector_blank(&w, s)) {
            w.st->blank_sectors++;
            set_done(&w, s, true);
        } else {
            w.st->data_sectors++;
            w.prog.payload_total += SECTOR;
        }
    }

    /* The whole region in one FLASH_BEGIN: the ROM then uses 64 KiB block
     * erases where it can, far faster than many sector erases. */
    esp01_err e;
    report(&w, ESP01_ROM_PHASE_ERASE, offset);
    for (int attempt = 0;; attempt++) {
        rc = erase_sectors(rom, w.first, w.nsec, w.bs, &w.params_set,
                           &w.st->collateral, &e);
        if (rc == 0)
            break;
        if (rc == ESP01_E_UNSUPPORTED)
            return esp01_fail(err, rc, "%s", e.msg);
        if (rc == ESP01_E_DEVICE && w.bs == BLOCK_FIRST &&
            rom->last_error == ESP01_ROM_ERR_INVALID) {
            w.bs = BLOCK_FALLBACK;
            rom->block_size = w.bs;
            continue;
        }
        if (attempt >= MAX_FAILS)
            return esp01_fail(err, rc, "erasing flash at 0x%06x failed: %s",
                              offset, e.msg);
        resync(&w);
    }
    rom->block_size = w.bs;
    if ((rc = write_all_runs(&w, err)) < 0)
        return rc;
    rc = verify_and_repair(&w, err);
    w.prog.done = w.prog.total;
    return rc;
}

int esp01_rom_erase(esp01_rom *rom, uint32_t offset, uint32_t size,
                    uint32_t *collateral, esp01_err *err)
{
    if (offset % SECTOR || size % SECTOR || size == 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "erase region 0x%x+0x%x is not whole 4096-byte "
                          "sectors", offset, size);
    if (size > 0x1000000u || offset > 0x1000000u - size)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "erase region 0x%x+0x%x is past the 16 MiB limit",
                          offset, size);
    if (rom->flash_size && offset + size > rom->flash_size)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "erase region 0x%x+0x%x is past the end of the "
                          "%u KiB flash chip", offset, size,
                          rom->flash_size / 1024);
    bool raised = false;
    uint32_t first = offset / SECTOR, n = size / SECTOR, where = 0;
    uint32_t bs = rom->block_size ? rom->block_size : BLOCK_FALLBACK;
    esp01_err e;
    int rc = ESP01_E_TIMEOUT;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = erase_sectors(rom, first, n, bs, &raised, &where, &e);
        if (rc == 0 || rc == ESP01_E_UNSUPPORTED)
            break;
        esp01_romi_recover(rom);
    }
    if (rc < 0)
        return esp01_fail(err, rc, "erasing flash at 0x%06x failed: %s",
                          offset, e.msg);
    if (collateral)
        *collateral = where;
    return 0;
}

int esp01_rom_finish(esp01_rom *rom, esp01_rom_after after, esp01_err *err)
{
    switch (after) {
    case ESP01_ROM_AFTER_NO_RESET:
        return 0;
    case ESP01_ROM_AFTER_HARD_RESET:
        rom->port->ops->set_dtr_rts(rom->port, false, true, NULL);
        esp01_sleep_ms(100);
        rom->port->ops->set_dtr_rts(rom->port, false, false, NULL);
        return 0;
    case ESP01_ROM_AFTER_RUN: {
        /* FLASH_END succeeds only when the blocks and bytes announced by
         * the last FLASH_BEGIN all arrived, so announce none (as esptool's
         * run() does); the ROM then leaves the loader and boots. */
        uint32_t bs = rom->block_size ? rom->block_size : BLOCK_FALLBACK;
        int rc = esp01_romi_flash_begin(rom, 0, 0, bs, 0, CMD_TIMEOUT_MS, err);
        if (rc < 0)
            return rc;
        uint8_t pkt[4];
        esp01_put_le32(pkt, 1);
        return esp01_romi_check(rom, ESP01_ROM_FLASH_END, pkt, 4, 0,
                                CMD_TIMEOUT_MS, NULL, err);
    }
    }
    return esp01_fail(err, ESP01_E_INVAL, "unknown after-action %d",
                      (int)after);
}
