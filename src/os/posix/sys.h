/*
 * sys.h - what Linux and macOS spell differently beneath files and
 * sockets (sys_linux.c, sys_macos.c; the Makefile picks one by uname -s).
 * esp01_os_self_exe() of os.h is in the same two files.
 */
#ifndef ESP01_OS_POSIX_SYS_H
#define ESP01_OS_POSIX_SYS_H

#include <stdint.h>
#include <sys/stat.h>

#include "esp01/esp01.h"

struct addrinfo;

/* A stat's modification time in nanoseconds since 1970. */
uint64_t esp01_posix_mtime_ns(const struct stat *st);

/*
 * The addresses of host:port (any family, stream sockets) into *res, to
 * be freed with freeaddrinfo.  glibc's lookup gives up at deadline_ms
 * (ESP01_E_TIMEOUT); elsewhere getaddrinfo cannot be bounded, and a
 * numeric address (the usual case for a board) needs no lookup at all.
 * ESP01_E_NOTFOUND when the name has no address.
 */
int esp01_posix_resolve(const char *host, uint16_t port, struct addrinfo **res,
                        uint64_t deadline_ms, esp01_err *err);
/* The same through plain getaddrinfo, unbounded (tcp.c): what the systems
 * without a bounded lookup use. */
int esp01_posix_resolve_plain(const char *host, uint16_t port, struct addrinfo **res,
                              esp01_err *err);

/* The name dlopen() finds libcurl by (http.c), and what to say when it is
 * not there. */
extern const char esp01_posix_curl_lib[];
extern const char esp01_posix_curl_missing[];

#endif
