#include "esp01/hash.h"

#include <md5.h>
#include <sha2.h>
#include <zlib.h>

void esp01_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
    MD5_CTX ctx;
    MD5Init(&ctx);
    MD5Update(&ctx, data, len);
    MD5Final(out, &ctx);
}

void esp01_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    SHA256Update(&ctx, data, len);
    SHA256Final(out, &ctx);
}

uint32_t esp01_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    /* zlib takes uInt lengths; feed large buffers in pieces. */
    uLong c = crc;
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        c = crc32(c, data, n);
        data += n;
        len -= n;
    }
    return (uint32_t)c;
}

void esp01_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}
