/*
 * Which modules a firmware has frozen in (image.h): read from the run of
 * "name.py\0" strings MicroPython's frozen content keeps in irom0.
 */
#include <stdbool.h>
#include <string.h>

#include "esp01/image.h"

static bool name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '/';
}

/* Length of a "name.py" string at p (ending in NUL), else 0. */
static size_t entry_at(const uint8_t *p, const uint8_t *end)
{
    size_t n = 0;
    while (p + n < end && name_char(p[n]) && n < ESP01_FROZEN_NAME_MAX)
        n++;
    if (n == 0 || p + n + 3 >= end || memcmp(p + n, ".py", 3) != 0 || p[n + 3] != 0)
        return 0;
    return n + 3;
}

/* How many entries follow one another from p, and where the run ends. */
static size_t run_at(const uint8_t *p, const uint8_t *end, const uint8_t **stop)
{
    size_t count = 0, n;
    while ((n = entry_at(p, end)) != 0) {
        count++;
        p += n + 1;
    }
    *stop = p;
    return count;
}

size_t esp01_image_frozen_modules(const uint8_t *fw, size_t len,
                                  char (*names)[ESP01_FROZEN_NAME_MAX], size_t max)
{
    const uint8_t *end = fw + len, *best = NULL;
    size_t best_count = 0;
    for (const uint8_t *p = fw; p < end; p++) {
        if (p > fw && name_char(p[-1]))
            continue;
        const uint8_t *stop;
        size_t count = run_at(p, end, &stop);
        if (count > best_count) {
            best_count = count;
            best = p;
        }
        if (count)
            p = stop - 1;
    }
    if (best_count < 3)
        return 0;
    size_t out = 0;
    for (const uint8_t *p = best; out < max;) {
        size_t n = entry_at(p, end);
        if (!n)
            break;
        size_t k = n - 3;
        for (size_t i = 0; i < k; i++)
            names[out][i] = p[i] == '/' ? '.' : (char)p[i];
        names[out][k] = '\0';
        /* A package's "x/__init__.py" is module x. */
        size_t il = strlen(".__init__");
        if (k > il && strcmp(names[out] + k - il, ".__init__") == 0)
            names[out][k - il] = '\0';
        out++;
        p += n + 1;
    }
    return out;
}
