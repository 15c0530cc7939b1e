/*
 * romsim - an ESP8266 in download mode on a pty, for the tests.
 *
 * Shared between the parts of the simulator:
 *   main.c   options, the pty, the serial line (baud, pacing, garbling on a
 *            baud mismatch), fault injection, statistics
 *   rom.c    the ROM loader's command handling, rule by rule from the ROM's
 *            disassembly (docs/flashing.md lists the rules and sources)
 *   flash.c  the SPI NOR flash chip, the ROM's flashchip parameters and
 *            the SPI0 user-command registers
 *   stub.c   handing the line to the QEMU build of our flasher stub once
 *            the ROM has started an uploaded copy of it
 */
#ifndef ROMSIM_SIM_H
#define ROMSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SECTOR 4096u
#define BLOCK64 65536u

/* The ROM receives a packet into 0x3FFFA000..0x3FFFBFFF (bootrom.s,
 * UartConnCheck/UartDwnLdProc pass 0x3fffa000 and 0x2000 to RcvMsg). */
#define ROM_RX_BUF 0x2000u

struct mem_seg {
    uint32_t addr, len;
    uint8_t *data;
};

struct sim {
    /* the line */
    int master, slave;
    const char *link;
    uint32_t chip_baud;      /* what the chip's UART runs at (0: not yet) */
    uint32_t host_baud;      /* what the host set on the pty */
    bool throttle;           /* pace bytes at the line rate */
    double rx_clock;
    /* options */
    const char *stats_path;
    FILE *log;
    uint32_t magic;
    uint32_t efuse[4];
    uint32_t crystal_hz;     /* 26 or 40 MHz: UART clock is twice that */
    bool boot_text, garbage;
    uint64_t power_on_ms;
    bool powered;
    /* faults: per-frame probabilities in parts per million */
    uint64_t seed;
    uint32_t p_drop, p_corrupt, p_stall, p_reset;
    uint32_t stall_ms;
    /* ROM loader state (bootrom.s UartDwnLdProc and its handlers) */
    bool synced;             /* UartConnCheck has seen a SYNC */
    bool running;            /* the loader has been left */
    uint8_t resp_op;         /* reply header byte 1: stale between commands */
    uint32_t resp_value;     /* reply value: stale except READ_REG / SYNC */
    bool dl_valid;           /* a FLASH_BEGIN or MEM_BEGIN set the state */
    bool dl_mem;             /* ... and it was MEM_BEGIN */
    uint32_t dl_size, dl_blocks, dl_block_size, dl_seq, dl_done, dl_addr;
    uint32_t mem_entry;
    struct mem_seg mem[16];
    size_t nmem;
    bool mem_overflow;       /* an upload hit ROM memory: the chip crashed */
    uint32_t regs_addr[96], regs_val[96];
    size_t nregs;
    uint32_t max_block;      /* FLASH_BEGIN block size limit (ROM: 0x1800) */
    uint32_t bad_data_at;    /* corrupt the payload of this FLASH_DATA (1-based) */
    uint32_t data_packets;
    /* stub mode */
    const char *qemu, *stub_elf;
    bool stub_mode;
    bool refuse_mem;         /* MEM_BEGIN refused: no upload possible */
    uint32_t hang_reset_ms;  /* uploaded code hangs; reset after this */
    uint32_t max_baud;       /* the adapter and line carry no more */
    double hang_since;       /* when the uploaded code hung (0: not) */
    /* stats */
    uint64_t rx_bytes, tx_bytes, frames, data_bytes, erased_sectors,
        erased_blocks, flash_begins, faults_drop, faults_corrupt,
        faults_stall, faults_reset, ran_user_code, reboots, invalid,
        garbled_bytes, programmed_pages;
};

extern struct sim S;
extern volatile int sim_stop;

/* main.c */
void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double now_s(void);
void sleep_s(double d);
uint64_t rnd(void);
bool chance(uint32_t ppm);
void line_write(const uint8_t *p, size_t n);
void text_out(const char *s);
uint32_t host_baud_now(void);

/* rom.c */
void rom_reset(const char *why);
void rom_handle(uint8_t *frame, size_t n);
void rom_boot_message(int mode_a, int mode_b, int cause);
uint32_t rom_uart_clkdiv(void);
void mem_clear(void);

/* flash.c */
struct flash_opts {
    const char *path;
    long long size;          /* real chip size; -1: from the JEDEC id */
    uint32_t jedec;
    uint32_t rom_chip_size;  /* the ROM's flashchip->chip_size at reset */
    bool timing;             /* take the datasheet's time for each job */
};
int flash_open(const struct flash_opts *o);
void flash_close(void);
uint32_t flash_size(void);
uint32_t flash_jedec(void);    /* manufacturer | type << 8 | capacity << 16 */
const char *flash_path(void);  /* absolute; NULL when not kept in a file */
uint8_t *flash_bytes(void);
/* The ROM's SpiFlashChip parameters (SPIParamCfg); see flash.c. */
void flash_param_reset(void);
void flash_param_set(uint32_t id, uint32_t size, uint32_t block,
                     uint32_t sector, uint32_t page, uint32_t mask);
bool flash_param_read(uint32_t addr, uint32_t *value);
/* The ROM functions, with their return convention (0 ok, 1 failed). */
int rom_SPIEraseArea(uint32_t offset, uint32_t size);
int rom_SPIWrite(uint32_t addr, const uint8_t *src, uint32_t len);
int rom_SPIRead(uint32_t addr, uint8_t *dst, uint32_t len);
void flash_attach(void);
bool flash_attached(void);
void flash_detach(void);
/* SPI0 user command issued through the registers (CMD bit 18 written). */
void flash_spi_user_command(uint32_t (*reg)(uint32_t),
                            void (*set)(uint32_t, uint32_t));

/* stub.c */
bool stub_matches_upload(char *why, size_t cap);
void stub_prepare(void);   /* an upload begins: start QEMU, held back */
int stub_run(void);
void stub_shutdown(void);  /* romsim ends: stop a QEMU started ahead */

#endif
