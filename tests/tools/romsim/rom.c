/*
 * The ESP8266 ROM serial loader as romsim plays it.  Every rule below was
 * read from the ROM's code (github sheinz/esp-open-bootrom, bootrom.s; ROM
 * addresses in brackets) and is at least as strict as the ROM: where the
 * ROM would act on stale buffer bytes, romsim refuses instead and logs it.
 *
 *  R1  Until the first SYNC (UartConnCheck [0x3230]) only a packet with
 *      direction 0 and command 0x08 is acted on; the chip auto-bauds to
 *      the host's rate then.  Anything else is ignored without a reply.
 *  R2  Replies are 10 bytes: 01, command, 02 00, value, status, error.
 *      The command byte is set by the handler, so a packet refused before
 *      reaching one (direction byte not 0, command >= 12) is answered with
 *      the previous reply's command byte; the value field is only written
 *      by READ_REG and SYNC and is stale otherwise.  A reply whose command
 *      byte is 0x08 is sent eight times (UartDwnLdProc [0x3368]).
 *  R3  Commands 0..1 and >= 12: status 1, error 5.
 *  R4  FLASH_BEGIN (FlashDwnLdStartMsgProc [0x3538], after
 *      spi_flash_attach): body must be exactly 16 bytes and the block size
 *      at most 0x1800, else error 5.  Then SPIEraseArea(offset, erase
 *      size), whose failure (offset not a multiple of 4096 - even with
 *      nothing to erase -, past chip_size, see flash.c) is error 6.  The
 *      sequence counter, byte counter and write address are reset first.
 *  R5  FLASH_DATA (FilePacketSendReqMsgProc [0x35a0]): packet length at
 *      most 0x1810, seq equal to the expected one, data length at most the
 *      block size and a multiple of 4, else error 5.  The expected seq is
 *      advanced *before* the checksum is checked: after a checksum error
 *      (7) the same seq is refused and the next one is expected, while the
 *      write address stays.  The block is written at the running address
 *      (not at offset + seq * block size), read back, and the read-back's
 *      checksum compared (error 8).  Only then do the address and the byte
 *      count advance.
 *  R6  FLASH_END (FlashDwnLdStopReqMsgProc [0x3658]): the flag is never
 *      read; error 6 unless every announced block arrived and the bytes
 *      written equal the erase size given to FLASH_BEGIN; the loader is
 *      left either way.
 *  R7  MEM_BEGIN (16-byte body, block size <= 0x1800), MEM_DATA (as
 *      FLASH_DATA without the multiple-of-4 rule and without a write to
 *      flash), MEM_END (body at most 8 bytes; flag 0 leaves the loader and
 *      jumps to the entry).  The state is the same one FLASH_BEGIN sets.
 *  R8  SYNC: value = first word of the body, status 0, eight replies.
 *  R9  WRITE_REG: each 16-byte group waits (delay & 0xFFFF) µs, then
 *      writes (value & mask) | (old & ~mask).  READ_REG: the word at addr.
 *  R10 SPI_SET_PARAMS 0x0B (FlashDwnLdParamCfgMsgProc [0x368c]): a 24-byte
 *      body goes to SPIParamCfg, else error 5.
 */
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/slip.h"
#include "sim.h"

#define MAX_BLOCK 0x1800u
#define MAX_PACKET 0x1810u

