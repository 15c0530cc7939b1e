/*
 * sys_macos.c - macOS's side of sys.h: st_mtimespec, dyld's
 * _NSGetExecutablePath, the system's libcurl, and plain getaddrinfo.
 */
#include "os/posix/sys.h"

#include <mach-o/dyld.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "os/os.h"

/* Part of macOS, in /usr/lib. */
const char esp01_posix_curl_lib[] = "libcurl.4.dylib";
const char esp01_posix_curl_missing[] = "libcurl.4.dylib is not there: cannot download";

uint64_t esp01_posix_mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtimespec.tv_sec * 1000000000u +
           (uint64_t)st->st_mtimespec.tv_nsec;
}

bool esp01_os_self_exe(char *out, size_t cap)
{
    uint32_t size = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    return _NSGetExecutablePath(out, &size) == 0;
}

/* Unbounded by the deadline (sys.h). */
int esp01_posix_resolve(const char *host, uint16_t port, struct addrinfo **res,
                        uint64_t deadline_ms, esp01_err *err)
{
    (void)deadline_ms;
    return esp01_posix_resolve_plain(host, port, res, err);
}
