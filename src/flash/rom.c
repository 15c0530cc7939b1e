/* ESP8266 ROM loader client; see include/esp01/rom.h. */
#include "esp01/rom.h"

#include <stdio.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/stub.h"
#include "rom_internal.h"

#define HDR 8
#define SYNC_REPLY_MS 100
#define DRAIN_QUIET_MS 100
#define SYNC_REPLIES 8
#define SYNC_QUIET_MS 10
#define CMD_TIMEOUT_MS ESP01_ROMI_CMD_TIMEOUT_MS
#define REG_TIMEOUT_MS 500

/* ---- pure helpers ---------------------------------------------------- */

int esp01_rom_parse_response(const uint8_t *buf, size_t len,
                             esp01_rom_response *resp, esp01_err *err)
{
    if (len < HDR + 2)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "reply of %zu bytes is too short", len);
    if (buf[0] != 0x01)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "reply direction byte is 0x%02x, not 0x01", buf[0]);
    size_t dlen = esp01_le16(buf + 2);
    if (dlen != len - HDR)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "reply says %zu data bytes but carries %zu", dlen,
                          len - HDR);
    uint8_t status = buf[len - 2], code = buf[len - 1];
    if (status > 1 || (status == 0) != (code == 0))
        return esp01_fail(err, ESP01_E_FORMAT,
                          "reply has inconsistent status bytes %02x %02x",
                          status, code);
    resp->op = buf[1];
    resp->value = esp01_le32(buf + 4);
    resp->data = buf + HDR;
    resp->data_len = dlen - 2;
    resp->status = status;
    resp->error = code;
    return 0;
}

uint32_t esp01_rom_erased_by(uint32_t first_sector, uint32_t n)
{
    uint32_t t = 16 - first_sector % 16;
    return n + (n < t ? n : t);
}

uint32_t esp01_rom_erase_arg(uint32_t first_sector, uint32_t sectors,
                             uint32_t *erased)
{
    uint32_t t = 16 - first_sector % 16;
    uint32_t y;
    if (sectors == 0)
        y = 0;
    else if (sectors >= 2 * t)
        y = sectors - t;
    else
        y = (sectors + 1) / 2;
    if (erased)
        *erased = y ? esp01_rom_erased_by(first_sector, y) : 0;
    return y * ESP01_ROM_SECTOR;
}

/* ---- transport ------------------------------------------------------- */

void esp01_rom_init(esp01_rom *rom, esp01_port *port)
{
    memset(rom, 0, sizeof *rom);
    rom->port = port;
    esp01_slip_decoder_init(&rom->dec, rom->frame, sizeof rom->frame);
}

uint32_t esp01_romi_wire_ms(const esp01_rom *rom, size_t bytes)
{
    uint32_t baud = rom->port->baud ? rom->port->baud : 115200;
    return (uint32_t)((uint64_t)bytes * 10000u / baud) + 1;
}

static void remember_text(esp01_rom *rom, const uint8_t *p, size_t n)
{
    const size_t cap = sizeof rom->text - 1;
    if (n >= cap) {
        memcpy(rom->text, p + n - cap, cap);
        rom->text_len = cap;
    } else {
        if (rom->text_len + n > cap) {
            size_t drop = rom->text_len + n - cap;
            memmove(rom->text, rom->text + drop, rom->text_len - drop);
            rom->text_len -= drop;
        }
        memcpy(rom->text + rom->text_len, p, n);
        rom->text_len += n;
    }
    for (size_t i = 0; i < rom->text_len; i++)
        if (rom->text[i] == '\0')
            rom->text[i] = ' ';
    rom->text[rom->text_len] = '\0';
}

void esp01_romi_discard(esp01_rom *rom)
{
    rom->rx_len = rom->rx_pos = 0;
    rom->dec.len = 0;
    rom->dec.in_frame = false;
    rom->dec.escape = false;
    rom->dec.bad = false;
    if (rom->port->ops->discard_input)
        rom->port->ops->discard_input(rom->port, NULL);
}

