/*
 * flash.h - writing a region of SPI flash through the ROM functions:
 * erase ahead of the data, program whole 256-byte pages, skip pages that
 * are all 0xFF (erased flash already reads so).
 *
 * The region [start, start + round_up(size, 4096)) is never left: each
 * sector is erased before the data first reaches it, with one 64 KiB
 * block erase instead when the sector starts a block that lies wholly
 * inside the region.  The caller may erase ahead of the data, one such
 * step at a time (flash_writer_erase_next), while it waits for more; what
 * the data never reached is erased by flash_writer_finish().
 */
#ifndef STUB_FLASH_H
#define STUB_FLASH_H

#include <stdint.h>

#define FLASH_SECTOR 4096u
#define FLASH_BLOCK 65536u
#define FLASH_PAGE 256u

struct flash_writer {
    uint32_t start;   /* sector aligned */
    uint32_t size;    /* bytes announced */
    uint32_t end;     /* start + size rounded up to a sector */
    uint32_t erased;  /* [start, erased) has been erased */
    uint32_t pos;     /* bytes accepted so far */
    uint32_t fill;    /* bytes waiting in page[] */
    uint32_t page[FLASH_PAGE / 4]; /* word aligned for SPIWrite */
    /* Called after every flash operation: the stub answers packets that
       arrived meanwhile (may be NULL). */
    void (*service)(void *ctx);
    void *ctx;
};

void flash_writer_begin(struct flash_writer *w, uint32_t start, uint32_t size);
/*
 * Append bytes.  Returns 0, STUB_E_SPI when the flash refused, or
 * STUB_E_TOO_MUCH when the bytes go past `size` (those past it are not
 * written).
 */
int flash_writer_put(struct flash_writer *w, const uint8_t *p, uint32_t n);
/* Program what is buffered and erase the rest of the region. */
int flash_writer_finish(struct flash_writer *w);
/* Erase the next sector or block of the region ahead of the data: -1
   when all of it is erased already, else 0 or STUB_E_SPI. */
int flash_writer_erase_next(struct flash_writer *w);

/*
 * Erase [*next, upto) within a region ending at `end`, sector by sector or
 * by 64 KiB blocks where a whole block fits; *next advances as it goes.
 * `service` (may be NULL) is called after each erase.
 */
int flash_erase_to(uint32_t *next, uint32_t upto, uint32_t end,
                   void (*service)(void *ctx), void *ctx);

/*
 * Read flash[addr, addr + len) in word-aligned pieces of at most 256
 * bytes, whatever the alignment of addr and len, and hand each piece to
 * `fn`.  Returns 0, STUB_E_SPI, or what `fn` returned.
 */
typedef int (*flash_read_fn)(void *ctx, const uint8_t *p, uint32_t n);
int flash_read(uint32_t addr, uint32_t len, flash_read_fn fn, void *ctx);

#endif
