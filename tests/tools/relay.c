/*
 * relay - a slow serial link between the host and a device program.
 *
 *   relay --link PATH [--baud N] [--rx-buffer N] [--cut-after N]
 *         [--garbage-after N] [--stats FILE] -- PROGRAM ARGS...
 *
 * PROGRAM (a MicroPython peer, or fake_repl) runs on its own pty; the host
 * side is another pty whose slave is symlinked at PATH.  Bytes cross at
 * most at --baud (10 bits per byte, default 115200) in each direction.
 *
 * --rx-buffer N models the ESP8266's UART input: bytes the device program
 * has not read yet (what sits in its pty) count against N, and bytes
 * arriving at a full buffer are dropped, as the chip drops them.
 * --cut-after N pulls the cable after N host->device bytes: nothing
 * passes either way until SIGUSR1 plugs it back; SIGUSR2 pulls it 3000
 * bytes later.  --garbage-after N
 * injects 48 bytes of noise into the device->host stream once, after N
 * bytes.  --drop-one-in N loses each host->device byte with probability
 * 1/N (seeded, so runs repeat).  --stats FILE gets "dropped=N passed=N" when the relay exits
 * (SIGTERM, or PROGRAM exiting).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX (1u << 20)

struct queue {
    unsigned char *buf;
    size_t len;
    double busy_until; /* when the wire finishes the bytes already sent */
};