/* Next decoded frame (its length), or a negative code at the deadline. */
int esp01_romi_read_frame(esp01_rom *rom, uint64_t deadline, esp01_err *err)
{
    for (;;) {
        if (rom->rx_pos < rom->rx_len) {
            size_t used = 0;
            size_t n = esp01_slip_feed(&rom->dec, rom->rx + rom->rx_pos,
                                       rom->rx_len - rom->rx_pos, &used);
            rom->rx_pos += used;
            if (n)
                return (int)n;
            continue;
        }
        int r = esp01_port_read(rom->port, rom->rx, sizeof rom->rx, deadline,
                                err);
        if (r < 0)
            return r;
        rom->rx_len = (size_t)r;
        rom->rx_pos = 0;
        rom->wire_rx += (size_t)r;
        remember_text(rom, rom->rx, (size_t)r);
    }
}

int esp01_romi_send(esp01_rom *rom, uint8_t op, const uint8_t *data,
                    size_t len, uint32_t chk, size_t *wire, esp01_err *err)
{
    uint8_t *raw = rom->req;
    if (len > sizeof rom->req - HDR)
        return esp01_fail(err, ESP01_E_INVAL, "request too large");
    raw[0] = 0x00;
    raw[1] = op;
    esp01_put_le16(raw + 2, (uint16_t)len);
    esp01_put_le32(raw + 4, chk);
    if (len)
        memcpy(raw + HDR, data, len);
    size_t n = esp01_slip_encode(raw, HDR + len, rom->wire, sizeof rom->wire);
    int rc = esp01_port_write(rom->port, rom->wire, n,
                              esp01_deadline_in(esp01_romi_wire_ms(rom, n) + 2000), err);
    if (rc < 0)
        return rc;
    rom->wire_tx += n;
    if (wire)
        *wire = n;
    return 0;
}

/*
 * Send a request and wait for the reply with the same opcode, skipping
 * stray packets (late replies, extra SYNC answers).  `timeout_ms` counts
 * from the moment the request should have left the wire.
 */
int esp01_romi_command(esp01_rom *rom, uint8_t op, const uint8_t *data,
                       size_t len, uint32_t chk, uint32_t timeout_ms,
                       esp01_rom_response *resp, esp01_err *err)
{
    size_t wire = 0;
    int rc = esp01_romi_send(rom, op, data, len, chk, &wire, err);
    if (rc < 0)
        return rc;
    uint64_t deadline = esp01_deadline_in(esp01_romi_wire_ms(rom, wire) + timeout_ms);
    for (;;) {
        esp01_err ignored;
        int n = esp01_romi_read_frame(rom, deadline, &ignored);
        if (n == ESP01_E_TIMEOUT)
            return esp01_fail(err, ESP01_E_TIMEOUT,
                              "no reply to command 0x%02x within %u ms", op,
                              timeout_ms);
        if (n < 0) {
            if (err)
                *err = ignored;
            return n;
        }
        esp01_rom_response r;
        if (esp01_rom_parse_response(rom->frame, (size_t)n, &r, NULL) < 0) {
            if (n >= 2 && rom->frame[0] == 0x01 && rom->frame[1] == op)
                return esp01_fail(err, ESP01_E_PROTOCOL,
                                  "garbled reply to command 0x%02x", op);
            continue;
        }
        if (r.op != op)
            continue;
        *resp = r;
        return 0;
    }
}

/* rom_command + the status check. */
int esp01_romi_check(esp01_rom *rom, uint8_t op, const uint8_t *data,
                     size_t len, uint32_t chk, uint32_t timeout_ms,
                     esp01_rom_response *resp, esp01_err *err)
{
    esp01_rom_response local;
    if (!resp)
        resp = &local;
    int rc = esp01_romi_command(rom, op, data, len, chk, timeout_ms, resp, err);
    if (rc < 0)
        return rc;
    if (resp->status != 0) {
        rom->last_error = resp->error;
        return esp01_fail(err, ESP01_E_DEVICE,
                          "the %s refused command 0x%02x: error 0x%02x (%s)",
                          rom->stub_running ? "flasher stub" : "ROM loader",
                          op, resp->error,
                          rom->stub_running
                              ? esp01_stub_error_text(resp->error)
                              : esp01_romi_error_text(resp->error));
    }
    return 0;
}

/* ---- connecting ------------------------------------------------------ */

