/*
 * sys_linux.c - Linux's side of sys.h: st_mtim, /proc/self/exe,
 * libcurl.so.4 from a package, and glibc's getaddrinfo_a, a name lookup
 * that can be given up on.
 */
#define _GNU_SOURCE /* getaddrinfo_a */
#include "os/posix/sys.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp01/port.h"
#include "os/os.h"

const char esp01_posix_curl_lib[] = "libcurl.so.4";
const char esp01_posix_curl_missing[] =
    "libcurl is not installed (Debian package libcurl4): cannot download";

uint64_t esp01_posix_mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

bool esp01_os_self_exe(char *out, size_t cap)
{
    if (cap < 2)
        return false;
    ssize_t len = readlink("/proc/self/exe", out, cap - 1);
    if (len <= 0)
        return false;
    out[len] = '\0';
    return true;
}

#ifdef __GLIBC__
/* Resolve `host` before the deadline (getaddrinfo alone cannot be bounded). */
int esp01_posix_resolve(const char *host, uint16_t port, struct addrinfo **res,
                        uint64_t deadline, esp01_err *err)
{
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    /* Static: if the lookup outlives its deadline it may still write here. */
    static struct addrinfo hints;
    static struct gaicb req;
    static char hostbuf[256], servbuf[8];
    static bool used;
    if (used && gai_error(&req) == EAI_INPROGRESS)
        return esp01_fail(err, ESP01_E_TIMEOUT, "an earlier name lookup is still running");
    used = true;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(hostbuf, sizeof hostbuf, "%s", host);
    memcpy(servbuf, service, sizeof servbuf);
    memset(&req, 0, sizeof req);
    req.ar_name = hostbuf;
    req.ar_service = servbuf;
    req.ar_request = &hints;
    struct gaicb *list[1] = {&req};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0)
        return esp01_fail(err, ESP01_E_IO, "the name lookup did not start");
    for (;;) {
        int rc = gai_error(&req);
        if (rc == 0) {
            *res = req.ar_result;
            return 0;
        }
        if (rc != EAI_INPROGRESS)
            return esp01_fail(err, ESP01_E_NOTFOUND, "%s", gai_strerror(rc));
        int wait = (int)esp01_os_wait_ms(deadline);
        if (wait == 0) {
            gai_cancel(&req);
            return esp01_fail(err, ESP01_E_TIMEOUT, "the name lookup took too long");
        }
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
        const struct gaicb *wl[1] = {&req};
        gai_suspend(wl, 1, &ts);
    }
}
#else
/* musl and other C libraries: getaddrinfo, unbounded (sys.h). */
int esp01_posix_resolve(const char *host, uint16_t port, struct addrinfo **res,
                        uint64_t deadline_ms, esp01_err *err)
{
    (void)deadline_ms;
    return esp01_posix_resolve_plain(host, port, res, err);
}
#endif
