/* ESP8266 ROM loader client; see include/esp01/rom.h. */
#include "esp01/rom.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"

#define HDR 8
#define DATA_HDR 16
#define MAX_REQ (HDR + DATA_HDR + ESP01_ROM_BLOCK)
#define SYNC_REPLY_MS 100
#define DRAIN_QUIET_MS 100
#define CMD_TIMEOUT_MS 3000
#define REG_TIMEOUT_MS 500
#define BLOCK_TIMEOUT_MS 1000
#define CHECKSUM_RESENDS 3
#define MAX_FAILS_AT_BLOCK 6
#define BLOCKS_PER_SECTOR (ESP01_ROM_SECTOR / ESP01_ROM_BLOCK)
#define SPI_USR_REG_ADDR (ESP01_ROM_SPI_BASE + 0x1C)
#define SPI_USR1_REG_ADDR (ESP01_ROM_SPI_BASE + 0x20)
#define SPI_USR2_REG_ADDR (ESP01_ROM_SPI_BASE + 0x24)

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

static const char *rom_error_text(uint8_t code)
{
    switch (code) {
    case ESP01_ROM_ERR_INVALID: return "invalid or out-of-sequence message";
    case ESP01_ROM_ERR_FAILED: return "failed to act on the message";
    case ESP01_ROM_ERR_CHECKSUM: return "data checksum mismatch";
    case ESP01_ROM_ERR_WRITE: return "flash write error";
    case ESP01_ROM_ERR_READ: return "flash read error";
    default: return "unknown error";
    }
}

/* ---- transport ------------------------------------------------------- */

void esp01_rom_init(esp01_rom *rom, esp01_port *port)
{
    memset(rom, 0, sizeof *rom);
    rom->port = port;
    esp01_slip_decoder_init(&rom->dec, rom->frame, sizeof rom->frame);
}

static uint32_t wire_ms(const esp01_rom *rom, size_t bytes)
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

static void rom_discard(esp01_rom *rom)
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
static int rom_read_frame(esp01_rom *rom, uint64_t deadline, esp01_err *err)
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

