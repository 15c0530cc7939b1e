/* UTF-8 / UTF-16 and error texts for the Win32 backends (win.h). */
#include "os/win32/win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wchar_t *esp01_win_wide(const char *utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

char *esp01_win_utf8(const wchar_t *wide, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    out[0] = '\0';
    int need = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
    if (need <= 0)
        return out;
    if ((size_t)need <= cap) {
        WideCharToMultiByte(CP_UTF8, 0, wide, -1, out, need, NULL, NULL);
        return out;
    }
    char *all = malloc((size_t)need);
    if (!all)
        return out;
    WideCharToMultiByte(CP_UTF8, 0, wide, -1, all, need, NULL, NULL);
    /* Cut before a character, not inside one. */
    size_t n = cap - 1;
    while (n > 0 && ((unsigned char)all[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, all, n);
    out[n] = '\0';
    free(all);
    return out;
}

const char *esp01_win_strerror(DWORD code, HMODULE module, char *out, size_t cap)
{
    wchar_t buf[512];
    DWORD flags = FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS |
                  (module ? FORMAT_MESSAGE_FROM_HMODULE : 0);
    DWORD n = FormatMessageW(flags, module, code, 0, buf, sizeof buf / sizeof buf[0], NULL);
    /* The texts end in ".\r\n"; the library's messages are one line. */
    while (n > 0 && (buf[n - 1] == L'\n' || buf[n - 1] == L'\r' || buf[n - 1] == L' ' ||
                     buf[n - 1] == L'.'))
        buf[--n] = L'\0';
    if (n == 0) {
        snprintf(out, cap, "error %lu", (unsigned long)code);
        return out;
    }
    return esp01_win_utf8(buf, out, cap);
}
