/*
 * Files and folders on Windows (os.h): the wide Win32 calls, paths
 * converted at the edge by esp01_win_path() (UTF-8, '/' or '\', long
 * paths).  Paths handed back use '/' as os.h promises.
 */
#include "os/os.h"

#include "os/win32/win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 100 ns ticks from 1601 to 1970. */
#define EPOCH_DIFF 116444736000000000ull

struct esp01_os_file {
    HANDLE h;
};

static uint64_t ns_of(FILETIME ft)
{
    uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
    return t < EPOCH_DIFF ? 0 : (t - EPOCH_DIFF) * 100u;
}

static void info_from(DWORD attrs, DWORD size_hi, DWORD size_lo, FILETIME mtime,
                      bool link_is_link, esp01_os_info *info)
{
    info->type = link_is_link && (attrs & FILE_ATTRIBUTE_REPARSE_POINT)
                     ? ESP01_OS_SYMLINK
                 : attrs & FILE_ATTRIBUTE_DIRECTORY ? ESP01_OS_DIRECTORY
                 : attrs & FILE_ATTRIBUTE_DEVICE    ? ESP01_OS_OTHER
                                                    : ESP01_OS_REGULAR;
    info->size = info->type == ESP01_OS_REGULAR
                     ? (uint64_t)size_hi << 32 | size_lo : 0;
    info->mtime_ns = ns_of(mtime);
}

/* What a link points to: the file opened through it. */
static int stat_followed(const wchar_t *w, esp01_os_info *info, esp01_err *err)
{
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return esp01_win_fail(err, GetLastError());
    BY_HANDLE_FILE_INFORMATION bi;
    bool ok = GetFileInformationByHandle(h, &bi);
    DWORD e = GetLastError();
    CloseHandle(h);
    if (!ok)
        return esp01_win_fail(err, e);
    info_from(bi.dwFileAttributes, bi.nFileSizeHigh, bi.nFileSizeLow,
              bi.ftLastWriteTime, false, info);
    return 0;
}

