/*
 * Handing the line to the QEMU build of esp01's flasher stub.
 *
 * When MEM_END jumps to an upload that is byte for byte the stub libesp01
 * ships (src/flash/stub_image.c), the real chip would now run that code.  romsim
 * cannot run lx106 code, so it starts the QEMU build of the same source
 * (docs/stub.md, "QEMU launch contract"): a run directory with flash.bin
 * (the simulator's own flash file), jedec (the flash's id, which the fake
 * chip's SPI0 registers answer with), clkdiv (the divider the ROM auto-
 * bauded to) and uart.ctl (a FIFO the stub's fake ROM reports baud
 * changes, resets and RUN_USER_CODE on), and a UNIX socket QEMU connects
 * its UART to.  romsim stays the line in between: it paces bytes at the
 * chip's current rate (--throttle), garbles them when the host's rate is
 * not the chip's, and injects the same per-frame faults as in ROM mode.
 * A reset fault stops QEMU: RAM is gone and the ROM loader is back.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"
#include "flash/stub_image.h"

bool stub_matches_upload(char *why, size_t cap)
{
    const esp01_stub_image *img = &esp01_stub_esp8266;
    if (S.mem_entry != img->entry) {
        snprintf(why, cap, "entry 0x%08x, the stub's is 0x%08x", S.mem_entry,
                 img->entry);
        return false;
    }
    for (size_t i = 0; i < img->nseg; i++) {
        const esp01_stub_segment *seg = &img->seg[i];
        bool found = false;
        for (size_t k = 0; k < S.nmem && !found; k++)
            found = S.mem[k].addr == seg->addr && S.mem[k].len == seg->len &&
                    memcmp(S.mem[k].data, seg->data, seg->len) == 0;
        if (!found) {
            snprintf(why, cap, "no upload equals the stub's segment at "
                     "0x%08x (%u bytes)", seg->addr, seg->len);
            return false;
        }
    }
    return true;
}

/* ---- one direction of the line ------------------------------------------ */

#define QCAP (1u << 20)

/*
 * The chip's transmitter: a new divider applies to bytes the chip sends
 * after the change.  The QEMU build hands bytes over at once, so bytes
 * still queued here when it reports a change went out at the old rate
 * (on the chip the stub waits for its TX FIFO to empty first).
 */
static uint32_t tx_baud;          /* rate of the bytes queued to the host */
static uint32_t tx_next_baud;     /* after `tx_switch_at` bytes */
static size_t tx_switch_at;
static bool tx_switch_pending;


struct dir {
    const char *name;
    uint8_t *pend;   /* bytes of a frame not yet complete */
    size_t npend;
    bool in_frame;
    uint8_t *out;    /* bytes waiting for their time on the wire */
    size_t head, tail;
    double next;     /* when the line is free: the last byte's stop bit */
};

static void dir_init(struct dir *d, const char *name)
{
    memset(d, 0, sizeof *d);
    d->name = name;
    d->pend = malloc(QCAP);
    d->out = malloc(QCAP);
}

static void dir_free(struct dir *d)
{
    free(d->pend);
    free(d->out);
}

static void queue(struct dir *d, const uint8_t *p, size_t n)
{
    /* A byte goes on the wire no earlier than the sender hands it over:
       an idle line earns no credit. */
    if (d->head == d->tail) {
        double t = now_s();
        if (d->next < t)
            d->next = t;
    }
    if (d->tail + n > QCAP) {
        memmove(d->out, d->out + d->head, d->tail - d->head);
        if (tx_switch_pending && d->name[0] == 'd')
            tx_switch_at -= d->head;
        d->tail -= d->head;
        d->head = 0;
    }
    if (d->tail + n > QCAP)
        n = QCAP - d->tail; /* a UART would have dropped them too */
    memcpy(d->out + d->tail, p, n);
    d->tail += n;
}

/* A frame is complete: maybe damage it, as in ROM mode. */
static void frame_done(struct dir *d)
{
    size_t n = d->npend;
    if (n > 2 && chance(S.p_drop)) {
        size_t i = 1 + rnd() % (n - 2);
        memmove(d->pend + i, d->pend + i + 1, n - i - 1);
        n--;
        S.faults_drop++;
    } else if (n > 2 && chance(S.p_corrupt)) {
        d->pend[1 + rnd() % (n - 2)] ^= (uint8_t)(1 + rnd() % 255);
        S.faults_corrupt++;
    }
    if (chance(S.p_stall)) {
        S.faults_stall++;
        double t = now_s() + S.stall_ms / 1000.0;
        if (d->next < t)
            d->next = t;
    }
    queue(d, d->pend, n);
    d->npend = 0;
    S.frames++;
}