static int rom_send(esp01_rom *rom, uint8_t op, const uint8_t *data,
                    size_t len, uint32_t chk, size_t *wire, esp01_err *err)
{
    uint8_t raw[MAX_REQ];
    uint8_t enc[ESP01_SLIP_ENCODED_MAX(MAX_REQ)];
    if (len > MAX_REQ - HDR)
        return esp01_fail(err, ESP01_E_INVAL, "request too large");
    raw[0] = 0x00;
    raw[1] = op;
    esp01_put_le16(raw + 2, (uint16_t)len);
    esp01_put_le32(raw + 4, chk);
    if (len)
        memcpy(raw + HDR, data, len);
    size_t n = esp01_slip_encode(raw, HDR + len, enc, sizeof enc);
    int rc = esp01_port_write(rom->port, enc, n,
                              esp01_deadline_in(wire_ms(rom, n) + 2000), err);
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
static int rom_command(esp01_rom *rom, uint8_t op, const uint8_t *data,
                       size_t len, uint32_t chk, uint32_t timeout_ms,
                       esp01_rom_response *resp, esp01_err *err)
{
    size_t wire = 0;
    int rc = rom_send(rom, op, data, len, chk, &wire, err);
    if (rc < 0)
        return rc;
    uint64_t deadline = esp01_deadline_in(wire_ms(rom, wire) + timeout_ms);
    for (;;) {
        esp01_err ignored;
        int n = rom_read_frame(rom, deadline, &ignored);
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
static int rom_check(esp01_rom *rom, uint8_t op, const uint8_t *data,
                     size_t len, uint32_t chk, uint32_t timeout_ms,
                     esp01_rom_response *resp, esp01_err *err)
{
    esp01_rom_response local;
    if (!resp)
        resp = &local;
    int rc = rom_command(rom, op, data, len, chk, timeout_ms, resp, err);
    if (rc < 0)
        return rc;
    if (resp->status != 0)
        return esp01_fail(err, ESP01_E_DEVICE,
                          "the ROM loader refused command 0x%02x: error 0x%02x "
                          "(%s)", op, resp->error, rom_error_text(resp->error));
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

/* One SYNC; on success drain the chip's other replies and any strays. */
static int try_sync(esp01_rom *rom, esp01_err *err)
{
    uint8_t pkt[36];
    memcpy(pkt, sync_payload_head, 4);
    memset(pkt + 4, 0x55, 32);
    esp01_rom_response r;
    int rc = rom_command(rom, ESP01_ROM_SYNC, pkt, sizeof pkt, 0,
                         SYNC_REPLY_MS, &r, err);
    if (rc < 0)
        return rc;
    /* The ROM answers a SYNC several times; wait for quiet. */
    uint64_t hard_stop = esp01_deadline_in(1000);
    for (int i = 0; i < 32; i++) {
        uint64_t d = esp01_deadline_in(DRAIN_QUIET_MS);
        if (d > hard_stop)
            d = hard_stop;
        if (rom_read_frame(rom, d, NULL) < 0)
            break;
    }
    rom_discard(rom);
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
        rom_discard(rom);
        for (int attempt = 0; attempt < (reset ? 4 : 1); attempt++) {
            if (try_sync(rom, NULL) == 0) {
                rom->flash_attached = false;
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

static void recover(esp01_rom *rom);

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
        rc = rom_check(rom, ESP01_ROM_READ_REG, pkt, 4, 0, REG_TIMEOUT_MS, &r,
                       err);
        if (rc == 0) {
            *value = r.value;
            return 0;
        }
        recover(rom);
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
        rc = rom_check(rom, ESP01_ROM_WRITE_REG, pkt, 16, 0, REG_TIMEOUT_MS,
                       NULL, err);
        if (rc == 0)
            return 0;
        recover(rom);
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

static int flash_begin(esp01_rom *rom, uint32_t erase_bytes, uint32_t blocks,
                       uint32_t offset, uint32_t timeout_ms, esp01_err *err)
{
    uint8_t pkt[16];
    esp01_put_le32(pkt, erase_bytes);
    esp01_put_le32(pkt + 4, blocks);
    esp01_put_le32(pkt + 8, ESP01_ROM_BLOCK);
    esp01_put_le32(pkt + 12, offset);
    int rc = rom_check(rom, ESP01_ROM_FLASH_BEGIN, pkt, 16, 0, timeout_ms,
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
    /* USR1: 24 MISO bits; USR: command + MISO phases; USR2: 8-bit 0x9F. */
    if ((rc = esp01_rom_write_reg(rom, SPI_USR1, 23u << 8, 0xFFFFFFFFu, 0,
                                  err)) < 0 ||
        (rc = esp01_rom_write_reg(rom, SPI_USR, 0x90000000u, 0xFFFFFFFFu, 0,
                                  err)) < 0 ||
        (rc = esp01_rom_write_reg(rom, SPI_USR2, (7u << 28) | 0x9F,
                                  0xFFFFFFFFu, 0, err)) < 0 ||
        (rc = esp01_rom_write_reg(rom, SPI_W0, 0, 0xFFFFFFFFu, 0, err)) < 0 ||
        (rc = esp01_rom_write_reg(rom, SPI_CMD, SPI_CMD_USR, 0xFFFFFFFFu, 0,
                                  err)) < 0)
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
static int write_regs(esp01_rom *rom, const uint32_t *addr_value, size_t n,
                      esp01_err *err)
{
    uint8_t pkt[16 * 4];
    if (n > 4)
        return esp01_fail(err, ESP01_E_INVAL, "too many registers");
    for (size_t i = 0; i < n; i++) {
        esp01_put_le32(pkt + 16 * i, addr_value[2 * i]);
        esp01_put_le32(pkt + 16 * i + 4, addr_value[2 * i + 1]);
        esp01_put_le32(pkt + 16 * i + 8, 0xFFFFFFFFu);
        esp01_put_le32(pkt + 16 * i + 12, 0);
    }
    int rc = ESP01_E_TIMEOUT;
    for (int i = 0; i < REG_ATTEMPTS; i++) {
        rc = rom_check(rom, ESP01_ROM_WRITE_REG, pkt, 16 * n, 0,
                       REG_TIMEOUT_MS, NULL, err);
        if (rc == 0)
            return 0;
        recover(rom);
    }
    return rc;
}

#define SPI_ADDR (ESP01_ROM_SPI_BASE + 0x04)

/* Set the SPI0 user command up for READ (0x03, 24-bit address, 32 bits). */
static int spi_read_begin(esp01_rom *rom, uint32_t saved[2], esp01_err *err)
{
    int rc;
    if ((rc = esp01_rom_read_reg(rom, SPI_USR, &saved[0], err)) < 0 ||
        (rc = esp01_rom_read_reg(rom, SPI_USR2, &saved[1], err)) < 0)
        return rc;
    const uint32_t setup[] = {SPI_USR1, (31u << 8) | (23u << 26),
                              SPI_USR, 0xD0000000u,
                              SPI_USR2, (7u << 28) | 0x03};
    return write_regs(rom, setup, 3, err);
}

static int spi_read_end(esp01_rom *rom, const uint32_t saved[2], esp01_err *err)
{
    const uint32_t restore[] = {SPI_USR, saved[0], SPI_USR2, saved[1]};
    return write_regs(rom, restore, 2, err);
}

/* Read the flash word at `addr` (little-endian, as the bytes are stored). */
/*
 * Read the flash word at `addr` (little-endian, as the bytes are stored).
 * The 32-bit SPI transfer ends microseconds after the CMD write, long
 * before the next request can arrive, so W0 is read without polling CMD;
 * the caller reads a mismatch twice anyway.
 */
static int spi_read_word(esp01_rom *rom, uint32_t addr, uint32_t *word,
                         esp01_err *err)
{
    const uint32_t go[] = {SPI_ADDR, addr << 8, SPI_CMD, SPI_CMD_USR};
    int rc = write_regs(rom, go, 2, err);
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
        if ((rc = flash_begin(rom, 0, 0, 0, CMD_TIMEOUT_MS, err)) < 0 ||
            (rc = esp01_rom_read_reg(rom, SPI_USR, &usr, err)) < 0 ||
            (rc = esp01_rom_read_reg(rom, SPI_USR2, &usr2, err)) < 0) {
            recover(rom);
            continue;
        }
        rc = read_jedec(rom, &jedec, err);
        if (rc == 0)
            rc = read_jedec(rom, &again, err);
        esp01_err restore_err;
        const uint32_t restore[] = {SPI_USR, usr, SPI_USR2, usr2};
        int rc2 = write_regs(rom, restore, 2, &restore_err);
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
        recover(rom);
    }
    if (rc < 0)
        return rc;
    return esp01_flash_id_decode(jedec, id, err);
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

/* ---- writing --------------------------------------------------------- */

struct writer {
    esp01_rom *rom;
    uint32_t first;          /* first sector of the region (absolute) */
    uint32_t nsec;           /* sectors in the region */
    const uint8_t *data;
    size_t len;
    esp01_rom_write_stats *st;
    esp01_rom_progress prog;
    uint32_t acked_hw;       /* region blocks acknowledged at least once */
    uint32_t fail_block;     /* region block of the last failure */
    uint32_t fails;          /* failures in a row at fail_block */
    uint32_t spi_saved[2];   /* the ROM's SPI USR, USR2 */
    bool have_spi_saved;
    bool suspect;            /* something went wrong: verify densely */
};

static int spi_read_begin(esp01_rom *rom, uint32_t saved[2], esp01_err *err);
static int spi_read_end(esp01_rom *rom, const uint32_t saved[2], esp01_err *err);
static int spi_read_word(esp01_rom *rom, uint32_t addr, uint32_t *word,
                         esp01_err *err);

static uint32_t expected_word(const struct writer *w, uint32_t rel)
{
    uint8_t exp[4];
    for (uint32_t k = 0; k < 4; k++)
        exp[k] = rel + k < w->len ? w->data[rel + k] : 0xFF;
    return esp01_le32(exp);
}

/*
 * FLASH_BEGIN's offset and block size have no checksum: read back the
 * first word of the first one or two blocks written after it, before
 * going on.  1 placed right, 0 misplaced, or a negative code.
 */
static int placement_ok(struct writer *w, const uint32_t *rbs, int n,
                        esp01_err *err)
{
    esp01_rom *rom = w->rom;
    uint32_t cur[2];
    int rc;
    if (!w->have_spi_saved) {
        if ((rc = spi_read_begin(rom, cur, err)) < 0)
            return rc;
        w->spi_saved[0] = cur[0];
        w->spi_saved[1] = cur[1];
        w->have_spi_saved = true;
    } else {
        const uint32_t setup[] = {SPI_USR1_REG_ADDR, (31u << 8) | (23u << 26),
                                  SPI_USR_REG_ADDR, 0xD0000000u,
                                  SPI_USR2_REG_ADDR, (7u << 28) | 0x03};
        if ((rc = write_regs(rom, setup, 3, err)) < 0)
            return rc;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        uint32_t rel = rbs[i] * ESP01_ROM_BLOCK, word;
        rc = spi_read_word(rom, w->first * ESP01_ROM_SECTOR + rel, &word, err);
        if (rc < 0)
            return rc;
        ok = word == expected_word(w, rel);
    }
    if ((rc = spi_read_end(rom, w->spi_saved, err)) < 0)
        return rc;
    return ok;
}

/* Block `b` of the region (0xFF beyond the data). */
static void region_block(const struct writer *w, uint32_t b, uint8_t *out)
{
    size_t off = (size_t)b * ESP01_ROM_BLOCK;
    memset(out, 0xFF, ESP01_ROM_BLOCK);
    if (off < w->len) {
        size_t n = w->len - off;
        memcpy(out, w->data + off, n < ESP01_ROM_BLOCK ? n : ESP01_ROM_BLOCK);
    }
}

static bool block_blank(const struct writer *w, uint32_t b)
{
    size_t off = (size_t)b * ESP01_ROM_BLOCK;
    if (off >= w->len)
        return true;
    size_t n = w->len - off;
    if (n > ESP01_ROM_BLOCK)
        n = ESP01_ROM_BLOCK;
    for (size_t i = 0; i < n; i++)
        if (w->data[off + i] != 0xFF)
            return false;
    return true;
}

static bool sector_blank(const struct writer *w, uint32_t s)
{
    for (uint32_t i = 0; i < BLOCKS_PER_SECTOR; i++)
        if (!block_blank(w, s * BLOCKS_PER_SECTOR + i))
            return false;
    return true;
}

/* Blocks to send for sectors [s, e): up to the last non-blank one. */
static uint32_t blocks_to_send(const struct writer *w, uint32_t s, uint32_t e)
{
    for (uint32_t b = e * BLOCKS_PER_SECTOR; b > s * BLOCKS_PER_SECTOR; b--)
        if (!block_blank(w, b - 1))
            return b - s * BLOCKS_PER_SECTOR;
    return 0;
}

static void report(struct writer *w, esp01_rom_phase phase, uint32_t offset)
{
    w->prog.phase = phase;
    w->prog.offset = offset;
    if (w->rom->progress)
        w->rom->progress(w->rom->progress_ctx, &w->prog);
}

/* Put the chip back in a known state after a doubtful exchange. */
static void recover(esp01_rom *rom)
{
    esp01_sleep_ms(20);
    rom_discard(rom);
    /* A chip that reset needs a SYNC before it listens again. */
    for (int i = 0; i < 3; i++)
        if (try_sync(rom, NULL) == 0)
            break;
    rom_discard(rom);
}

/* Count a failure at region block `b`; false once it has failed too often. */
static bool note_failure(struct writer *w, uint32_t b)
{
    if (b != w->fail_block) {
        w->fail_block = b;
        w->fails = 0;
    }
    return ++w->fails < MAX_FAILS_AT_BLOCK;
}

static uint32_t erase_timeout(uint32_t sectors)
{
    uint64_t ms = (uint64_t)sectors * ESP01_ROM_SECTOR *
                  ESP01_ROM_ERASE_MS_PER_MIB / (1024u * 1024u);
    return ms < CMD_TIMEOUT_MS ? CMD_TIMEOUT_MS : (uint32_t)ms + 1000;
}

/*
 * Erase region sectors [rs, re) and send their data.  Later segments are
 * processed after this one, so an erase that overshoots by a sector only
 * touches a sector that is about to be erased again; for the last segment
 * the start moves back one sector (whose data we have) instead, which makes
 * the request exact.
 */
static int run_segment(struct writer *w, uint32_t rs, uint32_t re,
                       bool last, bool pre_erased, esp01_err *err)
{
    esp01_rom *rom = w->rom;
    uint8_t pkt[DATA_HDR + ESP01_ROM_BLOCK];
    uint32_t start = rs;
    for (;;) {
        uint32_t s = start, n = re - start, erased;
        uint32_t arg = esp01_rom_erase_arg(w->first + s, n, &erased);
        if (last && erased > n && s > 0) {
            s--;
            n++;
            arg = esp01_rom_erase_arg(w->first + s, n, &erased);
        }
        if (pre_erased) {
            /* The whole region was erased up front; only a restart erases. */
            s = start;
            arg = 0;
            erased = n = 0;
        }
        uint32_t extra = erased > n ? erased - n : 0;
        uint32_t blocks = blocks_to_send(w, s, re);
        uint32_t addr = (w->first + s) * ESP01_ROM_SECTOR;
        report(w, ESP01_ROM_PHASE_ERASE, addr);
        esp01_err e;
        int rc = flash_begin(rom, arg, blocks, addr, erase_timeout(erased), &e);
        if (rc < 0) {
            if (!note_failure(w, s * BLOCKS_PER_SECTOR))
                return esp01_fail(err, rc,
                                  "erasing flash at 0x%06x failed: %s", addr,
                                  e.msg);
            report(w, ESP01_ROM_PHASE_RETRY, addr);
            recover(rom);
            continue;
        }
        if (last && w->st && !pre_erased)
            w->st->extra_erased = extra;
        pre_erased = false;
        uint32_t b = 0, seq = 0, run_rb[2] = {0, 0};
        bool reposition = false;
        int resends = 0;
        while (b < blocks) {
            uint32_t rb = s * BLOCKS_PER_SECTOR + b; /* region block */
            uint32_t baddr = w->first * ESP01_ROM_SECTOR + rb * ESP01_ROM_BLOCK;
            /* A blank block is already erased: skip it and point the ROM at
             * the next block with a FLASH_BEGIN that erases nothing (42
             * bytes on the wire instead of 1058). */
            if (block_blank(w, rb)) {
                b++;
                reposition = true;
                continue;
            }
            if (reposition) {
                rc = flash_begin(rom, 0, blocks - b, baddr, CMD_TIMEOUT_MS, &e);
                if (rc < 0) {
                    if (!note_failure(w, rb))
                        return esp01_fail(err, rc, "writing flash at 0x%06x "
                                          "failed: %s", baddr, e.msg);
                    report(w, ESP01_ROM_PHASE_RETRY, baddr);
                    if (w->st)
                        w->st->restarts++;
                    recover(rom);
                    start = rb / BLOCKS_PER_SECTOR;
                    break;
                }
                reposition = false;
                seq = 0;
            }
            esp01_put_le32(pkt, ESP01_ROM_BLOCK);
            esp01_put_le32(pkt + 4, seq);
            esp01_put_le32(pkt + 8, 0);
            esp01_put_le32(pkt + 12, 0);
            region_block(w, rb, pkt + DATA_HDR);
            uint32_t chk = 0xEF;
            for (size_t i = 0; i < ESP01_ROM_BLOCK; i++)
                chk ^= pkt[DATA_HDR + i];
            esp01_rom_response r;
            rc = rom_command(rom, ESP01_ROM_FLASH_DATA, pkt, sizeof pkt, chk,
                             BLOCK_TIMEOUT_MS, &r, &e);
            if (rc == 0 && r.status == 0) {
                if (w->st)
                    w->st->payload_sent += ESP01_ROM_BLOCK;
                if (rb >= w->acked_hw) {
                    w->prog.payload_done += ESP01_ROM_BLOCK;
                    w->acked_hw = rb + 1;
                    uint32_t done = (rb + 1) * ESP01_ROM_BLOCK;
                    if (done > w->prog.done)
                        w->prog.done = done;
                }
                report(w, ESP01_ROM_PHASE_WRITE, baddr);
                if (seq < 2)
                    run_rb[seq] = rb;
                bool alone = b + 1 == blocks || block_blank(w, rb + 1);
                if (seq == 1 || (seq == 0 && alone)) {
                    int ok = placement_ok(w, run_rb, (int)seq + 1, &e);
                    if (ok != 1) {
                        if (ok == 0)
                            esp01_fail(&e, ESP01_E_DEVICE, "blocks after a "
                                       "FLASH_BEGIN landed in the wrong place");
                        w->suspect = true;
                        if (!note_failure(w, rb))
                            return esp01_fail(err, ok < 0 ? ok : ESP01_E_DEVICE,
                                              "writing flash at 0x%06x failed: %s",
                                              baddr, e.msg);
                        report(w, ESP01_ROM_PHASE_RETRY, baddr);
                        if (w->st)
                            w->st->restarts++;
                        recover(rom);
                        start = run_rb[0] / BLOCKS_PER_SECTOR;
                        break;
                    }
                }
                b++;
                seq++;
                resends = 0;
                continue;
            }
            if (rc == 0)
                esp01_fail(&e, ESP01_E_DEVICE,
                           "the ROM loader refused the block: error 0x%02x (%s)",
                           r.error, rom_error_text(r.error));
            if (!note_failure(w, rb))
                return esp01_fail(err, rc < 0 ? rc : ESP01_E_DEVICE,
                                  "writing flash at 0x%06x failed: %s",
                                  baddr, e.msg);
            report(w, ESP01_ROM_PHASE_RETRY, baddr);
            /* A checksum refusal leaves the ROM waiting for this block. */
            if (rc == 0 && r.error == ESP01_ROM_ERR_CHECKSUM &&
                resends++ < CHECKSUM_RESENDS) {
                if (w->st)
                    w->st->block_retries++;
                continue;
            }
            if (w->st)
                w->st->restarts++;
            w->suspect = true;
            recover(rom);
            start = rb / BLOCKS_PER_SECTOR;
            break;
        }
        if (b == blocks) {
            uint32_t done = re * ESP01_ROM_SECTOR;
            if (done > w->prog.done)
                w->prog.done = done;
            if (w->prog.done > w->prog.total)
                w->prog.done = w->prog.total;
            return 0;
        }
    }
}

/*
 * FLASH_BEGIN's parameters carry no checksum: a corrupted offset, erase
 * size or block size would put good blocks in the wrong place with every
 * reply saying "ok".  So read back one word of every sector, at a position
 * that changes from round to round, through the SPI0 registers; rewrite
 * sectors that do not match, and give up (naming the offset) when they
 * keep not matching.
 */
static int verify_and_repair(struct writer *w, esp01_err *err)
{
    esp01_rom *rom = w->rom;
    uint32_t nonce = 0x9E3779B9u ^ w->nsec ^ (uint32_t)esp01_now_ms();
    uint32_t saved[2];
    bool have_saved = false;
    for (int round = 0; round < 4; round++) {
        esp01_err e;
        int rc = 0;
        bool set_up = false;
        uint32_t bad = UINT32_MAX, got = 0, want = 0;
        uint32_t bad_list[64];
        size_t nbad = 0;
        /* One word per sector in a clean run; eight when anything went
         * wrong, since misplaced blocks may have landed anywhere. */
        uint32_t samples = w->suspect ? 8 : 1;
        uint32_t span = ESP01_ROM_SECTOR / samples;
        for (uint32_t si = 0; si < w->nsec * samples; si++) {
            uint32_t s = si / samples;
            if (nbad && bad_list[nbad - 1] == s)
                continue;
            nonce = nonce * 1103515245u + 12345u;
            uint32_t pos = si % samples * span + (nonce >> 8) % (span / 4) * 4;
            uint32_t rel = s * ESP01_ROM_SECTOR + pos;
            uint32_t addr = (w->first + s) * ESP01_ROM_SECTOR + pos;
            uint8_t exp[4];
            for (uint32_t k = 0; k < 4; k++)
                exp[k] = rel + k < w->len ? w->data[rel + k] : 0xFF;
            uint32_t word = 0, first_read = 0;
            /* A mismatch must be read twice: the register writes that aim
             * the read have no checksum either. */
            for (int attempt = 0, reads = 0; attempt < MAX_FAILS_AT_BLOCK;
                 attempt++) {
                uint32_t cur[2];
                rc = 0;
                if (!set_up) {
                    rc = spi_read_begin(rom, cur, &e);
                    if (rc == 0 && !have_saved) {
                        saved[0] = cur[0];
                        saved[1] = cur[1];
                        have_saved = true;
                    }
                    set_up = rc == 0;
                }
                if (rc == 0 && (rc = spi_read_word(rom, addr, &word, &e)) == 0) {
                    if (word == esp01_le32(exp) ||
                        (reads > 0 && word == first_read))
                        break;
                    first_read = word;
                    reads++;
                    attempt--;
                    if (reads > 3)
                        break;
                    continue;
                }
                /* A chip that reset lost the SPI set-up too. */
                recover(rom);
                set_up = false;
            }
            if (rc < 0)
                return esp01_fail(err, rc, "verifying flash at 0x%06x failed: "
                                  "%s", addr, e.msg);
            if (word != esp01_le32(exp)) {
                if (bad == UINT32_MAX) {
                    bad = addr;
                    got = word;
                    want = esp01_le32(exp);
                }
                if (nbad < sizeof bad_list / sizeof bad_list[0])
                    bad_list[nbad++] = s;
            }
            if (si % samples == samples - 1 && (s % 16 == 15 || s + 1 == w->nsec))
                report(w, ESP01_ROM_PHASE_VERIFY,
                       (w->first + s) * ESP01_ROM_SECTOR);
        }
        if (have_saved && spi_read_end(rom, saved, &e) < 0)
            recover(rom);
        if (nbad == 0)
            return 0;
        if (round == 3)
            return esp01_fail(err, ESP01_E_DEVICE,
                              "flash at 0x%06x does not hold the image after "
                              "writing (read %08x, expected %08x)", bad, got,
                              want);
        if (w->st)
            w->st->repaired_sectors += (uint32_t)nbad;
        w->suspect = true;
        for (size_t i = 0; i < nbad; i++) {
            uint32_t s = bad_list[i];
            /* Two sectors can always be erased exactly (see erase_arg). */
            uint32_t rs = s, re = s + 1;
            if (rs == 0 && w->nsec > 1)
                re = 2;
            rc = run_segment(w, rs, re, true, false, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int esp01_rom_write_flash(esp01_rom *rom, uint32_t offset,
                          const uint8_t *data, size_t len,
                          esp01_rom_write_stats *stats, esp01_err *err)
{
    if (offset % ESP01_ROM_SECTOR)
        return esp01_fail(err, ESP01_E_INVAL,
                          "flash offset 0x%x is not a multiple of 4096",
                          offset);
    if (len == 0)
        return esp01_fail(err, ESP01_E_INVAL, "nothing to write");
    if (len > 0x1000000u || offset > 0x1000000u - len)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "0x%x + %zu bytes is past the 16 MiB flash limit",
                          offset, len);
    esp01_rom_write_stats local;
    struct writer w;
    memset(&w, 0, sizeof w);
    w.rom = rom;
    w.first = offset / ESP01_ROM_SECTOR;
    w.nsec = (uint32_t)((len + ESP01_ROM_SECTOR - 1) / ESP01_ROM_SECTOR);
    w.data = data;
    w.len = len;
    w.st = stats ? stats : &local;
    memset(w.st, 0, sizeof *w.st);
    w.fail_block = UINT32_MAX;
    w.prog.total = w.nsec * ESP01_ROM_SECTOR;
    for (uint32_t s = 0; s < w.nsec;) {
        uint32_t e = s;
        bool blank = sector_blank(&w, s);
        while (e < w.nsec && sector_blank(&w, e) == blank)
            e++;
        if (blank)
            w.st->blank_sectors += e - s;
        else {
            w.st->data_sectors += e - s;
            for (uint32_t b = s * BLOCKS_PER_SECTOR; b < e * BLOCKS_PER_SECTOR; b++)
                if (!block_blank(&w, b))
                    w.prog.payload_total += ESP01_ROM_BLOCK;
        }
        s = e;
    }
    /*
     * When the whole region can be erased exactly, one FLASH_BEGIN does it:
     * the ROM then uses 64 KiB block erases, much faster than the sector
     * erases of many small FLASH_BEGINs, and data runs only need a
     * FLASH_BEGIN that erases nothing.  Otherwise (an odd number of
     * sectors inside one 64 KiB block) each run erases its own sectors.
     */
    uint32_t erased;
    uint32_t arg = esp01_rom_erase_arg(w.first, w.nsec, &erased);
    bool pre_erased = erased == w.nsec;
    if (pre_erased) {
        esp01_err e;
        int rc = ESP01_E_TIMEOUT;
        uint32_t addr = w.first * ESP01_ROM_SECTOR;
        report(&w, ESP01_ROM_PHASE_ERASE, addr);
        for (int attempt = 0; attempt < MAX_FAILS_AT_BLOCK; attempt++) {
            rc = flash_begin(rom, arg, 0, addr, erase_timeout(erased), &e);
            if (rc == 0)
                break;
            recover(rom);
        }
        if (rc < 0)
            return esp01_fail(err, rc, "erasing flash at 0x%06x failed: %s",
                              addr, e.msg);
    }
    for (uint32_t s = 0; s < w.nsec;) {
        uint32_t e = s;
        bool blank = sector_blank(&w, s);
        while (e < w.nsec && sector_blank(&w, e) == blank)
            e++;
        if (!(blank && pre_erased)) {
            int rc = run_segment(&w, s, e, e == w.nsec, pre_erased, err);
            if (rc < 0)
                return rc;
        }
        s = e;
    }
    return verify_and_repair(&w, err);
}

int esp01_rom_erase(esp01_rom *rom, uint32_t offset, uint32_t size,
                    uint32_t *extra, esp01_err *err)
{
    if (offset % ESP01_ROM_SECTOR || size % ESP01_ROM_SECTOR || size == 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "erase region 0x%x+0x%x is not whole 4096-byte "
                          "sectors", offset, size);
    if (size > 0x1000000u || offset > 0x1000000u - size)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "erase region 0x%x+0x%x is past the 16 MiB limit",
                          offset, size);
    uint32_t first = offset / ESP01_ROM_SECTOR, n = size / ESP01_ROM_SECTOR;
    uint32_t erased;
    uint32_t arg = esp01_rom_erase_arg(first, n, &erased);
    if (extra)
        *extra = erased - n;
    esp01_err e;
    int rc = ESP01_E_TIMEOUT;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = flash_begin(rom, arg, 0, offset, erase_timeout(erased), &e);
        if (rc == 0)
            return 0;
        recover(rom);
    }
    return esp01_fail(err, rc, "erasing flash at 0x%06x failed: %s", offset,
                      e.msg);
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
        int rc;
        if (!rom->flash_attached &&
            (rc = flash_begin(rom, 0, 0, 0, CMD_TIMEOUT_MS, err)) < 0)
            return rc;
        uint8_t pkt[4];
        /* 1 = leave the loader and run the firmware in flash. */
        esp01_put_le32(pkt, 1);
        return rom_check(rom, ESP01_ROM_FLASH_END, pkt, 4, 0, CMD_TIMEOUT_MS,
                         NULL, err);
    }
    }
    return esp01_fail(err, ESP01_E_INVAL, "unknown after-action %d", (int)after);
}
