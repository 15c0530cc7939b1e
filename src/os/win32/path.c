/*
 * Folder listing, file locks and the paths of os.h on Windows: temporary
 * folders, full paths, the running program, what may be run, the cache
 * folder.
 */
#include "os/os.h"

#include "os/win32/win.h"

#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest path handed out (Windows' own limit with the \\?\ prefix). */
#define WIN_PATH_MAX 32768

struct esp01_os_dir {
    HANDLE find;
    bool pending;   /* data holds an entry not yet handed out */
    WIN32_FIND_DATAW data;
    char name[MAX_PATH * 3 + 1];
};

int esp01_os_dir_open(const char *path, esp01_os_dir **out, esp01_err *err)
{
    *out = NULL;
    esp01_os_info info;
    int rc = esp01_os_stat(path, true, &info, err);
    if (rc < 0)
        return rc;
    if (info.type != ESP01_OS_DIRECTORY)
        return esp01_fail(err, ESP01_E_IO, "Not a directory");
    size_t len = strlen(path);
    char *pattern = malloc(len + 3);
    esp01_os_dir *d = calloc(1, sizeof *d);
    wchar_t *w = NULL;
    if (!pattern || !d) {
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(pattern, path, len);
    bool sep = len > 0 && (path[len - 1] == '/' || path[len - 1] == '\\');
    strcpy(pattern + len, sep ? "*" : "/*");
    if (!(w = esp01_win_path(pattern, err))) {
        rc = ESP01_E_INVAL;
        goto fail;
    }
    d->find = FindFirstFileExW(w, FindExInfoBasic, &d->data, FindExSearchNameMatch,
                               NULL, 0);
    if (d->find == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        /* A drive's empty root has not even "." and "..". */
        if (e != ERROR_FILE_NOT_FOUND) {
            rc = esp01_win_fail(err, e);
            goto fail;
        }
    } else {
        d->pending = true;
    }
    free(pattern);
    free(w);
    *out = d;
    return 0;
fail:
    free(pattern);
    free(w);
    free(d);
    return rc;
}

const char *esp01_os_dir_next(esp01_os_dir *d)
{
    while (d->find != INVALID_HANDLE_VALUE) {
        if (!d->pending && !FindNextFileW(d->find, &d->data))
            return NULL;
        d->pending = false;
        const wchar_t *n = d->data.cFileName;
        if (wcscmp(n, L".") == 0 || wcscmp(n, L"..") == 0)
            continue;
        return esp01_win_utf8(n, d->name, sizeof d->name);
    }
    return NULL;
}

void esp01_os_dir_close(esp01_os_dir *d)
{
    if (d) {
        if (d->find != INVALID_HANDLE_VALUE)
            FindClose(d->find);
        free(d);
    }
}

int esp01_os_lock_file(const char *path, esp01_err *err)
{
    wchar_t *w = esp01_win_path(path, err);
    if (!w)
        return ESP01_E_INVAL;
    HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return esp01_win_fail(err, GetLastError());
    OVERLAPPED ov = {0};
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK, 0, MAXDWORD, MAXDWORD, &ov)) {
        int rc = esp01_win_fail(err, GetLastError());
        CloseHandle(h);
        return rc;
    }
    /* A C runtime descriptor is the int handle os.h promises; closing it
       closes the file, which ends the lock. */
    int fd = _open_osfhandle((intptr_t)h, 0);
    if (fd < 0) {
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_IO, "no file descriptor left");
    }
    return fd;
}

void esp01_os_unlock_file(int handle)
{
    if (handle >= 0)
        _close(handle);
}

/* An environment variable in UTF-8; false when unset or empty. */
static bool env_utf8(const wchar_t *name, char *out, size_t cap)
{
    wchar_t buf[WIN_PATH_MAX];
    DWORD n = GetEnvironmentVariableW(name, buf, WIN_PATH_MAX);
    if (n == 0 || n >= WIN_PATH_MAX)
        return false;
    return esp01_win_path_utf8(buf, out, cap);
}