/* Bytes read from one side: collected into frames, then queued. */
static void take(struct dir *d, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (!d->in_frame) {
            if (b == 0xC0) {
                d->in_frame = true;
                d->pend[0] = b;
                d->npend = 1;
            } else {
                queue(d, &b, 1);
            }
            continue;
        }
        if (d->npend < QCAP)
            d->pend[d->npend++] = b;
        if (b == 0xC0) {
            if (d->npend == 2) {
                /* two delimiters in a row: the second starts the frame */
                queue(d, d->pend, 1);
                d->npend = 1;
                continue;
            }
            frame_done(d);
            d->in_frame = false;
        }
    }
}

static bool rates_differ(uint32_t chip)
{
    if (S.max_baud && (S.host_baud > S.max_baud || chip > S.max_baud))
        return true;
    if (!chip || !S.host_baud)
        return false;
    double r = (double)S.host_baud / chip;
    return r < 0.96 || r > 1.04;
}

/* Bytes a real UART would rather hand over together than one by one. */
#define CHUNK 64

/* The rate bytes cross the line at in this direction: what the chip's
 * UART runs at, and never faster than the host sends (host to chip). */
static uint32_t dir_baud(bool to_host)
{
    if (to_host)
        return tx_baud;
    if (S.host_baud && (!S.chip_baud || S.host_baud < S.chip_baud))
        return S.host_baud;
    return S.chip_baud;
}

/*
 * Hand over every byte whose stop bit has passed by now (10 bits per byte
 * at dir_baud), never one earlier: d->next only moves on by the bytes
 * sent, so a late wake-up delivers what has arrived since and no more.
 * Returns the seconds until the next CHUNK bytes (or the rest of the
 * queue, so a frame's end is not held back) have arrived, or -1 when the
 * queue is empty.
 */
static double pump(struct dir *d, int fd, bool to_host)
{
    uint32_t baud = dir_baud(to_host);
    double now = now_s();
    size_t avail = d->tail - d->head;
    if (!avail)
        return -1;
    if (d->next > now)
        return d->next - now; /* a stall */
    double byte_t = S.throttle && baud ? 10.0 / baud : 0;
    size_t n = avail;
    if (to_host && tx_switch_pending && d->head + n > tx_switch_at)
        n = tx_switch_at - d->head;
    if (byte_t > 0) {
        double due = (now - d->next) / byte_t;
        if (due < (double)n)
            n = (size_t)due;
    }
    uint8_t tmp[4096];
    if (n > sizeof tmp)
        n = sizeof tmp;
    size_t used = 0;
    if (n) {
        memcpy(tmp, d->out + d->head, n);
        size_t wn = n;
        if (rates_differ(to_host ? tx_baud : S.chip_baud)) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (rnd() % 2)
                    tmp[k++] = (uint8_t)rnd();
            wn = k;
            S.garbled_bytes += n;
        }
        ssize_t w = wn ? write(fd, tmp, wn) : 0;
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0.002;
            if (to_host)
                tcflush(S.slave, TCIFLUSH);
            w = (ssize_t)wn;
        }
        /* A partial write of garbled bytes consumed them all. */
        used = wn == n ? (size_t)w : n;
        d->head += used;
        d->next += (double)used * byte_t;
        if (to_host)
            S.tx_bytes += used;
    }
    /* Everything sent before the chip changed its divider is out. */
    if (to_host && tx_switch_pending && d->head >= tx_switch_at) {
        tx_baud = tx_next_baud;
        tx_switch_pending = false;
    }
    avail = d->tail - d->head;
    if (!avail)
        return -1;
    if (used < n)
        return 0.001; /* the reader is full: try again soon */
    size_t want = avail < CHUNK ? avail : CHUNK;
    double at = d->next + (double)want * byte_t - now;
    return at > 0 ? at : 0;
}

/* ---- the QEMU run ------------------------------------------------------ */

/*
 * QEMU takes a tenth of a second to start, which the chip does not: it
 * runs an upload microseconds after MEM_END.  So QEMU is started when the
 * upload begins (stub_prepare, at MEM_BEGIN) and waits in the fake ROM,
 * whose first read of the run directory's clkdiv blocks: clkdiv is a FIFO
 * here, written at MEM_END (release_clkdiv).  A QEMU started for an
 * upload that never runs is kept for the next one, or stopped when romsim
 * ends (stub_shutdown).
 */
static struct {
    pid_t pid;        /* 0: none */
    int listener;     /* QEMU connects to it; accepted once the stub runs */
    int ctl;
    char dir[PATH_MAX];
} Q = {0, -1, -1, ""};

static void cleanup_dir(void)
{
    const char *names[] = {"uart.sock", "uart.ctl", "clkdiv", "jedec",
                           "flash.bin", "qemu.log"};
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", Q.dir, names[i]);
        unlink(p);
    }
    rmdir(Q.dir);
}

