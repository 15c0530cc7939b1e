/* libFuzzer harness: device error text classification and bytes literals. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/devfs.h"
#include "esp01/rawrepl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[96];
    esp01_rawrepl_classify_error(data, size, line, sizeof line);
    if (strlen(line) >= sizeof line)
        abort();
    for (const char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            abort();
    size_t cap = size * 4 + 4;
    char *lit = malloc(cap);
    if (!lit)
        return 0;
    size_t n = esp01_devfs_bytes_literal(data, size, lit, cap);
    /* A literal never carries raw control bytes into the raw REPL. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)lit[i] < 0x20 || (unsigned char)lit[i] == 0x7f)
            abort();
    free(lit);
    return 0;
}
