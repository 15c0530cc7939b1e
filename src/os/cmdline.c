/*
 * An argv as one Windows command line (cmdline.h).  Kept apart from
 * src/os/win32/proc.c, which is its only user, because it is plain C: the
 * unit test (tests/unit/test_cmdline.c) runs it on the build machine,
 * where the quoting rules can be checked case by case without Windows.
 */
#include "os/cmdline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool needs_quotes(const char *a)
{
    if (!*a)
        return true;
    return strpbrk(a, " \t\n\v\"") != NULL;
}

/* Append `a` quoted to out (NULL: only count); returns the length. */
static size_t quote(const char *a, char *out)
{
    size_t n = 0;
    if (!needs_quotes(a)) {
        n = strlen(a);
        if (out)
            memcpy(out, a, n);
        return n;
    }
    if (out)
        out[n] = '"';
    n++;
    for (const char *p = a;; p++) {
        size_t slashes = 0;
        while (*p == '\\') {
            slashes++;
            p++;
        }
        /* Backslashes count double only before a '"' (the argument's own
         * or the closing one); elsewhere they stay as they are. */
        size_t times = (*p == '"' || *p == '\0') ? 2 : 1;
        for (size_t k = 0; k < slashes * times; k++) {
            if (out)
                out[n] = '\\';
            n++;
        }
        if (*p == '\0')
            break;
        if (*p == '"') {
            if (out)
                out[n] = '\\';
            n++;
        }
        if (out)
            out[n] = *p;
        n++;
    }
    if (out)
        out[n] = '"';
    return n + 1;
}

int esp01_os_cmdline(char *const argv[], char **out, esp01_err *err)
{
    *out = NULL;
    if (!argv || !argv[0])
        return esp01_fail(err, ESP01_E_INVAL, "no program to run");
    size_t len = 0;
    for (size_t i = 0; argv[i]; i++)
        len += quote(argv[i], NULL) + 1;
    char *s = malloc(len);
    if (!s)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            s[n++] = ' ';
        n += quote(argv[i], s + n);
    }
    s[n] = '\0';
    *out = s;
    return 0;
}