/* Everything a started QEMU holds, and its directory. */
static void drop_qemu(void)
{
    if (Q.pid > 0) {
        kill(Q.pid, SIGKILL);
        waitpid(Q.pid, NULL, 0);
    }
    if (Q.listener >= 0)
        close(Q.listener);
    if (Q.ctl >= 0)
        close(Q.ctl);
    if (Q.dir[0])
        cleanup_dir();
    Q.pid = 0;
    Q.listener = Q.ctl = -1;
    Q.dir[0] = '\0';
}

/* The run directory (docs/stub.md, launch contract) and QEMU in it,
 * without waiting for anything: the ROM is still taking the upload. */
static int start_qemu(void)
{
    const char *tmp = getenv("TMPDIR");
    Q.listener = Q.ctl = -1;
    snprintf(Q.dir, sizeof Q.dir, "%s/romsim-stub.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(Q.dir)) {
        logf_("stub: mkdtemp: %s", strerror(errno));
        Q.dir[0] = '\0';
        return -1;
    }
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/flash.bin", Q.dir);
    if (symlink(flash_path(), p) < 0) {
        logf_("stub: flash.bin: %s", strerror(errno));
        return -1;
    }
    snprintf(p, sizeof p, "%s/jedec", Q.dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    uint32_t id = flash_jedec();
    fprintf(f, "%02X%02X%02X\n", id & 0xFF, (id >> 8) & 0xFF, (id >> 16) & 0xFF);
    fclose(f);
    snprintf(p, sizeof p, "%s/clkdiv", Q.dir);
    if (mkfifo(p, 0600) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/uart.ctl", Q.dir);
    if (mkfifo(p, 0600) < 0)
        return -1;
    Q.ctl = open(p, O_RDONLY | O_NONBLOCK);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(Q.dir) + sizeof "/uart.sock" > sizeof sa.sun_path) {
        logf_("stub: %s is too long a path for a socket", Q.dir);
        return -1;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.*s/uart.sock",
             (int)(sizeof sa.sun_path - sizeof "/uart.sock"), Q.dir);
    Q.listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (Q.ctl < 0 || Q.listener < 0 ||
        bind(Q.listener, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(Q.listener, 1) < 0) {
        logf_("stub: socket: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* QEMU goes when romsim goes, however romsim ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (chdir(Q.dir) < 0)
            _exit(127);
        int log = open("qemu.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        char chardev[PATH_MAX + 64];
        snprintf(chardev, sizeof chardev, "socket,id=uart,path=%s",
                 sa.sun_path);
        execlp(S.qemu ? S.qemu : "qemu-system-xtensa", "qemu-system-xtensa",
               "-M", "sim", "-cpu", "lx106", "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native", "-chardev",
               chardev, "-serial", "chardev:uart", "-kernel", S.stub_elf,
               (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    Q.pid = pid;
    return 0;
}

void stub_prepare(void)
{
    if (Q.pid > 0 || !S.stub_elf)
        return;
    if (start_qemu() < 0) {
        drop_qemu();
        return;
    }
    logf_("stub: QEMU started ahead (pid %d), waiting for MEM_END", (int)Q.pid);
}

void stub_shutdown(void)
{
    drop_qemu();
}

/* Let the fake ROM go on: it reads the divider the ROM auto-bauded to. */
static int release_clkdiv(void)
{
    char p[PATH_MAX + 32], v[16];
    snprintf(p, sizeof p, "%s/clkdiv", Q.dir);
    int n = snprintf(v, sizeof v, "%u\n", rom_uart_clkdiv());
    double until = now_s() + 10;
    for (;;) {
        /* ENXIO until QEMU has opened its end. */
        int fd = open(p, O_WRONLY | O_NONBLOCK);
        if (fd >= 0) {
            ssize_t w = write(fd, v, (size_t)n);
            close(fd);
            return w == n ? 0 : -1;
        }
        if (errno != ENXIO || now_s() > until ||
            waitpid(Q.pid, NULL, WNOHANG) != 0)
            return -1;
        sleep_s(0.001);
    }
}

/* The stub is running: QEMU's connection, once it has made it. */
static int accept_qemu(void)
{
    struct pollfd pfd = {Q.listener, POLLIN, 0};
    int sock = -1;
    if (poll(&pfd, 1, 10000) == 1)
        sock = accept(Q.listener, NULL, NULL);
    close(Q.listener);
    Q.listener = -1;
    if (sock >= 0)
        fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    return sock;
}

/* "clkdiv N", "reset", "run", "fault ..." lines from the fake ROM. */
static int read_ctl(int ctl, char *acc, size_t *alen, const struct dir *down)
{
    char buf[256];
    ssize_t n = read(ctl, buf, sizeof buf);
    int ended = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (*alen < 127)
                acc[(*alen)++] = buf[i];
            continue;
        }
        acc[*alen] = '\0';
        *alen = 0;
        unsigned div;
        logf_("stub: %s", acc);
        if (sscanf(acc, "clkdiv %u", &div) == 1 && div) {
            S.chip_baud = (uint32_t)((2.0 * S.crystal_hz) / div + 0.5);
            tx_next_baud = S.chip_baud;
            tx_switch_at = down->tail;
            tx_switch_pending = true;
            logf_("stub: the chip's UART now runs at %u baud", S.chip_baud);
        } else if (strcmp(acc, "reset") == 0) {
            ended = 1;
        } else if (strcmp(acc, "run") == 0) {
            ended = 2;
        } else if (strncmp(acc, "fault", 5) == 0) {
            ended = 3;
        }
    }
    return ended;
}

int stub_run(void)
{
    if (!S.stub_elf) {
        logf_("stub: no --stub-elf");
        return -1;
    }
    if (Q.pid <= 0 && start_qemu() < 0) {
        drop_qemu();
        return -1;
    }
    int sock = accept_qemu();
    if (sock < 0 || release_clkdiv() < 0) {
        logf_("stub: QEMU did not connect or start");
        if (sock >= 0)
            close(sock);
        drop_qemu();
        return -1;
    }
    pid_t pid = Q.pid;
    int ctl = Q.ctl;
    logf_("stub: running under QEMU (pid %d) in %s", (int)pid, Q.dir);
    struct dir up, down; /* host -> chip, chip -> host */
    dir_init(&up, "up");
    dir_init(&down, "down");
    tx_baud = S.chip_baud;
    tx_switch_pending = false;
    char acc[128];
    size_t alen = 0;
    int ended = 0;
    bool exited = false;
    while (!sim_stop && !ended) {
        double wait = 0.02, w;
        if ((w = pump(&up, sock, false)) >= 0 && w < wait)
            wait = w;
        if ((w = pump(&down, S.master, true)) >= 0 && w < wait)
            wait = w;
        struct pollfd pfd[3] = {{S.master, POLLIN, 0}, {sock, POLLIN, 0},
                                {ctl, POLLIN, 0}};
        /* To the microsecond: a millisecond late at every frame's end
           would be latency the real line does not have. */
        struct timespec ts = {(time_t)wait,
                              (long)((wait - (double)(time_t)wait) * 1e9)};
        ppoll(pfd, 3, &ts, NULL);
        uint8_t buf[4096];
        ssize_t n;
        if ((pfd[0].revents & POLLIN) &&
            (n = read(S.master, buf, sizeof buf)) > 0) {
            S.rx_bytes += (uint64_t)n;
            uint32_t hb = host_baud_now();
            if (hb != S.host_baud)
                logf_("stub: the host now sends at %u baud", hb);
            S.host_baud = hb;
            if (chance(S.p_reset)) {
                S.faults_reset++;
                ended = 4;
                break;
            }
            take(&up, buf, (size_t)n);
        }
        if (pfd[1].revents & (POLLIN | POLLHUP)) {
            n = read(sock, buf, sizeof buf);
            if (n > 0)
                take(&down, buf, (size_t)n);
            else if (n == 0)
                exited = true;
        }
        if (pfd[2].revents & POLLIN)
            ended = read_ctl(ctl, acc, &alen, &down);
        if (exited && !ended)
            ended = 3;
    }
    /* Let what the stub said last reach the host. */
    for (int i = 0; i < 200 && down.tail > down.head && !sim_stop; i++) {
        pump(&down, S.master, true);
        sleep_s(0.005);
    }
    close(sock);
    close(ctl);
    Q.ctl = -1;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    Q.pid = 0;
    char qlog[PATH_MAX + 32];
    snprintf(qlog, sizeof qlog, "%s/qemu.log", Q.dir);
    FILE *f = fopen(qlog, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            logf_("stub: qemu: %s", line);
        }
        fclose(f);
    }
    cleanup_dir();
    Q.dir[0] = '\0';
    dir_free(&up);
    dir_free(&down);
    mem_clear();
    switch (ended) {
    case 1:
    case 4:
        logf_("stub: %s: back to the ROM loader",
              ended == 1 ? "the stub reset the chip" : "reset (injected)");
        rom_reset(ended == 1 ? "stub reset" : "injected");
        return 0;
    case 2:
        S.running = true;
        S.ran_user_code++;
        logf_("stub: RUN_USER_CODE: the firmware runs");
        text_out("(firmware running)\r\n");
        return 0;
    default:
        S.running = true;
        logf_("stub: QEMU ended without reset or run: the chip hangs");
        return -1;
    }
}
