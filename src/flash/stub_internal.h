/*
 * stub_internal.h - what the flasher stub client's files share: its time
 * budgets and the cancel and progress checks.  stub.c uploads and starts
 * the stub and moves the baud rate; stub_read.c asks for MD5s, erases,
 * finds the sectors that differ and reads; stub_write.c writes through the
 * compressed pipeline on top of stub_read.c.  Not part of the public API.
 */
#ifndef ESP01_STUB_INTERNAL_H
#define ESP01_STUB_INTERNAL_H

#include "esp01/stub.h"
#include "rom_internal.h"

#define SECTOR ESP01_ROM_SECTOR
#define DATA_HDR 16
#define CMD_TIMEOUT_MS 3000u
/* How long the stub waits for a valid frame after a baud change before it
 * goes back to the previous rate (docs/stub.md). */
#define STUB_REVERT_MS 1000u
/* Per MiB of flash touched, for a chip at its datasheet maximums
 * (W25Q80DV: sector erase 400 ms, page program 3 ms) rather than esptool's
 * 30 s/MiB erase and 40 s/MiB write budgets, which a chip erasing 64 KiB
 * blocks at the 2 s maximum already needs 32 s/MiB of.  MD5 as esptool's
 * MD5_TIMEOUT_PER_MB. */
#define ERASE_MS_PER_MIB ESP01_ROM_ERASE_MS_PER_MIB
#define WRITE_MS_PER_MIB (ERASE_MS_PER_MIB + 4096u * 3u)
#define MD5_MS_PER_MIB 8000u
#define RUN_ATTEMPTS 3
#define BLOCK64_BYTES 0x10000u

static inline uint32_t per_mib(uint64_t bytes, uint32_t ms_per_mib)
{
    return CMD_TIMEOUT_MS + (uint32_t)(bytes * ms_per_mib / (1024u * 1024u));
}

static inline bool cancelled(const esp01_rom *rom)
{
    return rom->cancel && *rom->cancel;
}

static inline void report(esp01_rom *rom, esp01_rom_progress *p,
                          esp01_rom_phase phase, uint32_t offset)
{
    p->phase = phase;
    p->offset = offset;
    if (rom->progress)
        rom->progress(rom->progress_ctx, p);
}

/* Bit i of a sector map. */
static inline bool bit(const uint8_t *map, uint32_t i)
{
    return map[i / 8] & (1u << (i % 8));
}

static inline void set_bit(uint8_t *map, uint32_t i)
{
    map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The image padded with 0xFF to whole sectors (stub_read.c). */
uint8_t *esp01_stubi_padded_copy(const uint8_t *data, size_t len,
                                 uint32_t *nsec);
/*
 * Which of the `nsec` sectors of `img` (padded) differ from flash at
 * `offset`, into the bit map `differs`, their count in *ndiff; `exact`
 * false lets most of a changed block count as changed (stub_read.c).
 */
int esp01_stubi_diff_padded(esp01_rom *rom, uint32_t offset,
                            const uint8_t *img, uint32_t nsec, bool exact,
                            uint8_t *differs, uint32_t *ndiff,
                            esp01_err *err);

#endif
