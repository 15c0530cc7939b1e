/*
 * TCP connections on Windows (Winsock 2): os.h.
 *
 * Why it is done this way:
 *   - Winsock needs WSAStartup() before the first call; it is done once,
 *     on first use (InitOnce), and never undone: the process's end does.
 *   - GetAddrInfoW cannot be bounded by a deadline (GetAddrInfoExW's
 *     timeout needs Windows 8 and an overlapped call), so the lookup runs
 *     on a thread of its own that the caller waits for until the
 *     deadline; one that takes longer is left to finish and clean up
 *     after itself.  A numeric address, the usual case for a board, is
 *     answered at once.
 *   - Sockets are non-blocking and waited on with select(), which takes
 *     a timeout; a failed non-blocking connect shows in the "except" set
 *     on Windows, not the writable one.  Windows retries a refused
 *     connection a few times before it reports it (about two seconds,
 *     against an immediate answer on Linux).
 *   - Errors carry the same codes and, for the usual ones, the same texts
 *     as the POSIX backend's strerror() ("Connection refused"), so the
 *     tool's messages and the tests that read them do not depend on the
 *     system.
 */
#include "os/os.h"

#include <winsock2.h>
#include <ws2tcpip.h>

#include <process.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/port.h"
#include "os/win32/win.h"

struct esp01_os_tcp {
    SOCKET fd;
};

struct esp01_os_addrs {
    ADDRINFOW *list;
};

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_rc;

static BOOL CALLBACK wsa_init(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    WSADATA data;
    wsa_rc = WSAStartup(MAKEWORD(2, 2), &data);
    return TRUE;
}

static int startup(esp01_err *err)
{
    InitOnceExecuteOnce(&wsa_once, wsa_init, NULL, NULL);
    if (wsa_rc != 0) {
        char why[256];
        return esp01_fail(err, ESP01_E_IO, "%s",
                          esp01_win_strerror((DWORD)wsa_rc, NULL, why, sizeof why));
    }
    return 0;
}

/* The POSIX backend's words for the usual socket errors. */
static const char *why(int e, char *buf, size_t cap)
{
    switch (e) {
    case WSAECONNREFUSED: return "Connection refused";
    case WSAETIMEDOUT: return "Connection timed out";
    case WSAENETUNREACH: return "Network is unreachable";
    case WSAEHOSTUNREACH: return "No route to host";
    case WSAECONNRESET: return "Connection reset by peer";
    case WSAECONNABORTED: return "Software caused connection abort";
    case WSAEADDRNOTAVAIL: return "Cannot assign requested address";
    case WSAENETDOWN: return "Network is down";
    case WSAHOST_NOT_FOUND: return "Name or service not known";
    case WSATRY_AGAIN: return "Temporary failure in name resolution";
    case WSANO_DATA: return "No address associated with hostname";
    default: return esp01_win_strerror((DWORD)e, NULL, buf, cap);
    }
}

static int sock_fail(esp01_err *err, int code, int e)
{
    char buf[256];
    return esp01_fail(err, code, "%s", why(e, buf, sizeof buf));
}

/* A lookup shared by the caller and its thread; the last to let go frees it. */
struct lookup {
    volatile LONG refs;
    wchar_t *host;
    wchar_t service[8];
    ADDRINFOW *res;
    int rc;
};

static void lookup_release(struct lookup *l)
{
    if (InterlockedDecrement(&l->refs) == 0) {
        if (l->res)
            FreeAddrInfoW(l->res);
        free(l->host);
        free(l);
    }
}

static unsigned __stdcall lookup_main(void *p)
{
    struct lookup *l = p;
    ADDRINFOW hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    l->rc = GetAddrInfoW(l->host, l->service, &hints, &l->res);
    lookup_release(l);
    return 0;
}

static int resolve(const char *host, uint16_t port, uint64_t deadline, ADDRINFOW **res,
                   esp01_err *err)
{
    struct lookup *l = calloc(1, sizeof *l);
    if (!l)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    l->host = esp01_win_wide(host);
    if (!l->host) {
        free(l);
        return esp01_fail(err, ESP01_E_NOTFOUND, "the host name is not valid UTF-8");
    }
    swprintf(l->service, 8, L"%u", (unsigned)port);
    l->refs = 2;
    HANDLE t = (HANDLE)_beginthreadex(NULL, 0, lookup_main, l, 0, NULL);
    if (!t) {
        free(l->host);
        free(l);
        return esp01_fail(err, ESP01_E_IO, "the name lookup did not start");
    }
    DWORD w = WaitForSingleObject(t, esp01_os_wait_ms(deadline));
    CloseHandle(t);
    if (w != WAIT_OBJECT_0) {
        lookup_release(l);
        return esp01_fail(err, ESP01_E_TIMEOUT, "the name lookup took too long");
    }
    int rc = l->rc;
    *res = rc == 0 ? l->res : NULL;
    l->res = rc == 0 ? NULL : l->res;
    lookup_release(l);
    if (rc != 0)
        return sock_fail(err, ESP01_E_NOTFOUND, rc);
    return 0;
}