static void send_reply(uint8_t status, uint8_t error)
{
    uint8_t raw[10], enc[ESP01_SLIP_ENCODED_MAX(10)];
    raw[0] = 0x01;
    raw[1] = S.resp_op;
    esp01_put_le16(raw + 2, 2);
    esp01_put_le32(raw + 4, S.resp_value);
    raw[8] = status;
    raw[9] = error;
    int copies = S.resp_op == 0x08 ? 8 : 1;
    for (int c = 0; c < copies; c++) {
        size_t n = esp01_slip_encode(raw, sizeof raw, enc, sizeof enc);
        if (chance(S.p_drop)) {
            size_t i = rnd() % n;
            memmove(enc + i, enc + i + 1, n - i - 1);
            n--;
            S.faults_drop++;
        } else if (chance(S.p_corrupt)) {
            enc[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
            S.faults_corrupt++;
        }
        line_write(enc, n);
    }
}

void rom_boot_message(int mode_a, int mode_b, int cause)
{
    char buf[160];
    snprintf(buf, sizeof buf,
             "\r\n ets Jan  8 2013,rst cause:%d, boot mode:(%d,%d)\r\n\r\n",
             cause, mode_a, mode_b);
    text_out(buf);
}

void rom_reset(const char *why)
{
    S.synced = false;
    S.running = false;
    S.dl_valid = false;
    S.chip_baud = 0;
    S.resp_op = 0;
    S.resp_value = 0;
    S.nregs = 0;
    flash_detach();
    flash_param_reset();
    S.reboots++;
    logf_("reset (%s)", why);
    rom_boot_message(1, 7, 2);
    text_out("waiting for host\r\n");
}

/* The divider the ROM's auto-baud leaves in UART0 CLKDIV: UART clock
 * (twice the crystal) over the host's rate (esptool#397: 452 at 115200
 * with a 26 MHz crystal). */
uint32_t rom_uart_clkdiv(void)
{
    uint32_t baud = S.chip_baud ? S.chip_baud : 115200;
    return (uint32_t)((2.0 * S.crystal_hz) / baud + 0.5);
}

static uint32_t *reg_slot(uint32_t addr, bool create)
{
    for (size_t i = 0; i < S.nregs; i++)
        if (S.regs_addr[i] == addr)
            return &S.regs_val[i];
    if (!create || S.nregs == sizeof S.regs_addr / sizeof S.regs_addr[0])
        return NULL;
    S.regs_addr[S.nregs] = addr;
    S.regs_val[S.nregs] = 0;
    return &S.regs_val[S.nregs++];
}

static uint32_t read_reg(uint32_t addr)
{
    uint32_t v;
    if (addr == 0x40001000u)
        return S.magic;
    if (addr >= 0x3FF00050u && addr <= 0x3FF0005Cu && addr % 4 == 0)
        return S.efuse[(addr - 0x3FF00050u) / 4];
    if (addr == 0x60000014u)
        return rom_uart_clkdiv();
    if (flash_param_read(addr, &v))
        return v;
    uint32_t *slot = reg_slot(addr, false);
    return slot ? *slot : 0;
}

static void set_reg(uint32_t addr, uint32_t value)
{
    uint32_t *v = reg_slot(addr, true);
    if (v)
        *v = value;
}

static void write_reg(uint32_t addr, uint32_t value, uint32_t mask)
{
    uint32_t old = read_reg(addr);
    uint32_t now = (value & mask) | (old & ~mask);
    set_reg(addr, now);
    if (addr == 0x60000200u && (now & (1u << 18))) {
        flash_spi_user_command(read_reg, set_reg);
        set_reg(addr, now & ~(1u << 18));
    }
}

static uint8_t xor_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0xEF;
    for (size_t i = 0; i < n; i++)
        s ^= p[i];
    return s;
}

/* Where an upload may go (esp8266-facts 5b): IRAM 0x40100000..0x4010FFFF,
 * which the ROM loader does not use, and DRAM 0x3FFE8000..0x3FFFBFFF.
 * That DRAM includes 0x3FFFA000..0x3FFFBFFF: esptool's own stubs load their
 * data there (esptool targets/stub_flasher/1/esp8266.json 0x3FFFACAC..,
 * 2/esp8266.json 0x3FFFAE68.., esptool-js 0.7.0 0x3FFFAE6C..) and run on
 * real chips.  0x3FFFC000 up holds the ROM's data and bss, and its stack
 * (SP starts at 0x40000000) stays in use: writing there crashes the chip. */
static bool mem_range_ok(uint32_t addr, uint32_t len)
{
    uint64_t end = (uint64_t)addr + len;
    return (addr >= 0x40100000u && end <= 0x40110000u) ||
           (addr >= 0x3FFE8000u && end <= 0x3FFFC000u);
}

