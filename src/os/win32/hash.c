/*
 * MD5, SHA-256 and SHA-1 from Windows' CNG (BCrypt), which every Windows
 * since Vista has: no libmd to ship.
 *
 * An algorithm provider is costly to open and safe to share between
 * threads, so each is opened once; the hash objects are per call.  The
 * hash.h functions cannot fail, and CNG's software providers do not for
 * these inputs; if one ever did, the digest is all zeros, which no
 * comparison accepts.
 */
#include "esp01/hash.h"

#include <windows.h>

#include <bcrypt.h>
#include <stdbool.h>
#include <string.h>

enum { MD5, SHA256, SHA1, ALGS };

static BCRYPT_ALG_HANDLE algs[ALGS];
static INIT_ONCE once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK open_all(PINIT_ONCE o, PVOID param, PVOID *ctx)
{
    (void)o;
    (void)param;
    (void)ctx;
    static const wchar_t *const names[ALGS] = {BCRYPT_MD5_ALGORITHM, BCRYPT_SHA256_ALGORITHM,
                                               BCRYPT_SHA1_ALGORITHM};
    for (int i = 0; i < ALGS; i++)
        if (BCryptOpenAlgorithmProvider(&algs[i], names[i], NULL, 0) < 0)
            algs[i] = NULL;
    return TRUE;
}

static void digest(int alg, const uint8_t *data, size_t len, uint8_t *out, ULONG out_len)
{
    memset(out, 0, out_len);
    InitOnceExecuteOnce(&once, open_all, NULL, NULL);
    BCRYPT_HASH_HANDLE h = NULL;
    /* No object buffer: CNG allocates it (Windows 7 and later). */
    if (!algs[alg] || BCryptCreateHash(algs[alg], &h, NULL, 0, NULL, 0, 0) < 0)
        return;
    bool ok = true;
    while (ok && len > 0) {
        ULONG n = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        /* BCryptHashData does not write to its input; the prototype
         * just lacks the const. */
        ok = BCryptHashData(h, (PUCHAR)(uintptr_t)data, n, 0) >= 0;
        data += n;
        len -= n;
    }
    if (!ok || BCryptFinishHash(h, out, out_len, 0) < 0)
        memset(out, 0, out_len);
    BCryptDestroyHash(h);
}

void esp01_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
    digest(MD5, data, len, out, 16);
}

void esp01_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    digest(SHA256, data, len, out, 32);
}

void esp01_sha1(const uint8_t *data, size_t len, uint8_t out[20])
{
    digest(SHA1, data, len, out, 20);
}
