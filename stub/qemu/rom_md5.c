/*
 * MD5 (RFC 1321) behind the ROM's MD5Init/MD5Update/MD5Final interface,
 * for the builds that have no ESP8266 ROM: the QEMU build (placed at the
 * ROM's addresses) and the host tests.  The context layout is the ROM's
 * (struct rom_md5_ctx in rom.h).
 */
#include "rom.h"

/* floor(abs(sin(i + 1)) * 2^32), RFC 1321 3.4 */
static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

/* Rotation per round (4 rounds) and step within the round (mod 4). */
static const uint8_t R[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static void transform(uint32_t st[4], const uint8_t in[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)in[4 * i] | (uint32_t)in[4 * i + 1] << 8 |
               (uint32_t)in[4 * i + 2] << 16 | (uint32_t)in[4 * i + 3] << 24;
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i >> 4;
        if (round == 0) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (round == 1) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;
        } else if (round == 2) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }
        uint32_t t = a + f + K[i] + x[g];
        uint32_t r = R[round][i & 3];
        a = d;
        d = c;
        c = b;
        b += t << r | t >> (32 - r);
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

void MD5Init(struct rom_md5_ctx *ctx)
{
    ctx->buf[0] = 0x67452301;
    ctx->buf[1] = 0xefcdab89;
    ctx->buf[2] = 0x98badcfe;
    ctx->buf[3] = 0x10325476;
    ctx->bits[0] = ctx->bits[1] = 0;
}

void MD5Update(struct rom_md5_ctx *ctx, const void *data, uint32_t len)
{
    const uint8_t *p = data;
    uint32_t have = (ctx->bits[0] >> 3) & 63;
    uint32_t lo = ctx->bits[0] + (len << 3);
    if (lo < ctx->bits[0])
        ctx->bits[1]++;
    ctx->bits[1] += len >> 29;
    ctx->bits[0] = lo;
    while (len) {
        uint32_t k = 64 - have;
        if (k > len)
            k = len;
        for (uint32_t i = 0; i < k; i++)
            ctx->in[have + i] = p[i];
        have += k;
        p += k;
        len -= k;
        if (have == 64) {
            transform(ctx->buf, ctx->in);
            have = 0;
        }
    }
}

void MD5Final(uint8_t digest[16], struct rom_md5_ctx *ctx)
{
    uint8_t tail[8];
    for (int i = 0; i < 4; i++) {
        tail[i] = (uint8_t)(ctx->bits[0] >> (8 * i));
        tail[4 + i] = (uint8_t)(ctx->bits[1] >> (8 * i));
    }
    static const uint8_t pad[64] = {0x80};
    uint32_t have = (ctx->bits[0] >> 3) & 63;
    MD5Update(ctx, pad, have < 56 ? 56 - have : 120 - have);
    MD5Update(ctx, tail, 8);
    for (int i = 0; i < 16; i++)
        digest[i] = (uint8_t)(ctx->buf[i / 4] >> (8 * (i % 4)));
}