static volatile sig_atomic_t stop, plug_in, cut_soon;
static void on_term(int s) { (void)s; stop = 1; }
static void on_usr1(int s) { (void)s; plug_in = 1; }
static void on_usr2(int s) { (void)s; cut_soon = 1; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static void push(struct queue *q, const unsigned char *b, size_t n, double t)
{
    /* An idle line starts sending now; a busy one keeps its schedule. */
    if (q->len == 0 && q->busy_until < t)
        q->busy_until = t;
    if (q->len + n > QUEUE_MAX)
        n = QUEUE_MAX - q->len;
    memcpy(q->buf + q->len, b, n);
    q->len += n;
}

/* Bytes of the queue the wire has carried by time t. */
static size_t due_bytes(const struct queue *q, double t, double rate)
{
    if (!q->len || t <= q->busy_until)
        return 0;
    double n = (t - q->busy_until) * rate;
    return n >= (double)q->len ? q->len : (size_t)n;
}

static void pop(struct queue *q, size_t n)
{
    memmove(q->buf, q->buf + n, q->len - n);
    q->len -= n;
}

int main(int argc, char **argv)
{
    const char *link = NULL, *stats = NULL;
    long baud = 115200, rxbuf = 0, cut_after = -1, garbage_after = -1;
    long drop_one_in = 0;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            break;
        if (!strcmp(argv[i], "--link"))
            link = argv[++i];
        else if (!strcmp(argv[i], "--baud"))
            baud = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rx-buffer"))
            rxbuf = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cut-after"))
            cut_after = atol(argv[++i]);
        else if (!strcmp(argv[i], "--garbage-after"))
            garbage_after = atol(argv[++i]);
        else if (!strcmp(argv[i], "--drop-one-in"))
            drop_one_in = atol(argv[++i]);
        else if (!strcmp(argv[i], "--stats"))
            stats = argv[++i];
        else
            break;
    }
    if (!link || i >= argc || baud < 300) {
        fprintf(stderr, "usage: relay --link PATH [--baud N] [--rx-buffer N] "
                        "[--cut-after N] [--garbage-after N] [--drop-one-in N] [--stats FILE] "
                        "-- PROGRAM ARGS...\n");
        return 2;
    }
    int host_m, host_s, dev_m, dev_s;
    char host_name[128];
    if (openpty(&host_m, &host_s, host_name, NULL, NULL) < 0 ||
        openpty(&dev_m, &dev_s, NULL, NULL, NULL) < 0) {
        perror("relay: openpty");
        return 1;
    }
    set_raw(host_s);
    set_raw(dev_s);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        dup2(dev_s, 0);
        dup2(dev_s, 1);
        close(host_m);
        close(host_s);
        close(dev_m);
        close(dev_s);
        execvp(argv[i], argv + i);
        perror("relay: exec");
        _exit(127);
    }
    /* The relay keeps both slaves open: the host may come and go, and the
     * device slave tells how much the program has not read (FIONREAD). */
    fcntl(host_m, F_SETFL, O_NONBLOCK);
    fcntl(dev_m, F_SETFL, O_NONBLOCK);
    unlink(link);
    if (symlink(host_name, link) < 0) {
        perror("relay: symlink");
        kill(child, SIGTERM);
        return 1;
    }
    srand(1);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    signal(SIGPIPE, SIG_IGN);

    struct queue up = {malloc(QUEUE_MAX), 0, 0.0}, down = {malloc(QUEUE_MAX), 0, 0.0};
    double rate = (double)baud / 10.0;
    unsigned long long dropped = 0, passed = 0, to_host = 0;
    bool cut = false, garbage_done = false;
    unsigned char buf[4096];
    while (!stop) {
        struct pollfd p[2] = {{host_m, POLLIN, 0}, {dev_m, POLLIN, 0}};
        poll(p, 2, up.len || down.len ? 1 : 20);
        if (plug_in) {
            plug_in = 0;
            cut = false;
            cut_after = -1;
        }
        if (cut_soon) {
            cut_soon = 0;
            cut_after = (long)passed + 3000;
        }
        ssize_t n = read(host_m, buf, sizeof buf);
        if (n > 0 && !cut)
            push(&up, buf, (size_t)n, now_s());
        n = read(dev_m, buf, sizeof buf);
        if (n > 0 && !cut)
            push(&down, buf, (size_t)n, now_s());
        else if (n < 0 && errno == EIO)
            break; /* the device program is gone */

        double t = now_s();
        size_t k = due_bytes(&up, t, rate);
        if (k) {
            if (cut_after >= 0 && passed + k > (unsigned long long)cut_after) {
                k = (size_t)(cut_after - (long)passed);
                cut = true;
            }
            size_t room = k;
            if (rxbuf > 0) {
                int pending = 0;
                ioctl(dev_s, FIONREAD, &pending);
                room = pending >= rxbuf ? 0 : (size_t)(rxbuf - pending);
            }
            size_t pass = k < room ? k : room;
            if (pass && drop_one_in > 0) {
                /* Line noise: each byte lost with probability 1/N. */
                size_t o = 0;
                for (size_t j = 0; j < pass; j++)
                    if (rand() % drop_one_in != 0)
                        up.buf[o++] = up.buf[j];
                pass = o;
            }
            if (pass) {
                ssize_t w = write(dev_m, up.buf, pass);
                pass = w > 0 ? (size_t)w : 0;
            }
            if (k > pass && stats) {
                dropped += k - pass;
                FILE *f = fopen(stats, "w");
                if (f) {
                    fprintf(f, "dropped=%llu passed=%llu\n", dropped, passed + k);
                    fclose(f);
                }
            }
            passed += k;
            pop(&up, k);
            up.busy_until += (double)k / rate;
            if (cut) {
                up.len = down.len = 0;
            }
        }
        k = due_bytes(&down, t, rate);
        if (k) {
            ssize_t w = write(host_m, down.buf, k);
            if (w > 0) {
                pop(&down, (size_t)w);
                down.busy_until += (double)w / rate;
                to_host += (size_t)w;
            }
            if (garbage_after >= 0 && !garbage_done &&
                to_host >= (unsigned long long)garbage_after) {
                static const unsigned char noise[48] =
                    "\xff\x13\x07garbage\xfe\x80line noise\x1b[0m\x00\x7f~~~~~~~~~~~~~~~~";
                if (write(host_m, noise, sizeof noise) > 0)
                    garbage_done = true;
            }
        }
        int st;
        if (waitpid(child, &st, WNOHANG) == child)
            break;
    }
    if (stats) {
        FILE *f = fopen(stats, "w");
        if (f) {
            fprintf(f, "dropped=%llu passed=%llu\n", dropped, passed);
            fclose(f);
        }
    }
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    unlink(link);
    return 0;
}
