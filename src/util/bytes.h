/*
 * bytes.h - internal: bounds-checked little/big-endian access to untrusted
 * buffers.  Every format module reads through these instead of casting
 * structs over input, so a short or hostile buffer can never be read past
 * its end: an out-of-range read yields 0 and sets the cursor's `bad` flag,
 * which the parser checks once at the end of a record.
 */
#ifndef ESP01_BYTES_H
#define ESP01_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* True when [off, off+n) lies inside a buffer of `len` bytes (no overflow). */
static inline bool esp01_in_range(size_t len, size_t off, size_t n)
{
    return off <= len && n <= len - off;
}

static inline uint16_t esp01_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t esp01_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t esp01_le64(const uint8_t *p)
{
    return (uint64_t)esp01_le32(p) | (uint64_t)esp01_le32(p + 4) << 32;
}

static inline uint32_t esp01_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline void esp01_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void esp01_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void esp01_put_le64(uint8_t *p, uint64_t v)
{
    esp01_put_le32(p, (uint32_t)v);
    esp01_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline void esp01_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A read cursor over an untrusted buffer. */
typedef struct esp01_rd {
    const uint8_t *buf;
    size_t len;
    size_t off;
    bool bad; /* set by any read past the end; sticky */
} esp01_rd;

static inline esp01_rd esp01_rd_init(const uint8_t *buf, size_t len)
{
    esp01_rd r = {buf, len, 0, false};
    return r;
}

static inline const uint8_t *esp01_rd_take(esp01_rd *r, size_t n)
{
    if (r->bad || !esp01_in_range(r->len, r->off, n)) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->off;
    r->off += n;
    return p;
}

static inline uint8_t esp01_rd_u8(esp01_rd *r)
{
    const uint8_t *p = esp01_rd_take(r, 1);
    return p ? p[0] : 0;
}

static inline uint16_t esp01_rd_le16(esp01_rd *r)
{
    const uint8_t *p = esp01_rd_take(r, 2);
    return p ? esp01_le16(p) : 0;
}

static inline uint32_t esp01_rd_le32(esp01_rd *r)
{
    const uint8_t *p = esp01_rd_take(r, 4);
    return p ? esp01_le32(p) : 0;
}

static inline uint32_t esp01_rd_be32(esp01_rd *r)
{
    const uint8_t *p = esp01_rd_take(r, 4);
    return p ? esp01_be32(p) : 0;
}

/* Safe read of a LE u32 at an absolute offset; 0 and *ok=false if out of range. */
static inline uint32_t esp01_le32_at(const uint8_t *buf, size_t len, size_t off,
                                     bool *ok)
{
    if (!esp01_in_range(len, off, 4)) {
        if (ok)
            *ok = false;
        return 0;
    }
    return esp01_le32(buf + off);
}

#endif