int esp01_os_stat(const char *path, bool follow_links, esp01_os_info *info,
                  esp01_err *err)
{
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return ESP01_E_INVAL;
    WIN32_FILE_ATTRIBUTE_DATA a;
    int rc = 0;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &a))
        rc = esp01_win_fail(err, GetLastError());
    else if (follow_links && (a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
        rc = stat_followed(w, info, err);
    else
        info_from(a.dwFileAttributes, a.nFileSizeHigh, a.nFileSizeLow,
                  a.ftLastWriteTime, !follow_links, info);
    free(w);
    return rc;
}

int esp01_os_mkdir(const char *path, esp01_err *err)
{
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return ESP01_E_INVAL;
    int rc = CreateDirectoryW(w, NULL) ? 0 : esp01_win_fail(err, GetLastError());
    free(w);
    return rc;
}

int esp01_os_remove(const char *path, esp01_err *err)
{
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return ESP01_E_INVAL;
    DWORD attrs = GetFileAttributesW(w);
    bool ok;
    if (attrs == INVALID_FILE_ATTRIBUTES) {
        ok = false;
    } else if (attrs & FILE_ATTRIBUTE_DIRECTORY) {
        ok = RemoveDirectoryW(w);
    } else {
        /* POSIX removes a read-only file; Windows wants the flag off. */
        if (attrs & FILE_ATTRIBUTE_READONLY)
            SetFileAttributesW(w, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY);
        ok = DeleteFileW(w);
    }
    int rc = ok ? 0 : esp01_win_fail(err, GetLastError());
    free(w);
    return rc;
}

static int file_new(HANDLE h, esp01_os_file **out, esp01_err *err)
{
    esp01_os_file *f = malloc(sizeof *f);
    if (!f) {
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    f->h = h;
    *out = f;
    return 0;
}

/* Open for reading, letting others read, write and replace it meanwhile
 * as POSIX does. */
static HANDLE open_shared(const char *path, esp01_err *err)
{
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return INVALID_HANDLE_VALUE;
    DWORD attrs = GetFileAttributesW(w);
    HANDLE h = INVALID_HANDLE_VALUE;
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
        esp01_fail(err, ESP01_E_INVAL, "is a directory");
    else if ((h = CreateFileW(w, GENERIC_READ,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)) ==
             INVALID_HANDLE_VALUE)
        esp01_win_fail(err, GetLastError());
    free(w);
    return h;
}

int esp01_os_open_read(const char *path, esp01_os_file **out, uint64_t *size,
                       esp01_err *err)
{
    *out = NULL;
    esp01_err e2;
    esp01_err *e = err ? err : &e2;
    HANDLE h = open_shared(path, e);
    if (h == INVALID_HANDLE_VALUE)
        return e->code;
    LARGE_INTEGER sz;
    if (!GetFileSizeEx(h, &sz)) {
        int rc = esp01_win_fail(err, GetLastError());
        CloseHandle(h);
        return rc;
    }
    *size = sz.QuadPart > 0 ? (uint64_t)sz.QuadPart : 0;
    return file_new(h, out, err);
}

int esp01_os_read(esp01_os_file *f, void *buf, size_t cap, esp01_err *err)
{
    DWORD got;
    if (cap > 1u << 30)
        cap = 1u << 30;
    if (!ReadFile(f->h, buf, (DWORD)cap, &got, NULL)) {
        DWORD e = GetLastError();
        if (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE)
            return 0;
        return esp01_win_fail(err, e);
    }
    return (int)got;
}

int esp01_os_create_temp(const char *path, char *tmp_path, size_t cap,
                         esp01_os_file **out, esp01_err *err)
{
    *out = NULL;
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        unsigned r = (unsigned)GetCurrentProcessId() * 2654435761u ^
                     (unsigned)GetTickCount64() ^ ++counter * 40503u;
        int n = snprintf(tmp_path, cap, "%s.tmp%06x", path, r & 0xffffffu);
        if (n < 0 || (size_t)n >= cap)
            return esp01_fail(err, ESP01_E_LIMIT, "path too long");
        wchar_t *w = esp01_win_path(tmp_path, err);
        if (!w)
            return ESP01_E_INVAL;
        HANDLE h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE,
                               NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
        DWORD e = GetLastError();
        free(w);
        if (h != INVALID_HANDLE_VALUE)
            return file_new(h, out, err);
        if (e != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS)
            return esp01_win_fail(err, e);
    }
    return esp01_fail(err, ESP01_E_EXISTS, "no free temporary name");
}

int esp01_os_write(esp01_os_file *f, const void *buf, size_t len, esp01_err *err)
{
    const uint8_t *p = buf;
    while (len > 0) {
        DWORD chunk = len > (1u << 30) ? (1u << 30) : (DWORD)len, put;
        if (!WriteFile(f->h, p, chunk, &put, NULL))
            return esp01_win_fail(err, GetLastError());
        p += put;
        len -= put;
    }
    return 0;
}

int esp01_os_close(esp01_os_file *f, esp01_err *err)
{
    if (!f)
        return 0;
    int rc = CloseHandle(f->h) ? 0 : esp01_win_fail(err, GetLastError());
    free(f);
    return rc;
}

int esp01_os_replace(const char *from, const char *to, esp01_err *err)
{
    wchar_t *wf = esp01_win_path(from, err);
    wchar_t *wt = wf ? esp01_win_path(to, err) : NULL;
    int rc = 0;
    if (!wt) {
        rc = ESP01_E_INVAL;
        goto out;
    }
    /* A virus scanner or an indexer may hold the target for a moment;
       another program that keeps it open is a clear error, the old file
       intact. */
    for (int tries = 0;; tries++) {
        if (MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
            break;
        DWORD e = GetLastError();
        if ((e == ERROR_SHARING_VIOLATION || e == ERROR_ACCESS_DENIED ||
             e == ERROR_LOCK_VIOLATION) && tries < 10) {
            Sleep(50);
            continue;
        }
        if (e == ERROR_SHARING_VIOLATION || e == ERROR_LOCK_VIOLATION ||
            (e == ERROR_ACCESS_DENIED && GetFileAttributesW(wt) != INVALID_FILE_ATTRIBUTES &&
             !(GetFileAttributesW(wt) & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_DIRECTORY))))
            rc = esp01_fail(err, ESP01_E_IO, "it is in use by another program");
        else
            rc = esp01_win_fail(err, e);
        break;
    }
out:
    free(wf);
    free(wt);
    return rc;
}

/*
 * Read, not mapped: a view would keep the file from being replaced or
 * removed while it is held, which POSIX allows and callers expect.
 */
int esp01_os_map_file(const char *path, uint64_t max_size, esp01_os_map *map,
                      esp01_err *err)
{
    map->data = NULL;
    map->len = 0;
    esp01_err e2;
    esp01_err *e = err ? err : &e2;
    HANDLE h = open_shared(path, e);
    if (h == INVALID_HANDLE_VALUE)
        return e->code;
    LARGE_INTEGER sz;
    int rc = 0;
    uint8_t *buf = NULL;
    if (!GetFileSizeEx(h, &sz) || GetFileType(h) != FILE_TYPE_DISK) {
        rc = esp01_fail(err, ESP01_E_INVAL, "not a regular file");
    } else if ((uint64_t)sz.QuadPart > max_size || (uint64_t)sz.QuadPart > SIZE_MAX / 2) {
        rc = esp01_fail(err, ESP01_E_LIMIT, "larger than %llu bytes",
                        (unsigned long long)max_size);
    } else if (sz.QuadPart > 0 && !(buf = malloc((size_t)sz.QuadPart))) {
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    } else {
        size_t len = (size_t)sz.QuadPart, got = 0;
        while (got < len) {
            DWORD chunk = len - got > (1u << 30) ? (1u << 30) : (DWORD)(len - got), n;
            if (!ReadFile(h, buf + got, chunk, &n, NULL) || n == 0)
                break;
            got += n;
        }
        if (got < len) {
            free(buf);
            buf = NULL;
            rc = esp01_fail(err, ESP01_E_IO, "the file shrank while being read");
        } else {
            map->data = buf;
            map->len = len;
        }
    }
    CloseHandle(h);
    return rc;
}

void esp01_os_unmap(esp01_os_map *map)
{
    free((void *)map->data);
    map->data = NULL;
    map->len = 0;
}