int esp01_os_make_temp_dir(const char *prefix, char *out, size_t cap, esp01_err *err)
{
    char base[WIN_PATH_MAX];
    wchar_t wtmp[MAX_PATH + 1];
    if (!env_utf8(L"TMPDIR", base, sizeof base)) {
        DWORD n = GetTempPathW(MAX_PATH + 1, wtmp);
        if (n == 0 || n > MAX_PATH || !esp01_win_path_utf8(wtmp, base, sizeof base))
            return esp01_fail(err, ESP01_E_NOTFOUND, "no temporary folder");
    }
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        base[--blen] = '\0';
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        unsigned r = (unsigned)GetCurrentProcessId() * 2654435761u ^
                     (unsigned)GetTickCount64() ^ ++counter * 40503u;
        int n = snprintf(out, cap, "%s/%s.%06x", base, prefix, r & 0xffffffu);
        if (n < 0 || (size_t)n >= cap)
            return esp01_fail(err, ESP01_E_LIMIT, "path too long");
        int rc = esp01_os_mkdir(out, err);
        if (rc != ESP01_E_EXISTS)
            return rc;
    }
    return esp01_fail(err, ESP01_E_EXISTS, "no free temporary name");
}

/* The full path; unlike POSIX realpath() links are not resolved (the
 * callers compare paths and find files next to the program). */
bool esp01_os_realpath(const char *path, char *out, size_t cap)
{
    wchar_t *w = esp01_win_path(path, NULL);
    if (!w)
        return false;
    bool ok = false;
    DWORD need = GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES
                     ? GetFullPathNameW(w, 0, NULL, NULL) : 0;
    wchar_t *full = need ? malloc((size_t)need * sizeof *full) : NULL;
    if (full) {
        DWORD got = GetFullPathNameW(w, need, full, NULL);
        ok = got > 0 && got < need && esp01_win_path_utf8(full, out, cap);
        free(full);
    }
    free(w);
    return ok;
}

bool esp01_os_self_exe(char *out, size_t cap)
{
    static wchar_t buf[WIN_PATH_MAX];
    DWORD n = GetModuleFileNameW(NULL, buf, WIN_PATH_MAX);
    return n > 0 && n < WIN_PATH_MAX && esp01_win_path_utf8(buf, out, cap);
}

/* Windows has no numeric groups on serial ports (serialports.h). */
bool esp01_os_group_name(unsigned gid, char *out, size_t cap)
{
    (void)gid;
    (void)out;
    (void)cap;
    return false;
}

/*
 * A file Windows runs by its name: a program or a script of cmd.exe.  A
 * name without one of those endings is also tried with ".exe", as
 * CreateProcess and the shell do when looking along %PATH%.
 */
bool esp01_os_is_executable(const char *path)
{
    static const char *const runnable[] = {".exe", ".com", ".bat", ".cmd"};
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/'), *bslash = strrchr(path, '\\');
    if (bslash > slash)
        slash = bslash;
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof runnable / sizeof runnable[0]; i++)
            if (_stricmp(dot, runnable[i]) == 0)
                return esp01_os_is_file(path);
    size_t len = strlen(path);
    char *exe = malloc(len + 5);
    if (!exe)
        return false;
    memcpy(exe, path, len);
    memcpy(exe + len, ".exe", 5);
    bool ok = esp01_os_is_file(exe);
    free(exe);
    return ok;
}

char esp01_os_path_list_sep(void)
{
    return ';';
}

int esp01_os_cache_dir(char *out, size_t cap, esp01_err *err)
{
    char base[WIN_PATH_MAX];
    if (!env_utf8(L"LOCALAPPDATA", base, sizeof base))
        return esp01_fail(err, ESP01_E_NOTFOUND, "LOCALAPPDATA");
    int n = snprintf(out, cap, "%s/esp01", base);
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "path too long");
    return 0;
}
