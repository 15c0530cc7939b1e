/*
 * The flasher stub client: uploading and starting the stub, its baud rate
 * and leaving it; see include/esp01/stub.h and docs/stub.md.  Reading,
 * MD5 and erasing are in stub_read.c, writing in stub_write.c.
 */
#include "esp01/stub.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "stub_internal.h"
#include "stub_image.h"

#define MEM_BLOCK 0x1800u          /* the ROM's MEM_BEGIN block size limit */
#define OHAI_TIMEOUT_MS 3000u
#define CONFIRM_MS 200u
#define BAUD_SETTLE_MS 10u

const char *esp01_stub_version(void)
{
    return esp01_stub_esp8266.version;
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
