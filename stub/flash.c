/* Flash region writer and reader; see flash.h. */
#include "flash.h"

#include "rom.h"
#include "stub.h"

void flash_writer_begin(struct flash_writer *w, uint32_t start, uint32_t size)
{
    w->start = start;
    w->size = size;
    w->end = start + ((size + FLASH_SECTOR - 1) & ~(FLASH_SECTOR - 1));
    w->erased = start;
    w->pos = 0;
    w->fill = 0;
    w->service = 0;
    w->ctx = 0;
}

int flash_erase_to(uint32_t *next, uint32_t upto, uint32_t end,
                   void (*service)(void *ctx), void *ctx)
{
    while (*next < upto) {
        uint32_t a = *next;
        if (a % FLASH_BLOCK == 0 && end - a >= FLASH_BLOCK) {
            if (SPIEraseBlock(a / FLASH_BLOCK))
                return STUB_E_SPI;
            *next = a + FLASH_BLOCK;
        } else {
            if (SPIEraseSector(a / FLASH_SECTOR))
                return STUB_E_SPI;
            *next = a + FLASH_SECTOR;
        }
        if (service)
            service(ctx);
    }
    return 0;
}

int flash_writer_erase_next(struct flash_writer *w)
{
    if (w->erased >= w->end)
        return -1;
    return flash_erase_to(&w->erased, w->erased + 1, w->end, w->service,
                          w->ctx);
}

/* Program the buffered page (n bytes of it) at its place in the region. */
static int flush_page(struct flash_writer *w, uint32_t n)
{
    uint8_t *b = (uint8_t *)w->page;
    uint32_t addr = w->start + ((w->pos - 1) & ~(FLASH_PAGE - 1));
    w->fill = 0;
    int rc = flash_erase_to(&w->erased, addr + 1, w->end, w->service, w->ctx);
    if (rc)
        return rc;
    uint32_t blank = 1;
    for (uint32_t i = 0; i < n; i++)
        blank &= b[i] == 0xFF;
    if (blank)
        return 0;
    /* SPIWrite takes whole words; 0xFF leaves erased bits alone. */
    while (n & 3)
        b[n++] = 0xFF;
    if (SPIWrite(addr, w->page, n))
        return STUB_E_SPI;
    if (w->service)
        w->service(w->ctx);
    return 0;
}

int flash_writer_put(struct flash_writer *w, const uint8_t *p, uint32_t n)
{
    int over = n > w->size - w->pos;
    if (over)
        n = w->size - w->pos;
    uint8_t *b = (uint8_t *)w->page;
    while (n) {
        uint32_t k = FLASH_PAGE - w->fill;
        if (k > n)
            k = n;
        for (uint32_t i = 0; i < k; i++)
            b[w->fill + i] = p[i];
        w->fill += k;
        w->pos += k;
        p += k;
        n -= k;
        /* A page is complete, or the data is: then the flash must show it
           at once, as a host may check the MD5 without FLASH_END. */
        if (w->fill == FLASH_PAGE || w->pos == w->size) {
            int rc = flush_page(w, w->fill);
            if (rc)
                return rc;
        }
    }
    return over ? STUB_E_TOO_MUCH : 0;
}

int flash_writer_finish(struct flash_writer *w)
{
    if (w->fill) {
        int rc = flush_page(w, w->fill);
        if (rc)
            return rc;
    }
    return flash_erase_to(&w->erased, w->end, w->end, w->service, w->ctx);
}

int flash_read(uint32_t addr, uint32_t len, flash_read_fn fn, void *ctx)
{
    uint32_t buf[FLASH_PAGE / 4];
    const uint8_t *b = (const uint8_t *)buf;
    while (len) {
        uint32_t base = addr & ~3u, skip = addr - base;
        uint32_t n = FLASH_PAGE - skip;
        if (n > len)
            n = len;
        if (SPIRead(base, buf, (skip + n + 3) & ~3u))
            return STUB_E_SPI;
        int rc = fn(ctx, b + skip, n);
        if (rc)
            return rc;
        addr += n;
        len -= n;
    }
    return 0;
}
