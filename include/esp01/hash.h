/*
 * hash.h - digests used across formats and protocols (firmware MD5 trailer,
 * sha256 of files on the device).  Thin wrappers over the OS's digests
 * (Debian's libmd; BCrypt on Windows) and zlib, so the rest of the library
 * does not depend on their headers.
 */
#ifndef ESP01_HASH_H
#define ESP01_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void esp01_md5(const uint8_t *data, size_t len, uint8_t out[16]);
void esp01_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* CRC-32 (IEEE, as zlib's crc32) continuing from `crc` (start with 0). */
uint32_t esp01_crc32(uint32_t crc, const uint8_t *data, size_t len);
/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes). */
void esp01_hex(const uint8_t *data, size_t len, char *out);
/* SHA-1, for the WebSocket handshake only (RFC 6455 fixes it). */
void esp01_sha1(const uint8_t *data, size_t len, uint8_t out[20]);
/*
 * Standard base64 with padding into `out`, which needs
 * ESP01_BASE64_LEN(len) + 1 bytes; returns the length (NUL not counted).
 */
#define ESP01_BASE64_LEN(n) (((n) + 2) / 3 * 4)
size_t esp01_base64_encode(const uint8_t *data, size_t len, char *out);

#ifdef __cplusplus
}
#endif

#endif
