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

wchar_t *esp01_win_path(const char *utf8, esp01_err *err)
{
    wchar_t *w = esp01_win_wide(utf8);
    if (!w) {
        esp01_fail(err, ESP01_E_INVAL, "not a valid UTF-8 path");
        return NULL;
    }
    size_t len = 0;
    for (; w[len]; len++)
        if (w[len] == L'/')
            w[len] = L'\\';
    /* CreateDirectoryW's limit is MAX_PATH less room for an 8.3 name. */
    if (len < MAX_PATH - 12 || wcsncmp(w, L"\\\\?\\", 4) == 0)
        return w;
    DWORD need = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = need ? malloc(((size_t)need + 8) * sizeof *full) : NULL;
    if (!full) {
        free(w);
        esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        return NULL;
    }
    /* \\server\share\x becomes \\?\UNC\server\share\x. */
    bool unc = len > 2 && w[0] == L'\\' && w[1] == L'\\';
    wcscpy(full, unc ? L"\\\\?\\UNC" : L"\\\\?\\");
    size_t pre = wcslen(full);
    DWORD got = GetFullPathNameW(w, need, full + pre, NULL);
    free(w);
    if (got == 0 || got >= need) {
        free(full);
        esp01_win_fail(err, GetLastError());
        return NULL;
    }
    if (unc) /* drop one of the two leading backslashes */
        memmove(full + pre, full + pre + 1, (wcslen(full + pre + 1) + 1) * sizeof *full);
    return full;
}

bool esp01_win_path_utf8(const wchar_t *wide, char *out, size_t cap)
{
    size_t pre = 0;
    if (wcsncmp(wide, L"\\\\?\\UNC\\", 8) == 0) {
        wide += 8; /* \\?\UNC\server\x is \\server\x */
        if (cap < 3)
            return false;
        out[pre++] = '\\';
        out[pre++] = '\\';
    } else if (wcsncmp(wide, L"\\\\?\\", 4) == 0) {
        wide += 4;
    }
    int need = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
    if (need <= 0 || (size_t)need > cap - pre)
        return false;
    WideCharToMultiByte(CP_UTF8, 0, wide, -1, out + pre, need, NULL, NULL);
    for (char *p = out; *p; p++)
        if (*p == '\\')
            *p = '/';
    return true;
}

int esp01_win_fail(esp01_err *err, DWORD code)
{
    char text[200];
    int rc;
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
        rc = ESP01_E_NOTFOUND;
        break;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        rc = ESP01_E_EXISTS;
        break;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        rc = ESP01_E_NOMEM;
        break;
    default:
        rc = ESP01_E_IO;
    }
    /* A missing file reads the same on every system, so a message (and a
       script that looks for it) does not depend on where esp01 runs; the
       other texts are Windows' own. */
    if (rc == ESP01_E_NOTFOUND && code != ERROR_BAD_NETPATH)
        return esp01_fail(err, rc, "No such file or directory");
    return esp01_fail(err, rc, "%s", esp01_win_strerror(code, NULL, text, sizeof text));
}
