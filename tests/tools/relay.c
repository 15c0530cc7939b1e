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

struct relay {
    /* options */
    const char *link, *stats;
    long baud, rxbuf, cut_after, garbage_after, drop_one_in;
    /* the two ptys and the program */
    int host_m, host_s, dev_m, dev_s;
    pid_t child;
    /* the line */
    struct queue up, down;
    double rate;          /* bytes a second */
    unsigned long long dropped, passed, to_host;
    bool cut, garbage_done;
};

/* Index of PROGRAM in argv, or 0 when the options are wrong. */
static int parse_args(int argc, char **argv, struct relay *r)
{
    r->baud = 115200;
    r->cut_after = r->garbage_after = -1;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (i + 1 >= argc)
            break;
        if (!strcmp(argv[i], "--link"))
            r->link = argv[++i];
        else if (!strcmp(argv[i], "--baud"))
            r->baud = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rx-buffer"))
            r->rxbuf = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cut-after"))
            r->cut_after = atol(argv[++i]);
        else if (!strcmp(argv[i], "--garbage-after"))
            r->garbage_after = atol(argv[++i]);
        else if (!strcmp(argv[i], "--drop-one-in"))
            r->drop_one_in = atol(argv[++i]);
        else if (!strcmp(argv[i], "--stats"))
            r->stats = argv[++i];
        else
            break;
    }
    if (!r->link || i >= argc || r->baud < 300)
        return 0;
    return i;
}

/* Both ptys, PROGRAM on the device one, the host one at --link.
 * 0 ok, -1 after saying why. */
static int start_program(struct relay *r, char **prog)
{
    char host_name[128];
    if (openpty(&r->host_m, &r->host_s, host_name, NULL, NULL) < 0 ||
        openpty(&r->dev_m, &r->dev_s, NULL, NULL, NULL) < 0) {
        perror("relay: openpty");
        return -1;
    }
    set_raw(r->host_s);
    set_raw(r->dev_s);
    r->child = fork();
    if (r->child == 0) {
        setsid();
        dup2(r->dev_s, 0);
        dup2(r->dev_s, 1);
        close(r->host_m);
        close(r->host_s);
        close(r->dev_m);
        close(r->dev_s);
        execvp(prog[0], prog);
        perror("relay: exec");
        _exit(127);
    }
    /* The relay keeps both slaves open: the host may come and go, and the
     * device slave tells how much the program has not read (FIONREAD). */
    fcntl(r->host_m, F_SETFL, O_NONBLOCK);
    fcntl(r->dev_m, F_SETFL, O_NONBLOCK);
    unlink(r->link);
    if (symlink(host_name, r->link) < 0) {
        perror("relay: symlink");
        kill(r->child, SIGTERM);
        return -1;
    }
    return 0;
}

static void write_stats(const struct relay *r, unsigned long long passed)
{
    if (!r->stats)
        return;
    FILE *f = fopen(r->stats, "w");
    if (f) {
        fprintf(f, "dropped=%llu passed=%llu\n", r->dropped, passed);
        fclose(f);
    }
}

/* Of k bytes the wire delivers, those the device's input buffer and the
 * line noise let through; moves them to the front of the queue. */
static size_t device_takes(struct relay *r, size_t k)
{
    size_t room = k;
    if (r->rxbuf > 0) {
        int pending = 0;
        ioctl(r->dev_s, FIONREAD, &pending);
        room = pending >= r->rxbuf ? 0 : (size_t)(r->rxbuf - pending);
    }
    size_t pass = k < room ? k : room;
    if (pass && r->drop_one_in > 0) {
        /* Line noise: each byte lost with probability 1/N. */
        size_t o = 0;
        for (size_t j = 0; j < pass; j++)
            if (rand() % r->drop_one_in != 0)
                r->up.buf[o++] = r->up.buf[j];
        pass = o;
    }
    return pass;
}