static void classic_reset(esp01_rom *rom, uint32_t delay_ms)
{
    const struct esp01_port_ops *ops = rom->port->ops;
    /* EN low (RTS), GPIO0 released; then GPIO0 low (DTR) while EN rises. */
    ops->set_dtr_rts(rom->port, false, true, NULL);
    esp01_sleep_ms(100);
    ops->set_dtr_rts(rom->port, true, false, NULL);
    esp01_sleep_ms(delay_ms);
    ops->set_dtr_rts(rom->port, false, false, NULL);
}

static const uint8_t sync_payload_head[4] = {0x07, 0x07, 0x12, 0x20};

int esp01_romi_region_ok(const esp01_rom *rom, uint32_t offset, size_t len,
                         bool aligned, esp01_err *err)
{
    if (aligned && offset % ESP01_ROM_SECTOR)
        return esp01_fail(err, ESP01_E_INVAL,
                          "flash offset 0x%x is not a multiple of 4096",
                          offset);
    if (len == 0)
        return esp01_fail(err, ESP01_E_INVAL, "an empty flash region");
    if (len > 0x1000000u || offset > 0x1000000u - len)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "0x%x + %zu bytes is past the 16 MiB flash limit",
                          offset, len);
    if (rom->flash_size && offset + len > rom->flash_size)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "0x%x + %zu bytes is past the end of the %u KiB "
                          "flash chip", offset, len, rom->flash_size / 1024);
    return 0;
}

uint8_t esp01_romi_checksum(const uint8_t *p, size_t n)
{
    uint8_t c = 0xEF;
    for (size_t i = 0; i < n; i++)
        c ^= p[i];
    return c;
}

/* One SYNC; on success drain the chip's other replies and any strays. */
int esp01_romi_sync(esp01_rom *rom, uint32_t *value, esp01_err *err)
{
    uint8_t pkt[36];
    memcpy(pkt, sync_payload_head, 4);
    memset(pkt + 4, 0x55, 32);
    esp01_rom_response r;
    int rc = esp01_romi_command(rom, ESP01_ROM_SYNC, pkt, sizeof pkt, 0,
                         SYNC_REPLY_MS, &r, err);
    if (rc < 0)
        return rc;
    if (value)
        *value = r.value;
    /* The ROM (and a stub) answers a SYNC eight times; wait for quiet.
     * Once all eight are in, a short quiet is enough to catch strays from
     * an earlier attempt, which would come in among them anyway. */
    uint64_t hard_stop = esp01_deadline_in(1000);
    int replies = 1;
    for (int i = 0; i < 32; i++) {
        uint64_t d = esp01_deadline_in(replies >= SYNC_REPLIES ? SYNC_QUIET_MS
                                                               : DRAIN_QUIET_MS);
        if (d > hard_stop)
            d = hard_stop;
        int n = esp01_romi_read_frame(rom, d, NULL);
        if (n < 0)
            break;
        esp01_rom_response more;
        if (esp01_rom_parse_response(rom->frame, (size_t)n, &more, NULL) == 0 &&
            more.op == ESP01_ROM_SYNC)
            replies++;
    }
    esp01_romi_discard(rom);
    return 0;
}

/* "boot mode:(3,6)" -> 3 and 6; false when there is no such text. */
static bool find_boot_mode(const esp01_rom *rom, int *a, int *b)
{
    const char *p = strstr(rom->text, "boot mode:(");
    if (!p)
        return false;
    return sscanf(p, "boot mode:(%d,%d)", a, b) == 2;
}

