/* MD5, SHA-256 and SHA-1 from libmd (hash.h); Linux.  macOS has them in
 * CommonCrypto instead (hash_macos.c). */
#include "esp01/hash.h"

#include <md5.h>
#include <sha1.h>
#include <sha2.h>

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

void esp01_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
    SHA1_CTX ctx;
    SHA1Init(&ctx);
    SHA1Update(&ctx, data, len);
    SHA1Final(out, &ctx);
}
