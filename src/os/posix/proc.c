/* Child processes, parallel jobs and Ctrl-C on POSIX: os.h. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esp01/port.h"

struct esp01_os_child {
    pid_t pid;
    int fd; /* its stdout+stderr; -1 once it ended */
};

unsigned long esp01_os_pid(void)
{
    return (unsigned long)getpid();
}

int esp01_os_spawn(char *const argv[], esp01_os_child **out, esp01_err *err)
{
    *out = NULL;
    esp01_os_child *c = malloc(sizeof *c);
    if (!c)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    int fds[2];
    if (pipe(fds) < 0) {
        int e = errno;
        free(c);
        return esp01_fail(err, ESP01_E_IO, "pipe: %s", strerror(e));
    }
    /* What this process has buffered must not come out twice. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        /* 127 as a shell would: the parent reports it as "cannot run". */
        _exit(127);
    }
    int e = errno;
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        free(c);
        return esp01_fail(err, ESP01_E_IO, "fork: %s", strerror(e));
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    c->pid = pid;
    c->fd = fds[0];
    *out = c;
    return 0;
}

int esp01_os_child_poll(esp01_os_child *const *children, size_t n, int timeout_ms,
                        bool *ready, esp01_err *err)
{
    struct pollfd stack[64];
    struct pollfd *p = n <= 64 ? stack : calloc(n, sizeof *p);
    if (!p)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        p[i].fd = children[i] ? children[i]->fd : -1;
        p[i].events = POLLIN;
        p[i].revents = 0;
        ready[i] = false;
    }
    int r = poll(p, (nfds_t)n, timeout_ms);
    int e = errno;
    int count = 0;
    for (size_t i = 0; r > 0 && i < n; i++)
        if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            ready[i] = true;
            count++;
        }
    if (p != stack)
        free(p);
    if (r < 0 && e != EINTR)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(e));
    return count;
}

int esp01_os_child_read(esp01_os_child *c, void *buf, size_t cap,
                        uint64_t deadline_ms, esp01_err *err)
{
    if (c->fd < 0)
        return 0;
    for (;;) {
        uint64_t now = esp01_now_ms();
        uint64_t left = deadline_ms > now ? deadline_ms - now : 0;
        struct pollfd p = {c->fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
        if (r == 0 && left == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT, "no output");
        if (r <= 0)
            continue;
        ssize_t n = read(c->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(c->fd);
            c->fd = -1;
            return 0;
        }
        return (int)n;
    }
}

void esp01_os_child_kill(esp01_os_child *c)
{
    if (c)
        kill(c->pid, SIGKILL);
}

int esp01_os_child_wait(esp01_os_child *c)
{
    if (c->fd >= 0)
        close(c->fd);
    int st = 0;
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
        ;
    free(c);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One job in a child process: its slot comes back through a pipe. */
static int start_job(size_t i, void (*job)(size_t, void *, void *), void *arg,
                     void *slot, size_t slot_size, pid_t *pid)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    fflush(NULL);
    *pid = fork();
    if (*pid == 0) {
        close(pfd[0]);
        job(i, slot, arg);
        const uint8_t *p = slot;
        size_t done = 0;
        while (done < slot_size) {
            ssize_t w = write(pfd[1], p + done, slot_size - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    if (*pid < 0) {
        close(pfd[0]);
        return -1;
    }
    return pfd[0];
}

void esp01_os_run_parallel(size_t n, void (*job)(size_t i, void *slot, void *arg),
                           void *arg, void *results, size_t slot_size)
{
    pid_t *pids = calloc(n ? n : 1, sizeof *pids);
    int *fds = calloc(n ? n : 1, sizeof *fds);
    uint8_t *tmp = malloc(slot_size ? slot_size : 1);
    uint8_t *base = results;
    for (size_t i = 0; i < n; i++) {
        if (fds)
            fds[i] = -1;
        if (pids && fds && tmp)
            fds[i] = start_job(i, job, arg, base + i * slot_size, slot_size, &pids[i]);
    }
    for (size_t i = 0; tmp && fds && i < n; i++) {
        if (fds[i] < 0)
            continue;
        size_t got = 0;
        while (got < slot_size) {
            ssize_t r = read(fds[i], tmp + got, slot_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got == slot_size)
            memcpy(base + i * slot_size, tmp, slot_size);
        close(fds[i]);
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(tmp);
    free(pids);
    free(fds);
}

static volatile sig_atomic_t *interrupt_flag;

static void on_signal(int sig)
{
    (void)sig;
    volatile sig_atomic_t *f = interrupt_flag;
    if (f)
        *f = 1;
}

static void catch(int sig, bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

volatile sig_atomic_t *esp01_os_catch_interrupt(volatile sig_atomic_t *flag)
{
    volatile sig_atomic_t *old = interrupt_flag;
    interrupt_flag = flag;
    catch(SIGINT, flag != NULL);
    return old;
}

void esp01_os_catch_stop(volatile sig_atomic_t *flag)
{
    esp01_os_catch_interrupt(flag);
    catch(SIGTERM, flag != NULL);
    catch(SIGHUP, flag != NULL);
}