int esp01_rom_connect(esp01_rom *rom, const esp01_rom_connect_opts *opts,
                      esp01_err *err)
{
    esp01_rom_connect_opts def = {ESP01_ROM_BEFORE_DEFAULT_RESET, 0, NULL, NULL};
    if (!opts)
        opts = &def;
    bool reset = opts->before == ESP01_ROM_BEFORE_DEFAULT_RESET;
    uint32_t wait = opts->wait_ms ? opts->wait_ms : (reset ? 10000 : 20000);
    uint64_t deadline = esp01_deadline_in(wait);
    rom->text_len = 0;
    rom->text[0] = '\0';
    uint64_t rx_before = rom->wire_rx;
    uint32_t frames_before = rom->dec.dropped_frames;
    bool flash_boot = false;
    int mode_a = 0, mode_b = 0;
    char boot_text[32] = "";

    if (!reset && opts->waiting)
        opts->waiting(opts->ctx, wait);
    for (unsigned cycle = 0; esp01_now_ms() < deadline; cycle++) {
        if (reset) {
            classic_reset(rom, cycle % 2 ? 550 : 50);
        }
        esp01_romi_discard(rom);
        for (int attempt = 0; attempt < (reset ? 4 : 1); attempt++) {
            uint32_t value = 0;
            if (esp01_romi_sync(rom, &value, NULL) == 0) {
                rom->flash_attached = false;
                /* The ROM echoes the SYNC word; a flasher stub answers 0. */
                rom->stub_running = value == 0;
                rom->connect_baud = rom->port->baud ? rom->port->baud : 115200;
                return 0;
            }
            int a, b;
            if (find_boot_mode(rom, &a, &b)) {
                mode_a = a;
                mode_b = b;
                /* Mode 1 is UART download: the loader is there, keep going. */
                if ((a & 7) != 1) {
                    flash_boot = true;
                    snprintf(boot_text, sizeof boot_text, "boot mode:(%d,%d)",
                             mode_a, mode_b);
                }
            }
        }
    }
    if (flash_boot)
        return esp01_fail(err, ESP01_E_DEVICE,
                          "the chip started its firmware (%s) instead of the "
                          "ROM loader: GPIO0 was not low at reset. Hold GPIO0 "
                          "low while powering up or resetting the board",
                          boot_text);
    uint64_t got = rom->wire_rx - rx_before;
    if (got > 0)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "received %llu bytes but no ROM loader reply%s: "
                          "check --baud (the loader speaks 115200 by default) "
                          "and that the chip is in download mode, not "
                          "running its firmware",
                          (unsigned long long)got,
                          rom->dec.dropped_frames != frames_before
                              ? " (garbled packets)" : "");
    return esp01_fail(err, ESP01_E_TIMEOUT,
                      "no reply from the ROM loader within %u s: check "
                      "TX/RX wiring (crossed), 3.3 V power, and that GPIO0 "
                      "is low when the chip powers up%s",
                      (wait + 999) / 1000,
                      reset ? " (or use --before no-reset if your adapter "
                              "has no DTR/RTS wiring)" : "");
}

/* ---- registers and identification ------------------------------------ */

/* Put the chip back in a known state after a doubtful exchange. */
void esp01_romi_recover(esp01_rom *rom)
{
    esp01_sleep_ms(20);
    esp01_romi_discard(rom);
    /* A chip that reset needs a SYNC before it listens again. */
    for (int i = 0; i < 3; i++)
        if (esp01_romi_sync(rom, NULL, NULL) == 0) {
            rom->resyncs++;
            break;
        }
    esp01_romi_discard(rom);
}


/* Register commands are idempotent: after a lost or garbled reply, or a
 * refusal of a damaged request, the chip is re-synced and asked again. */
#define REG_ATTEMPTS 4

int esp01_rom_read_reg(esp01_rom *rom, uint32_t addr, uint32_t *value,
                       esp01_err *err)
{
    uint8_t pkt[4];
    esp01_put_le32(pkt, addr);
    int rc = ESP01_E_TIMEOUT;
    for (int i = 0; i < REG_ATTEMPTS; i++) {
        esp01_rom_response r;
        rc = esp01_romi_check(rom, ESP01_ROM_READ_REG, pkt, 4, 0, REG_TIMEOUT_MS, &r,
                       err);
        if (rc == 0) {
            *value = r.value;
            return 0;
        }
        esp01_romi_recover(rom);
    }
    return rc;
}

int esp01_rom_write_reg(esp01_rom *rom, uint32_t addr, uint32_t value,
                        uint32_t mask, uint32_t delay_us, esp01_err *err)
{
    uint8_t pkt[16];
    esp01_put_le32(pkt, addr);
    esp01_put_le32(pkt + 4, value);
    esp01_put_le32(pkt + 8, mask);
    esp01_put_le32(pkt + 12, delay_us);
    int rc = ESP01_E_TIMEOUT;
    for (int i = 0; i < REG_ATTEMPTS; i++) {
        rc = esp01_romi_check(rom, ESP01_ROM_WRITE_REG, pkt, 16, 0, REG_TIMEOUT_MS,
                       NULL, err);
        if (rc == 0)
            return 0;
        esp01_romi_recover(rom);
    }
    return rc;
}

