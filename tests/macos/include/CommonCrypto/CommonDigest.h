/* The part of Apple's CommonCrypto/CommonDigest.h that
 * src/os/posix/hash_macos.c uses, with Apple's signatures (macos-check). */
#ifndef _CC_COMMON_DIGEST_H_
#define _CC_COMMON_DIGEST_H_
#include <stdint.h>

typedef uint32_t CC_LONG;
typedef struct CC_MD5state_st { uint32_t A, B, C, D, Nl, Nh, data[16]; int num; } CC_MD5_CTX;
typedef struct CC_SHA1state_st { uint32_t h0, h1, h2, h3, h4, Nl, Nh, data[16]; int num; } CC_SHA1_CTX;
typedef struct CC_SHA256state_st { uint32_t count[2], hash[8], wbuf[16]; } CC_SHA256_CTX;

/* Deprecated since macOS 10.15, as in Apple's header. */
#define CC_DEPRECATED __attribute__((deprecated("not for cryptography")))
CC_DEPRECATED int CC_MD5_Init(CC_MD5_CTX *c);
CC_DEPRECATED int CC_MD5_Update(CC_MD5_CTX *c, const void *data, CC_LONG len);
CC_DEPRECATED int CC_MD5_Final(unsigned char *md, CC_MD5_CTX *c);
int CC_SHA1_Init(CC_SHA1_CTX *c);
int CC_SHA1_Update(CC_SHA1_CTX *c, const void *data, CC_LONG len);
int CC_SHA1_Final(unsigned char *md, CC_SHA1_CTX *c);
int CC_SHA256_Init(CC_SHA256_CTX *c);
int CC_SHA256_Update(CC_SHA256_CTX *c, const void *data, CC_LONG len);
int CC_SHA256_Final(unsigned char *md, CC_SHA256_CTX *c);
#endif
