/*
 * ROM loader response parser and the other pure decoders the client runs on
 * bytes from the wire (JEDEC id) or from its caller (erase arithmetic).
 */
#include <stdint.h>
#include <stdlib.h>

#include "esp01/rom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_rom_response r;
    esp01_err err;
    if (esp01_rom_parse_response(data, size, &r, &err) == 0) {
        if (size < 10 || data[0] != 1 || r.data != data + 8 ||
            r.data_len + 10 != size || r.status > 1 ||
            (r.status == 0) != (r.error == 0))
            abort();
    }
    if (size >= 3) {
        uint32_t jedec = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
                         (uint32_t)data[2] << 16;
        esp01_flash_id id;
        int rc = esp01_flash_id_decode(jedec, &id, &err);
        if (rc == 0 && (id.size < 256 * 1024 || id.size > 16 * 1024 * 1024 ||
                        (id.size & (id.size - 1)) != 0))
            abort();
    }
    if (size >= 4) {
        uint32_t first = (uint32_t)data[0] | (uint32_t)data[1] << 8;
        uint32_t n = ((uint32_t)data[2] | (uint32_t)data[3] << 8) % 4097;
        uint32_t erased;
        uint32_t arg = esp01_rom_erase_arg(first, n, &erased);
        if (arg % 4096 || erased < n || erased > n + 1 ||
            (n && esp01_rom_erased_by(first, arg / 4096) != erased))
            abort();
    }
    return 0;
}