static const char *magic_name(uint32_t magic)
{
    switch (magic) {
    case 0x00F01D83u: return "an ESP32";
    case 0x000007C6u: return "an ESP32-S2";
    case 0x6921506Fu:
    case 0x1B31506Fu: return "an ESP32-C3";
    default: return NULL;
    }
}

int esp01_rom_identify(esp01_rom *rom, esp01_chip_info *info, esp01_err *err)
{
    memset(info, 0, sizeof *info);
    uint32_t magic;
    int rc = esp01_rom_read_reg(rom, ESP01_ROM_MAGIC_REG, &magic, err);
    if (rc < 0)
        return rc;
    if (magic != ESP01_ROM_MAGIC) {
        const char *name = magic_name(magic);
        if (name)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "this is %s (chip magic 0x%08x), not an "
                              "ESP8266", name, magic);
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the chip answered with magic 0x%08x, not an "
                          "ESP8266's 0x%08x", magic, ESP01_ROM_MAGIC);
    }
    for (int i = 0; i < 4; i++) {
        rc = esp01_rom_read_reg(rom, ESP01_ROM_EFUSE0 + 4u * (uint32_t)i,
                                &info->efuse[i], err);
        if (rc < 0)
            return rc;
    }
    const uint32_t *e = info->efuse;
    /* Either fuse bit marks the flash-in-package ESP8285. */
    info->is_esp8285 = (e[0] & (1u << 4)) || (e[2] & (1u << 16));
    info->mac_known = true;
    if (e[3] != 0) {
        info->mac[0] = (uint8_t)(e[3] >> 16);
        info->mac[1] = (uint8_t)(e[3] >> 8);
        info->mac[2] = (uint8_t)e[3];
    } else if (((e[1] >> 16) & 0xFF) == 0) {
        info->mac[0] = 0x18, info->mac[1] = 0xFE, info->mac[2] = 0x34;
    } else if (((e[1] >> 16) & 0xFF) == 1) {
        info->mac[0] = 0xAC, info->mac[1] = 0xD0, info->mac[2] = 0x74;
    } else {
        info->mac_known = false;
    }
    info->mac[3] = (uint8_t)(e[1] >> 8);
    info->mac[4] = (uint8_t)e[1];
    info->mac[5] = (uint8_t)(e[0] >> 24);
    info->chip_id = (e[0] >> 24) | ((e[1] & 0xFFFFFFu) << 8);

    uint32_t div;
    rc = esp01_rom_read_reg(rom, ESP01_ROM_UART_CLKDIV, &div, err);
    if (rc < 0)
        return rc;
    div &= 0xFFFFFu;
    /* The ROM set its UART divider from the crystal when it auto-bauded. */
    uint32_t baud = rom->port->baud ? rom->port->baud : 115200;
    info->crystal_est = (double)baud * div / 1e6 / 2.0;
    info->crystal_mhz = info->crystal_est > 33.0 ? 40 : 26;
    return 0;
}

/* ---- flash id -------------------------------------------------------- */

int esp01_romi_flash_begin(esp01_rom *rom, uint32_t erase_bytes,
                           uint32_t blocks, uint32_t block_size,
                           uint32_t offset, uint32_t timeout_ms,
                           esp01_err *err)
{
    uint8_t pkt[16];
    esp01_put_le32(pkt, erase_bytes);
    esp01_put_le32(pkt + 4, blocks);
    esp01_put_le32(pkt + 8, block_size);
    esp01_put_le32(pkt + 12, offset);
    int rc = esp01_romi_check(rom, ESP01_ROM_FLASH_BEGIN, pkt, 16, 0, timeout_ms,
                       NULL, err);
    if (rc == 0)
        rom->flash_attached = true;
    return rc;
}

#define SPI_CMD (ESP01_ROM_SPI_BASE + 0x00)
#define SPI_USR (ESP01_ROM_SPI_BASE + 0x1C)
#define SPI_USR1 (ESP01_ROM_SPI_BASE + 0x20)
#define SPI_USR2 (ESP01_ROM_SPI_BASE + 0x24)
#define SPI_W0 (ESP01_ROM_SPI_BASE + 0x40)
#define SPI_CMD_USR (1u << 18)

