/*
 * libFuzzer harness: the Python import scanner, the .mpy header parser and
 * the mpy-cross --version text parser, on the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp01/mpy.h"
#include "esp01/pyscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_name(const char *module, void *ctx)
{
    (void)ctx;
    size_t n = strlen(module);
    /* names are non-empty, bounded, and never carry separators */
    if (n == 0 || n > ESP01_PY_NAME_MAX || strpbrk(module, ". \t\n,();"))
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_err err;
    err.msg[0] = '\0';
    int rc = esp01_py_imports(data, size, check_name, NULL, &err);
    if (rc < 0 && err.msg[0] == '\0')
        __builtin_trap();
    esp01_mpy_header h;
    if (esp01_mpy_header_parse(data, size, &h, &err) == 0 && (h.version > 6 || h.arch > 15))
        __builtin_trap();
    unsigned v, s;
    if (esp01_mpy_cross_version_parse(data, size, &v, &s, &err) == 0 && (v > 999 || s > 9))
        __builtin_trap();
    return 0;
}
