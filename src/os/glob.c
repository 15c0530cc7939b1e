/*
 * Shell-style wildcards (os.h esp01_os_glob_match), written once for every
 * system: POSIX has fnmatch() and Windows has nothing alike (PathMatchSpec
 * knows no [...]), and a .esp01ignore must mean the same on both.  The
 * rules are fnmatch()'s without flags, or with FNM_PATHNAME: a backslash
 * quotes the next character, [!...] and [^...] negate, and with
 * path_aware no wildcard matches '/'.  Character classes ([:alpha:]) are
 * not supported.
 */
#include "os/os.h"

#include <string.h>

/*
 * Does the bracket expression at p ('[' already passed) take c?  *end is
 * set past its ']'; NULL when it is not closed, and then '[' is an ordinary
 * character, as fnmatch() has it.
 */
static bool bracket(const char *p, unsigned char c, bool path_aware,
                    const char **end)
{
    bool neg = *p == '!' || *p == '^';
    if (neg)
        p++;
    bool hit = false;
    const char *start = p;
    while (*p && (*p != ']' || p == start)) {
        /* [:class:], [.x.] and [=x=] are not supported: such a bracket is
           taken as never closed. */
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '='))
            break;
        unsigned char lo = (unsigned char)*p, hi;
        if (lo == '\\' && p[1])
            lo = (unsigned char)*++p;
        p++;
        hi = lo;
        if (*p == '-' && p[1] && p[1] != ']') {
            p++;
            hi = (unsigned char)*p;
            if (hi == '\\' && p[1])
                hi = (unsigned char)*++p;
            p++;
        }
        if (lo <= c && c <= hi)
            hit = true;
    }
    if (*p != ']') {
        *end = NULL;
        return false;
    }
    *end = p + 1;
    if (path_aware && c == '/')
        return false;
    return hit != neg;
}

bool esp01_os_glob_match(const char *pattern, const char *name, bool path_aware)
{
    /* One star to go back to is enough: a later star matches whatever an
       earlier one would have had to (the classic wildcard matcher). */
    const char *star_p = NULL, *star_n = NULL;
    const char *p = pattern, *n = name;
    while (*n) {
        const char *next = NULL;
        bool ok = false;
        if (*p == '*') {
            while (*p == '*')
                p++;
            star_p = p;
            star_n = n;
            continue;
        }
        if (*p == '?') {
            ok = !(path_aware && *n == '/');
            next = p + 1;
        } else if (*p == '[') {
            ok = bracket(p + 1, (unsigned char)*n, path_aware, &next);
        }
        if (!next) { /* an ordinary character, or a '[' never closed */
            const char *q = p;
            if (*q == '\\')
                q++; /* a '\\' ending the pattern matches nothing */
            ok = *q && *q == *n;
            next = q + 1;
        }
        if (ok) {
            p = next;
            n++;
            continue;
        }
        /* Back to the last star, which takes one character more; with
           path_aware it cannot take a '/'. */
        if (!star_p || (path_aware && *star_n == '/'))
            return false;
        star_n++;
        p = star_p;
        n = star_n;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