static int read_jedec(esp01_rom *rom, uint32_t *jedec, esp01_err *err)
{
    uint32_t cmd = 0;
    int rc;
    /* USR1: 24 MISO bits; USR: command + MISO phases; USR2: 8-bit 0x9F;
     * W0 cleared; then CMD starts it.  One WRITE_REG: the ROM (and the
     * stub) write the groups in order (esp8266-facts 5a). */
    const uint32_t regs[] = {SPI_USR1, 23u << 8,
                             SPI_USR, 0x90000000u,
                             SPI_USR2, (7u << 28) | 0x9F,
                             SPI_W0, 0,
                             SPI_CMD, SPI_CMD_USR};
    if ((rc = esp01_romi_write_regs(rom, regs, 5, err)) < 0)
        return rc;
    for (int i = 0; i < 10; i++) {
        if ((rc = esp01_rom_read_reg(rom, SPI_CMD, &cmd, err)) < 0)
            return rc;
        if (!(cmd & SPI_CMD_USR))
            break;
    }
    if (cmd & SPI_CMD_USR)
        return esp01_fail(err, ESP01_E_DEVICE,
                          "the SPI controller did not finish the flash id "
                          "command");
    if ((rc = esp01_rom_read_reg(rom, SPI_W0, jedec, err)) < 0)
        return rc;
    *jedec &= 0xFFFFFFu;
    return 0;
}

/* Several register writes in one WRITE_REG (the ROM takes 16-byte groups). */
int esp01_romi_write_regs(esp01_rom *rom, const uint32_t *addr_value, size_t n,
                      esp01_err *err)
{
    uint8_t pkt[16 * 5];
    if (n > 5)
        return esp01_fail(err, ESP01_E_INVAL, "too many registers");
    for (size_t i = 0; i < n; i++) {
        esp01_put_le32(pkt + 16 * i, addr_value[2 * i]);
        esp01_put_le32(pkt + 16 * i + 4, addr_value[2 * i + 1]);
        esp01_put_le32(pkt + 16 * i + 8, 0xFFFFFFFFu);
        esp01_put_le32(pkt + 16 * i + 12, 0);
    }
    int rc = ESP01_E_TIMEOUT;
    for (int i = 0; i < REG_ATTEMPTS; i++) {
        rc = esp01_romi_check(rom, ESP01_ROM_WRITE_REG, pkt, 16 * n, 0,
                       REG_TIMEOUT_MS, NULL, err);
        if (rc == 0)
            return 0;
        esp01_romi_recover(rom);
    }
    return rc;
}

#define SPI_ADDR (ESP01_ROM_SPI_BASE + 0x04)

/* Set the SPI0 user command up for READ (0x03, 24-bit address, 32 bits). */
int esp01_romi_spi_read_begin(esp01_rom *rom, uint32_t saved[2], esp01_err *err)
{
    int rc;
    if ((rc = esp01_rom_read_reg(rom, SPI_USR, &saved[0], err)) < 0 ||
        (rc = esp01_rom_read_reg(rom, SPI_USR2, &saved[1], err)) < 0)
        return rc;
    const uint32_t setup[] = {SPI_USR1, (31u << 8) | (23u << 26),
                              SPI_USR, 0xD0000000u,
                              SPI_USR2, (7u << 28) | 0x03};
    return esp01_romi_write_regs(rom, setup, 3, err);
}

int esp01_romi_spi_read_end(esp01_rom *rom, const uint32_t saved[2], esp01_err *err)
{
    const uint32_t restore[] = {SPI_USR, saved[0], SPI_USR2, saved[1]};
    return esp01_romi_write_regs(rom, restore, 2, err);
}

/* Read the flash word at `addr` (little-endian, as the bytes are stored). */
/*
 * Read the flash word at `addr` (little-endian, as the bytes are stored).
 * The 32-bit SPI transfer ends microseconds after the CMD write, long
 * before the next request can arrive, so W0 is read without polling CMD;
 * the caller reads a mismatch twice anyway.
 */
