/* libFuzzer harness: --board-config files (a JSON object of strings). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp01/jsonmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_jsonmap m;
    esp01_err err;
    err.msg[0] = '\0';
    int rc = esp01_jsonmap_parse(data, size, &m, &err);
    if (rc < 0 && (err.msg[0] == '\0' || m.count != 0))
        __builtin_trap();
    for (size_t i = 0; i < m.count; i++)
        if (esp01_jsonmap_get(&m, m.pairs[i].key) != m.pairs[i].value ||
            strlen(m.pairs[i].value) > size)
            __builtin_trap();
    esp01_jsonmap_free(&m);
    return 0;
}