int esp01_os_tcp_lookup(const char *host, uint16_t port, uint64_t deadline_ms,
                        esp01_os_addrs **out, esp01_err *err)
{
    *out = NULL;
    int rc = startup(err);
    if (rc < 0)
        return rc;
    esp01_os_addrs *a = malloc(sizeof *a);
    if (!a)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    rc = resolve(host, port, deadline_ms, &a->list, err);
    if (rc < 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void esp01_os_tcp_free(esp01_os_addrs *addrs)
{
    if (addrs) {
        if (addrs->list)
            FreeAddrInfoW(addrs->list);
        free(addrs);
    }
}

/* Wait until fd can be read (or written: also a connect that ended);
 * 0, WSAETIMEDOUT or the error.  select() waits a minute at most, so a
 * later deadline is waited for in steps. */
static int wait_for(SOCKET fd, bool write, uint64_t deadline_ms)
{
    for (;;) {
        long left = (long)esp01_os_wait_ms(deadline_ms);
        if (left == 0)
            return WSAETIMEDOUT;
        fd_set rw, ex;
        FD_ZERO(&rw);
        FD_ZERO(&ex);
        FD_SET(fd, &rw);
        FD_SET(fd, &ex);
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        /* A failed connect shows in the except set. */
        int r = select(0, write ? NULL : &rw, write ? &rw : NULL, write ? &ex : NULL, &tv);
        if (r == SOCKET_ERROR)
            return WSAGetLastError();
        if (r == 0)
            continue;
        if (write && FD_ISSET(fd, &ex)) {
            int soerr = 0;
            int sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl);
            return soerr ? soerr : WSAECONNRESET;
        }
        return 0;
    }
}

static int connect_one(const ADDRINFOW *ai, uint64_t deadline, SOCKET *out, int *e)
{
    SOCKET fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd == INVALID_SOCKET) {
        *e = WSAGetLastError();
        return -1;
    }
    /* Children started later must not keep the connection open. */
    SetHandleInformation((HANDLE)fd, HANDLE_FLAG_INHERIT, 0);
    u_long on = 1;
    ioctlsocket(fd, FIONBIO, &on);
    if (connect(fd, ai->ai_addr, (int)ai->ai_addrlen) == SOCKET_ERROR) {
        *e = WSAGetLastError();
        if (*e == WSAEWOULDBLOCK)
            *e = wait_for(fd, true, deadline);
        if (*e) {
            closesocket(fd);
            return -1;
        }
    }
    /* Keystrokes and raw REPL control bytes go out at once. */
    BOOL nodelay = TRUE;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&nodelay, sizeof nodelay);
    *out = fd;
    return 0;
}

int esp01_os_tcp_connect(const esp01_os_addrs *addrs, uint64_t deadline_ms,
                         esp01_os_tcp **out, esp01_err *err)
{
    *out = NULL;
    int rc = startup(err);
    if (rc < 0)
        return rc;
    esp01_os_tcp *s = malloc(sizeof *s);
    if (!s)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    s->fd = INVALID_SOCKET;
    int e = WSAEHOSTUNREACH;
    for (const ADDRINFOW *ai = addrs->list; ai; ai = ai->ai_next)
        if (connect_one(ai, deadline_ms, &s->fd, &e) == 0)
            break;
    if (s->fd != INVALID_SOCKET) {
        *out = s;
        return 0;
    }
    free(s);
    if (e == WSAETIMEDOUT)
        return sock_fail(err, ESP01_E_TIMEOUT, e);
    if (e == WSAECONNREFUSED)
        return sock_fail(err, ESP01_E_EXISTS, e);
    return sock_fail(err, ESP01_E_IO, e);
}

int esp01_os_tcp_send(esp01_os_tcp *s, const void *buf, size_t len,
                      uint64_t deadline_ms, esp01_err *err)
{
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < (1u << 30) ? len - done : (1u << 30);
        int n = send(s->fd, p + done, (int)chunk, 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        int e = WSAGetLastError();
        if (n == SOCKET_ERROR && e != WSAEWOULDBLOCK && e != WSAEINTR)
            return sock_fail(err, ESP01_E_IO, e);
        e = wait_for(s->fd, true, deadline_ms);
        if (e == WSAETIMEDOUT)
            return esp01_fail(err, ESP01_E_TIMEOUT, "the peer takes no more data");
        if (e)
            return sock_fail(err, ESP01_E_IO, e);
    }
    return 0;
}

int esp01_os_tcp_recv(esp01_os_tcp *s, void *buf, size_t cap, uint64_t deadline_ms,
                      esp01_err *err)
{
    if (cap > 1u << 30)
        cap = 1u << 30;
    for (;;) {
        int n = recv(s->fd, buf, (int)cap, 0);
        if (n >= 0)
            return n;
        int e = WSAGetLastError();
        if (e != WSAEWOULDBLOCK && e != WSAEINTR)
            return sock_fail(err, ESP01_E_IO, e);
        e = wait_for(s->fd, false, deadline_ms);
        if (e == WSAETIMEDOUT)
            return esp01_fail(err, ESP01_E_TIMEOUT, "nothing arrived");
        if (e)
            return sock_fail(err, ESP01_E_IO, e);
    }
}

void esp01_os_tcp_shutdown_send(esp01_os_tcp *s)
{
    if (s)
        shutdown(s->fd, SD_SEND);
}

void esp01_os_tcp_close(esp01_os_tcp *s)
{
    if (s) {
        if (s->fd != INVALID_SOCKET)
            closesocket(s->fd);
        free(s);
    }
}
