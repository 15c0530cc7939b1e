/* TCP connections on POSIX (BSD sockets): os.h. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp01/port.h"
#include "os/posix/sys.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

struct esp01_os_tcp {
    int fd;
};

struct esp01_os_addrs {
    struct addrinfo *list;
};

static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *fd_out,
                       int *why)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        *why = errno;
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
#ifdef SO_NOSIGPIPE
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        *why = errno;
        close(fd);
        return -1;
    }
    for (;;) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        int wait = (int)esp01_os_wait_ms(deadline);
        int r = wait ? poll(&pfd, 1, wait) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *why = r == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        break;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        *why = soerr ? soerr : errno;
        close(fd);
        return -1;
    }
    /* Keystrokes and raw REPL control bytes go out at once. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd_out = fd;
    return 0;
}

int esp01_posix_resolve_plain(const char *host, uint16_t port, struct addrinfo **res,
                              esp01_err *err)
{
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, service, &hints, res);
    if (rc != 0)
        return esp01_fail(err, ESP01_E_NOTFOUND, "%s", gai_strerror(rc));
    return 0;
}

int esp01_os_tcp_lookup(const char *host, uint16_t port, uint64_t deadline_ms,
                        esp01_os_addrs **out, esp01_err *err)
{
    *out = NULL;
    esp01_os_addrs *a = malloc(sizeof *a);
    if (!a)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    int rc = esp01_posix_resolve(host, port, &a->list, deadline_ms, err);
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
        freeaddrinfo(addrs->list);
        free(addrs);
    }
}

int esp01_os_tcp_connect(const esp01_os_addrs *addrs, uint64_t deadline_ms,
                         esp01_os_tcp **out, esp01_err *err)
{
    *out = NULL;
    esp01_os_tcp *s = malloc(sizeof *s);
    if (!s)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    s->fd = -1;
    int why = 0;
    for (const struct addrinfo *ai = addrs->list; ai; ai = ai->ai_next)
        if (connect_one(ai, deadline_ms, &s->fd, &why) == 0)
            break;
    if (s->fd >= 0) {
        *out = s;
        return 0;
    }
    free(s);
    if (why == ETIMEDOUT)
        return esp01_fail(err, ESP01_E_TIMEOUT, "%s", strerror(why));
    if (why == ECONNREFUSED)
        return esp01_fail(err, ESP01_E_EXISTS, "%s", strerror(why));
    return esp01_fail(err, ESP01_E_IO, "%s", strerror(why));
}

static bool again(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Wait for `events` on the socket until the deadline; false when it passed. */
static int wait_for(esp01_os_tcp *s, short events, uint64_t deadline_ms, esp01_err *err)
{
    int wait = (int)esp01_os_wait_ms(deadline_ms);
    if (wait == 0)
        return ESP01_E_TIMEOUT;
    struct pollfd pfd = {s->fd, events, 0};
    if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    return 0;
}

int esp01_os_tcp_send(esp01_os_tcp *s, const void *buf, size_t len,
                      uint64_t deadline_ms, esp01_err *err)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(s->fd, p + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && !again(errno))
            return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
        int rc = wait_for(s, POLLOUT, deadline_ms, err);
        if (rc == ESP01_E_TIMEOUT)
            return esp01_fail(err, rc, "the peer takes no more data");
        if (rc < 0)
            return rc;
    }
    return 0;
}

int esp01_os_tcp_recv(esp01_os_tcp *s, void *buf, size_t cap, uint64_t deadline_ms,
                      esp01_err *err)
{
    if (cap > 1u << 30)
        cap = 1u << 30;
    for (;;) {
        ssize_t n = recv(s->fd, buf, cap, 0);
        if (n >= 0)
            return (int)n;
        if (!again(errno))
            return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
        int rc = wait_for(s, POLLIN, deadline_ms, err);
        if (rc == ESP01_E_TIMEOUT)
            return esp01_fail(err, rc, "nothing arrived");
        if (rc < 0)
            return rc;
    }
}

void esp01_os_tcp_shutdown_send(esp01_os_tcp *s)
{
    if (s)
        shutdown(s->fd, SHUT_WR);
}

void esp01_os_tcp_close(esp01_os_tcp *s)
{
    if (s) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
    }
}