static void mem_store(uint32_t addr, const uint8_t *p, uint32_t len)
{
    struct mem_seg *m = S.nmem ? &S.mem[S.nmem - 1] : NULL;
    if (!m || m->addr + m->len != addr) {
        if (S.nmem == sizeof S.mem / sizeof S.mem[0])
            return;
        m = &S.mem[S.nmem++];
        m->addr = addr;
        m->len = 0;
        m->data = NULL;
    }
    uint8_t *grown = realloc(m->data, (size_t)m->len + len);
    if (!grown)
        return;
    memcpy(grown + m->len, p, len);
    m->data = grown;
    m->len += len;
}

void mem_clear(void)
{
    for (size_t i = 0; i < S.nmem; i++)
        free(S.mem[i].data);
    S.nmem = 0;
}

static void leave_loader_to_flash(void)
{
    S.running = true;
    S.ran_user_code++;
    logf_("left the loader: booting from flash");
    rom_boot_message(3, 6, 4);
    text_out("(firmware running)\r\n");
}

/* romsim runs no code but its own stub (through QEMU).  A chip that jumps
 * into code it was given answers as that code decides; romsim cannot know
 * how, so it stays silent, as code that never speaks would, and says so
 * plainly instead of claiming the chip crashed. */
static void foreign_code(const char *why)
{
    logf_("romsim: MEM_END entry 0x%08x: the uploaded code is not esp01's "
          "stub (%s); romsim cannot run foreign code: nothing answers now",
          S.mem_entry, why);
    fprintf(stderr, "romsim: MEM_END entry 0x%08x: the uploaded code is not "
            "esp01's stub; romsim cannot run foreign code\n", S.mem_entry);
}

/* FLASH_DATA and MEM_DATA share the checks up to the checksum (R5, R7). */
static bool data_checks(const uint8_t *d, size_t len, uint32_t chk,
                        bool flash)
{
    if (len > MAX_PACKET || len < 16) {
        send_reply(1, 0x05);
        return false;
    }
    uint32_t dlen = esp01_le32(d), seq = esp01_le32(d + 4);
    if (!S.dl_valid || seq != S.dl_seq || dlen > S.dl_block_size ||
        (flash && dlen % 4)) {
        logf_("%s_DATA refused: len %u seq %u (expected %u, block size %u)",
              flash ? "FLASH" : "MEM", dlen, seq, S.dl_seq, S.dl_block_size);
        send_reply(1, 0x05);
        return false;
    }
    S.dl_seq++;
    if (dlen > len - 16) {
        /* The ROM would checksum whatever is left in its buffer. */
        logf_("DATA: %u data bytes announced, %zu sent (stricter than the "
              "ROM: refused)", dlen, len - 16);
        send_reply(1, 0x07);
        return false;
    }
    if (xor_sum(d + 16, dlen) != (uint8_t)chk) {
        logf_("DATA seq %u: checksum mismatch (seq advanced, address kept)",
              seq);
        send_reply(1, 0x07);
        return false;
    }
    return true;
}

/* R1: before the first SYNC only a SYNC is acted on. */
static void first_sync(const uint8_t *f, size_t n)
{
    if (n < 2 || f[0] != 0x00 || f[1] != 0x08)
        return;
    S.synced = true;
    S.chip_baud = S.host_baud;
    S.resp_op = 0x08;
    if (n >= 12)
        S.resp_value = esp01_le32(f + 8);
    logf_("synced at %u baud", S.chip_baud);
    send_reply(0, 0);
}

static void cmd_sync(uint8_t *d, size_t len, uint32_t chk) /* R8 */
{
    (void)chk;
    if (len >= 4)
        S.resp_value = esp01_le32(d);
    send_reply(0, 0);
}

static void cmd_read_reg(uint8_t *d, size_t len, uint32_t chk) /* R9 */
{
    (void)chk;
    if (len < 4) {
        S.invalid++;
        send_reply(1, 0x05);
        return;
    }
    S.resp_value = read_reg(esp01_le32(d));
    send_reply(0, 0);
}

