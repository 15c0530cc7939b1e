/*
 * stub_read.c - asking the flasher stub about flash without changing it
 * (MD5s, one at a time or pipelined, the sectors that differ from an
 * image, reading) and erasing.  The writer (stub_write.c) builds on the
 * MD5s to write only what differs.
 */
#include "esp01/stub.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/hash.h"
#include "stub_internal.h"

#define CHIP_ERASE_MS 120000u
#define READ_CHUNK 0x10000u

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

/*
 * Which sectors differ (esp01_stub_diff over an image already padded to
 * `nsec` sectors): the MD5 of every 64 KiB block of flash addresses, then
 * of each sector inside the blocks that differ.  (One MD5 of everything
 * first would read the flash once more whenever anything changed, which
 * is when this runs.)  With `exact` false and most blocks differing
 * (another image, or noise), the sector sums are skipped and every sector
 * of a differing block is taken as differing: they would cost a round trip
 * each to save little.
 */
int esp01_stubi_diff_padded(esp01_rom *rom, uint32_t offset,
                            const uint8_t *img, uint32_t nsec, bool exact,
                            uint8_t *differs, uint32_t *ndiff,
                            esp01_err *err)
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

uint8_t *esp01_stubi_padded_copy(const uint8_t *data, size_t len,
                                 uint32_t *nsec)
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
    uint8_t *img = esp01_stubi_padded_copy(data, len, &nsec);
    if (!img)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    int rc = esp01_stubi_diff_padded(rom, offset, img, nsec, true, differs,
                                     &count, err);
    free(img);
    if (ndiff)
        *ndiff = count;
    return rc;
}

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
