/*
 * MD5, SHA-256 and SHA-1 from CommonCrypto (hash.h); macOS, which has no
 * libmd.  The data goes in slices: CC_LONG is 32 bits.  Apple marks MD5
 * and SHA-1 deprecated as cryptography; here they only check contents
 * (the ROM loader's flash MD5) or follow a protocol (the WebSocket
 * handshake's SHA-1), so the warning is silenced.
 */
#include "esp01/hash.h"

#include <CommonCrypto/CommonDigest.h>

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"

#define SLICE ((size_t)1 << 30)

void esp01_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
    CC_MD5_CTX ctx;
    CC_MD5_Init(&ctx);
    for (size_t off = 0; off < len; off += SLICE)
        CC_MD5_Update(&ctx, data + off, (CC_LONG)(len - off < SLICE ? len - off : SLICE));
    CC_MD5_Final(out, &ctx);
}

void esp01_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    CC_SHA256_CTX ctx;
    CC_SHA256_Init(&ctx);
    for (size_t off = 0; off < len; off += SLICE)
        CC_SHA256_Update(&ctx, data + off, (CC_LONG)(len - off < SLICE ? len - off : SLICE));
    CC_SHA256_Final(out, &ctx);
}

void esp01_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
    CC_SHA1_CTX ctx;
    CC_SHA1_Init(&ctx);
    for (size_t off = 0; off < len; off += SLICE)
        CC_SHA1_Update(&ctx, data + off, (CC_LONG)(len - off < SLICE ? len - off : SLICE));
    CC_SHA1_Final(out, &ctx);
}

#pragma clang diagnostic pop