static void cmd_write_reg(uint8_t *d, size_t len, uint32_t chk) /* R9 */
{
    (void)chk;
    for (size_t i = 0; i + 16 <= len; i += 16) {
        uint32_t us = esp01_le32(d + i + 12) & 0xFFFF;
        if (us)
            sleep_s(us / 1e6);
        write_reg(esp01_le32(d + i), esp01_le32(d + i + 4),
                  esp01_le32(d + i + 8));
    }
    send_reply(0, 0);
}

static void cmd_spi_params(uint8_t *d, size_t len, uint32_t chk) /* R10 */
{
    (void)chk;
    if (len != 24) {
        send_reply(1, 0x05);
        return;
    }
    flash_param_set(esp01_le32(d), esp01_le32(d + 4), esp01_le32(d + 8),
                    esp01_le32(d + 12), esp01_le32(d + 16),
                    esp01_le32(d + 20));
    send_reply(0, 0);
}

/* FLASH_BEGIN and MEM_BEGIN set the same download state. */
static void begin_download(const uint8_t *d, bool mem)
{
    S.dl_valid = true;
    S.dl_mem = mem;
    S.dl_size = esp01_le32(d);
    S.dl_blocks = esp01_le32(d + 4);
    S.dl_block_size = esp01_le32(d + 8);
    S.dl_addr = esp01_le32(d + 12);
    S.dl_seq = S.dl_done = 0;
}

static void cmd_flash_begin(uint8_t *d, size_t len, uint32_t chk) /* R4 */
{
    (void)chk;
    flash_attach();
    if (len != 16 || esp01_le32(d + 8) > S.max_block) {
        logf_("FLASH_BEGIN refused: body %zu bytes, block size %u", len,
              len >= 12 ? esp01_le32(d + 8) : 0);
        send_reply(1, 0x05);
        return;
    }
    begin_download(d, false);
    S.flash_begins++;
    uint64_t before = S.erased_sectors;
    int rc = rom_SPIEraseArea(S.dl_addr, S.dl_size);
    logf_("FLASH_BEGIN erase=0x%x blocks=%u block_size=%u offset=0x%x -> "
          "%s, %llu sectors erased", S.dl_size, S.dl_blocks,
          S.dl_block_size, S.dl_addr, rc ? "refused (error 6)" : "ok",
          (unsigned long long)(S.erased_sectors - before));
    send_reply(rc ? 1 : 0, rc ? 0x06 : 0);
}

static void cmd_flash_data(uint8_t *d, size_t len, uint32_t chk) /* R5 */
{
    if (++S.data_packets == S.bad_data_at && len > 16) {
        d[16] ^= 0x5A; /* arrives damaged: the checksum must catch it */
        logf_("FLASH_DATA #%u damaged on purpose", S.data_packets);
    }
    if (!data_checks(d, len, chk, true))
        return;
    uint32_t dlen = esp01_le32(d);
    rom_SPIWrite(S.dl_addr, d + 16, dlen);
    uint8_t back[MAX_BLOCK];
    rom_SPIRead(S.dl_addr, back, dlen);
    if (xor_sum(back, dlen) != (uint8_t)chk) {
        logf_("FLASH_DATA at 0x%x: read-back differs (error 8)", S.dl_addr);
        send_reply(1, 0x08);
        return;
    }
    logf_("FLASH_DATA seq %u: %u bytes at 0x%x", S.dl_seq - 1, dlen,
          S.dl_addr);
    S.dl_addr += dlen;
    S.dl_done += dlen;
    S.data_bytes += dlen;
    send_reply(0, 0);
}

static void cmd_flash_end(uint8_t *d, size_t len, uint32_t chk) /* R6 */
{
    (void)d;
    (void)len;
    (void)chk;
    bool ok = S.dl_valid && S.dl_seq == S.dl_blocks && S.dl_done == S.dl_size;
    logf_("FLASH_END: %s (blocks %u of %u, bytes %u, erase size %u)",
          ok ? "ok" : "error 6", S.dl_seq, S.dl_blocks, S.dl_done, S.dl_size);
    send_reply(ok ? 0 : 1, ok ? 0 : 0x06);
    leave_loader_to_flash();
}

