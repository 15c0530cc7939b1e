/* libFuzzer harness: the JSON checker used on --config files. */
#include <stddef.h>
#include <stdint.h>

#include "esp01/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_err err;
    err.msg[0] = '\0';
    int rc = esp01_json_check(data, size, &err);
    if (rc < 0 && err.msg[0] == '\0')
        __builtin_trap();
    if (rc > ESP01_JSON_LITERAL || rc == 0)
        __builtin_trap();
    return 0;
}