/* Host -> device: what the wire has carried by t. */
static void carry_up(struct relay *r, double t)
{
    size_t k = due_bytes(&r->up, t, r->rate);
    if (!k)
        return;
    if (r->cut_after >= 0 && r->passed + k > (unsigned long long)r->cut_after) {
        k = (size_t)(r->cut_after - (long)r->passed);
        r->cut = true;
    }
    size_t pass = device_takes(r, k);
    if (pass) {
        ssize_t w = write(r->dev_m, r->up.buf, pass);
        pass = w > 0 ? (size_t)w : 0;
    }
    if (k > pass && r->stats) {
        r->dropped += k - pass;
        write_stats(r, r->passed + k);
    }
    r->passed += k;
    pop(&r->up, k);
    r->up.busy_until += (double)k / r->rate;
    if (r->cut)
        r->up.len = r->down.len = 0;
}

/* Device -> host, and the one burst of noise. */
static void carry_down(struct relay *r, double t)
{
    size_t k = due_bytes(&r->down, t, r->rate);
    if (!k)
        return;
    ssize_t w = write(r->host_m, r->down.buf, k);
    if (w > 0) {
        pop(&r->down, (size_t)w);
        r->down.busy_until += (double)w / r->rate;
        r->to_host += (size_t)w;
    }
    if (r->garbage_after >= 0 && !r->garbage_done &&
        r->to_host >= (unsigned long long)r->garbage_after) {
        static const unsigned char noise[48] =
            "\xff\x13\x07garbage\xfe\x80line noise\x1b[0m\x00\x7f~~~~~~~~~~~~~~~~";
        if (write(r->host_m, noise, sizeof noise) > 0)
            r->garbage_done = true;
    }
}

/* Plug back in (SIGUSR1) or pull the cable soon (SIGUSR2). */
static void take_signals(struct relay *r)
{
    if (plug_in) {
        plug_in = 0;
        r->cut = false;
        r->cut_after = -1;
    }
    if (cut_soon) {
        cut_soon = 0;
        r->cut_after = (long)r->passed + 3000;
    }
}

static void run(struct relay *r)
{
    unsigned char buf[4096];
    while (!stop) {
        struct pollfd p[2] = {{r->host_m, POLLIN, 0}, {r->dev_m, POLLIN, 0}};
        poll(p, 2, r->up.len || r->down.len ? 1 : 20);
        take_signals(r);
        ssize_t n = read(r->host_m, buf, sizeof buf);
        if (n > 0 && !r->cut)
            push(&r->up, buf, (size_t)n, now_s());
        n = read(r->dev_m, buf, sizeof buf);
        if (n > 0 && !r->cut)
            push(&r->down, buf, (size_t)n, now_s());
        else if (n < 0 && errno == EIO)
            break; /* the device program is gone */
        double t = now_s();
        carry_up(r, t);
        carry_down(r, t);
        int st;
        if (waitpid(r->child, &st, WNOHANG) == r->child)
            break;
    }
}

int main(int argc, char **argv)
{
    static struct relay r;
    int prog = parse_args(argc, argv, &r);
    if (!prog) {
        fprintf(stderr, "usage: relay --link PATH [--baud N] [--rx-buffer N] "
                        "[--cut-after N] [--garbage-after N] [--drop-one-in N] [--stats FILE] "
                        "-- PROGRAM ARGS...\n");
        return 2;
    }
    if (start_program(&r, argv + prog) < 0)
        return 1;
    srand(1);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    signal(SIGPIPE, SIG_IGN);
    r.up = (struct queue){malloc(QUEUE_MAX), 0, 0.0};
    r.down = (struct queue){malloc(QUEUE_MAX), 0, 0.0};
    r.rate = (double)r.baud / 10.0;
    run(&r);
    write_stats(&r, r.passed);
    kill(r.child, SIGTERM);
    waitpid(r.child, NULL, 0);
    unlink(r.link);
    return 0;
}
