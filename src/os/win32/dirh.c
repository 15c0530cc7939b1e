/*
 * Folders held open (os.h esp01_os_dirh) on Windows.  Win32 has no
 * openat(), so a held folder is its path plus a handle that denies
 * FILE_SHARE_DELETE: while it is held neither it nor a folder above it
 * can be renamed or swapped for a junction, and every name inside is
 * opened with FILE_FLAG_OPEN_REPARSE_POINT and refused when it is a
 * reparse point (symbolic link, junction, mount point).
 *
 * A name from an image could also mean something a POSIX name does not:
 * "a:b" is a stream of "a", "NUL" or "COM1" a device, "x." is "x".  Such
 * names are refused.
 */
#include "os/os.h"

#include "os/win32/win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH_DIFF 116444736000000000ull

struct esp01_os_dirh {
    HANDLE h;
    char *path; /* UTF-8 */
};

static bool reserved_device(const char *name)
{
    static const char *const dev[] = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"};
    size_t stem = strcspn(name, ".");
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        if (strlen(dev[i]) == stem && _strnicmp(name, dev[i], stem) == 0)
            return true;
    /* COM1..COM9, LPT1..LPT9 (and the superscript digits Windows also
       takes, which are not ASCII and so not matched here) */
    return stem == 4 && (_strnicmp(name, "COM", 3) == 0 || _strnicmp(name, "LPT", 3) == 0) &&
           name[3] >= '1' && name[3] <= '9';
}

static int check_name(const char *name, esp01_err *err)
{
    size_t len = strlen(name);
    if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        strpbrk(name, "/\\:*?\"<>|") || name[len - 1] == '.' || name[len - 1] == ' ' ||
        reserved_device(name))
        return esp01_fail(err, ESP01_E_INVAL, "not a file name Windows can store");
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20)
            return esp01_fail(err, ESP01_E_INVAL, "not a file name Windows can store");
    return 0;
}

/* d's path joined with name, wide; NULL with err set. */
static wchar_t *child(const esp01_os_dirh *d, const char *name, esp01_err *err)
{
    if (check_name(name, err) < 0)
        return NULL;
    size_t a = strlen(d->path), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) {
        esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(p, d->path, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    wchar_t *w = esp01_win_path(p, err);
    free(p);
    return w;
}

static HANDLE open_folder(const wchar_t *w, DWORD flags)
{
    return CreateFileW(w, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
                       FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                       FILE_FLAG_BACKUP_SEMANTICS | flags, NULL);
}

static int dirh_new(HANDLE h, const char *path, const char *name,
                    esp01_os_dirh **out, esp01_err *err)
{
    esp01_os_dirh *d = malloc(sizeof *d);
    size_t a = strlen(path), b = name ? strlen(name) + 1 : 0;
    char *p = malloc(a + b + 1);
    if (!d || !p) {
        free(d);
        free(p);
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    memcpy(p, path, a);
    if (name) {
        p[a] = '/';
        memcpy(p + a + 1, name, b);
    }
    p[a + b] = '\0';
    d->h = h;
    d->path = p;
    *out = d;
    return 0;
}

int esp01_os_dirh_open(const char *path, esp01_os_dirh **out, esp01_err *err)
{
    *out = NULL;
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return ESP01_E_INVAL;
    HANDLE h = open_folder(w, 0);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return esp01_win_fail(err, GetLastError());
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi) ||
        !(bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_IO, "Not a directory");
    }
    return dirh_new(h, path, NULL, out, err);
}

int esp01_os_dirh_sub(esp01_os_dirh *d, const char *name, bool create,
                      esp01_os_dirh **out, esp01_err *err)
{
    *out = NULL;
    wchar_t *w = child(d, name, err);
    if (!w)
        return ESP01_E_INVAL;
    HANDLE h = open_folder(w, FILE_FLAG_OPEN_REPARSE_POINT);
    DWORD e = GetLastError();
    if (h == INVALID_HANDLE_VALUE && create && e == ERROR_FILE_NOT_FOUND) {
        if (CreateDirectoryW(w, NULL) || GetLastError() == ERROR_ALREADY_EXISTS)
            h = open_folder(w, FILE_FLAG_OPEN_REPARSE_POINT);
        e = GetLastError();
    }
    if (h == INVALID_HANDLE_VALUE) {
        free(w);
        return esp01_win_fail(err, e);
    }
    /* The name is asked too, now that the handle keeps it from being
       swapped: Wine opens the target of a Unix symbolic link even with
       FILE_FLAG_OPEN_REPARSE_POINT, and only the name's attributes tell. */
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD named = GetFileAttributesW(w);
    free(w);
    if (!GetFileInformationByHandle(h, &bi) || named == INVALID_FILE_ATTRIBUTES ||
        ((bi.dwFileAttributes | named) & FILE_ATTRIBUTE_REPARSE_POINT) ||
        !(bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_INVAL, "a link or not a directory");
    }
    return dirh_new(h, d->path, name, out, err);
}