int esp01_romi_spi_read_word(esp01_rom *rom, uint32_t addr, uint32_t *word,
                         esp01_err *err)
{
    const uint32_t go[] = {SPI_ADDR, addr << 8, SPI_CMD, SPI_CMD_USR};
    int rc = esp01_romi_write_regs(rom, go, 2, err);
    if (rc < 0)
        return rc;
    return esp01_rom_read_reg(rom, SPI_W0, word, err);
}

int esp01_rom_flash_id(esp01_rom *rom, esp01_flash_id *id, esp01_err *err)
{
    int rc = ESP01_E_PROTOCOL;
    uint32_t jedec = 0;
    /* READ_REG values carry no checksum and a chip that reset forgets the
     * attached flash: take the id only when two reads agree on a value that
     * looks like an answer, and redo the whole sequence otherwise. */
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t usr, usr2, again = 0;
        /* A FLASH_BEGIN with nothing to erase makes the ROM attach the flash. */
        if ((rc = esp01_romi_flash_begin(rom, 0, 0, ESP01_ROM_BLOCK, 0, CMD_TIMEOUT_MS, err)) < 0 ||
            (rc = esp01_rom_read_reg(rom, SPI_USR, &usr, err)) < 0 ||
            (rc = esp01_rom_read_reg(rom, SPI_USR2, &usr2, err)) < 0) {
            esp01_romi_recover(rom);
            continue;
        }
        rc = read_jedec(rom, &jedec, err);
        if (rc == 0)
            rc = read_jedec(rom, &again, err);
        esp01_err restore_err;
        const uint32_t restore[] = {SPI_USR, usr, SPI_USR2, usr2};
        int rc2 = esp01_romi_write_regs(rom, restore, 2, &restore_err);
        if (rc == 0 && rc2 < 0) {
            if (err)
                *err = restore_err;
            rc = rc2;
        }
        if (rc == 0 && jedec != again)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "the flash id read back differently (%06x, %06x)",
                            jedec, again);
        if (rc == 0 && jedec != 0 && jedec != 0xFFFFFFu)
            break;
        if (rc == 0 && attempt >= 1)
            break; /* the same non-answer twice over: it is the flash */
        esp01_romi_recover(rom);
    }
    if (rc < 0)
        return rc;
    rc = esp01_flash_id_decode(jedec, id, err);
    if (rc == 0) {
        rom->flash_size = id->size;
        rom->jedec = id->jedec;
    }
    return rc;
}

static const struct {
    uint8_t id;
    const char *name;
} vendors[] = {
    {0x01, "Spansion/Cypress"}, {0x0B, "XTX"},      {0x1C, "EON"},
    {0x1F, "Adesto"},           {0x20, "XMC/Micron"}, {0x5E, "Zbit"},
    {0x68, "Boya"},             {0x85, "Puya"},     {0x8C, "ESMT"},
    {0x9D, "ISSI"},             {0xBF, "SST/Microchip"}, {0xC2, "Macronix"},
    {0xC8, "GigaDevice"},       {0xEF, "Winbond"},
};

int esp01_flash_id_decode(uint32_t jedec, esp01_flash_id *id, esp01_err *err)
{
    memset(id, 0, sizeof *id);
    jedec &= 0xFFFFFFu;
    id->jedec = jedec;
    id->manufacturer = (uint8_t)jedec;
    id->type = (uint8_t)(jedec >> 8);
    id->capacity = (uint8_t)(jedec >> 16);
    if (jedec == 0 || jedec == 0xFFFFFFu)
        return esp01_fail(err, ESP01_E_DEVICE,
                          "the flash chip does not answer (JEDEC id %06x): "
                          "check its power and the module, no size can be "
                          "trusted", jedec);
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (vendors[i].id == id->manufacturer)
            id->vendor = vendors[i].name;
    /* Capacity is log2(bytes); some vendors add 0x20 to the code. */
    uint8_t code = id->capacity;
    if (code >= 0x32 && code <= 0x38)
        code = (uint8_t)(code - 0x20);
    if (code < 0x12 || code > 0x18)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the flash chip reports capacity code 0x%02x "
                          "(JEDEC id %06x), which is not a size from 256 KiB "
                          "to 16 MiB: refusing to guess", id->capacity, jedec);
    id->size = 1u << code;
    return 0;
}