static void cmd_mem_begin(uint8_t *d, size_t len, uint32_t chk) /* R7 */
{
    (void)chk;
    if (S.refuse_mem) {
        logf_("MEM_BEGIN refused (--refuse-upload)");
        send_reply(1, 0x05);
        return;
    }
    if (len != 16 || esp01_le32(d + 8) > MAX_BLOCK) {
        send_reply(1, 0x05);
        return;
    }
    begin_download(d, true);
    logf_("MEM_BEGIN size %u blocks %u block size %u at 0x%08x", S.dl_size,
          S.dl_blocks, S.dl_block_size, S.dl_addr);
    send_reply(0, 0);
    if (S.stub_mode && !S.hang_reset_ms)
        stub_prepare();
}

static void cmd_mem_data(uint8_t *d, size_t len, uint32_t chk) /* R7 */
{
    if (!data_checks(d, len, chk, false))
        return;
    uint32_t dlen = esp01_le32(d);
    if (!mem_range_ok(S.dl_addr, dlen)) {
        logf_("MEM_DATA to 0x%08x+%u overwrites the ROM's own memory: "
              "the chip crashes", S.dl_addr, dlen);
        S.mem_overflow = true;
        S.running = true;
        return;
    }
    mem_store(S.dl_addr, d + 16, dlen);
    logf_("MEM_DATA seq %u: %u bytes at 0x%08x", S.dl_seq - 1, dlen,
          S.dl_addr);
    S.dl_addr += dlen;
    S.dl_done += dlen;
    send_reply(0, 0);
}

static void cmd_mem_end(uint8_t *d, size_t len, uint32_t chk) /* R7 */
{
    (void)chk;
    if (len > 8) {
        send_reply(1, 0x05);
        return;
    }
    send_reply(0, 0);
    if (len < 1 || d[0] != 0)
        return;
    S.mem_entry = len >= 8 ? esp01_le32(d + 4) : 0;
    S.running = true;
    logf_("MEM_END: jumping to 0x%08x", S.mem_entry);
    char why[160];
    if (S.hang_reset_ms) {
        logf_("MEM_END: the uploaded code hangs (--hang-reset-after)");
        S.hang_since = now_s();
    } else if (S.stub_mode && stub_matches_upload(why, sizeof why))
        stub_run();
    else
        foreign_code(S.stub_mode ? why : "stub mode off");
}

typedef void (*command_fn)(uint8_t *d, size_t len, uint32_t chk);

/* The ROM's command table, 0x02..0x0B (R3: the rest is error 5). */
static const command_fn commands[12] = {
    [0x02] = cmd_flash_begin, [0x03] = cmd_flash_data,
    [0x04] = cmd_flash_end,   [0x05] = cmd_mem_begin,
    [0x06] = cmd_mem_end,     [0x07] = cmd_mem_data,
    [0x08] = cmd_sync,        [0x09] = cmd_write_reg,
    [0x0A] = cmd_read_reg,    [0x0B] = cmd_spi_params,
};

void rom_handle(uint8_t *f, size_t n)
{
    if (!S.synced) {
        first_sync(f, n);
        return;
    }
    if (n < 8 || f[0] != 0x00) {
        S.invalid++;
        send_reply(1, 0x05); /* R2: stale command byte */
        return;
    }
    uint8_t op = f[1];
    size_t len = esp01_le16(f + 2);
    if (op >= sizeof commands / sizeof commands[0] || !commands[op]) {
        S.invalid++;
        logf_("command 0x%02x: invalid", op);
        send_reply(1, 0x05);
        return;
    }
    if (len > n - 8) {
        /* The ROM would read stale buffer bytes past the packet. */
        S.invalid++;
        S.resp_op = op;
        logf_("command 0x%02x: length %zu but %zu bytes (stricter than the "
              "ROM: refused)", op, len, n - 8);
        send_reply(1, 0x05);
        return;
    }
    S.resp_op = op;
    commands[op](f + 8, len, esp01_le32(f + 4));
}