int esp01_os_dirh_stat(esp01_os_dirh *d, const char *name, esp01_os_info *info,
                       esp01_err *err)
{
    wchar_t *w = child(d, name, err);
    if (!w)
        return ESP01_E_INVAL;
    WIN32_FILE_ATTRIBUTE_DATA a;
    bool ok = GetFileAttributesExW(w, GetFileExInfoStandard, &a);
    DWORD e = GetLastError();
    free(w);
    if (!ok)
        return esp01_win_fail(err, e);
    DWORD at = a.dwFileAttributes;
    info->type = at & FILE_ATTRIBUTE_REPARSE_POINT ? ESP01_OS_SYMLINK
                 : at & FILE_ATTRIBUTE_DIRECTORY   ? ESP01_OS_DIRECTORY
                 : at & FILE_ATTRIBUTE_DEVICE      ? ESP01_OS_OTHER
                                                   : ESP01_OS_REGULAR;
    info->size = (uint64_t)a.nFileSizeHigh << 32 | a.nFileSizeLow;
    info->mtime_ns = 0; /* not needed by any caller yet */
    return 0;
}

int esp01_os_dirh_mkdir(esp01_os_dirh *d, const char *name, esp01_err *err)
{
    wchar_t *w = child(d, name, err);
    if (!w)
        return ESP01_E_INVAL;
    int rc = CreateDirectoryW(w, NULL) ? 0 : esp01_win_fail(err, GetLastError());
    free(w);
    return rc;
}

/* All of data into the new file w, with its time; a Win32 error or 0. */
static DWORD write_new(const wchar_t *w, const uint8_t *data, size_t len,
                       const uint64_t *mtime_ns)
{
    HANDLE h = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_NEW,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return GetLastError();
    DWORD e = 0;
    while (len > 0 && !e) {
        DWORD chunk = len > (1u << 30) ? (1u << 30) : (DWORD)len, put;
        if (!WriteFile(h, data, chunk, &put, NULL))
            e = GetLastError();
        data += put;
        len -= put;
    }
    if (!e && mtime_ns) {
        uint64_t t = *mtime_ns / 100u + EPOCH_DIFF;
        FILETIME ft = {(DWORD)t, (DWORD)(t >> 32)};
        /* A time that cannot be set is not worth losing the data for. */
        (void)SetFileTime(h, NULL, NULL, &ft);
    }
    if (!CloseHandle(h) && !e)
        e = GetLastError();
    if (e)
        DeleteFileW(w);
    return e;
}

int esp01_os_dirh_write_file(esp01_os_dirh *d, const char *name,
                             const void *data, size_t len,
                             const uint64_t *mtime_ns, bool replace,
                             esp01_err *err)
{
    wchar_t *w = child(d, name, err), *tw = NULL;
    if (!w)
        return ESP01_E_INVAL;
    DWORD e;
    if (!replace) {
        e = write_new(w, data, len, mtime_ns);
    } else {
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".esp01-tmp-%lu", (unsigned long)GetCurrentProcessId());
        if (!(tw = child(d, tmp, err))) {
            free(w);
            return ESP01_E_INVAL;
        }
        e = write_new(tw, data, len, mtime_ns);
        if (!e && !MoveFileExW(tw, w, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
            e = GetLastError();
            DeleteFileW(tw);
        }
    }
    free(w);
    free(tw);
    return e ? esp01_win_fail(err, e) : 0;
}

void esp01_os_dirh_close(esp01_os_dirh *d)
{
    if (d) {
        CloseHandle(d->h);
        free(d->path);
        free(d);
    }
}
