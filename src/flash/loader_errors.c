/*
 * loader_errors.c - what the error codes in a ROM loader's or a flasher
 * stub's refusal mean.  Below both clients: the request/reply transport
 * (rom.c) words a refusal from either, so the stub's table cannot live in
 * stub.c, which is built on that transport.
 */
#include "esp01/stub.h"
#include "rom_internal.h"

const char *esp01_romi_error_text(uint8_t code)
{
    switch (code) {
    case ESP01_ROM_ERR_INVALID: return "invalid or out-of-sequence message";
    case ESP01_ROM_ERR_FAILED: return "failed to act on the message";
    case ESP01_ROM_ERR_CHECKSUM: return "data checksum mismatch";
    case ESP01_ROM_ERR_WRITE: return "flash write error";
    case ESP01_ROM_ERR_READ: return "flash read error";
    default: return "unknown error";
    }
}

const char *esp01_stub_error_text(uint8_t code)
{
    switch (code) {
    case ESP01_STUB_ERR_BAD_LEN: return "bad length";
    case ESP01_STUB_ERR_CHECKSUM: return "bad checksum";
    case ESP01_STUB_ERR_BLOCK_SIZE: return "bad block size";
    case ESP01_STUB_ERR_INVALID: return "invalid command";
    case ESP01_STUB_ERR_SPI: return "SPI flash operation failed";
    case ESP01_STUB_ERR_UNLOCK: return "flash unlock failed";
    case ESP01_STUB_ERR_NOT_FLASHING: return "not in flash mode";
    case ESP01_STUB_ERR_INFLATE: return "inflate error";
    case ESP01_STUB_ERR_TOO_LITTLE: return "not enough data";
    case ESP01_STUB_ERR_TOO_MUCH: return "too much data";
    default: return "unknown error";
    }
}
