/*
 * os_probe - os.h's Windows processes, Ctrl-C, terminal and TCP, checked
 * under Wine (tests/win32/os_probe.sh runs it).  Prints "ok - " and
 * "FAIL - " lines like the unit tests.
 *
 *   os_probe.exe run ECHO_PORT CLOSED_PORT
 *       every check.  stdin and stdout must be pipes; stdin holds "typed\n",
 *       stays open and empty a while, then ends; a TCP server on ECHO_PORT
 *       answers "pong:" + what it got; nothing listens on CLOSED_PORT.
 *   os_probe.exe tty COLUMNS FILE
 *       stdin and stdout are a console COLUMNS wide (Wine makes one of a
 *       pty); the results go to FILE, not to the console.
 *   os_probe.exe child ARGS...               (for the checks) prints its args
 *   os_probe.exe hang                        (for the checks) sleeps 30 s
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "esp01/port.h"
#include "os/os.h"

static int failures;
/* Where the results go: stdout, or a file when stdout is the console. */
static FILE *report;

static void check(const char *name, int cond, const char *detail)
{
    if (cond)
        fprintf(report, "ok - %s\n", name);
    else {
        fprintf(report, "FAIL - %s: %s\n", name, detail ? detail : "");
        failures++;
    }
    fflush(report);
}

static char self[MAX_PATH];

/* All the child's output (up to cap - 1 bytes) and its status. */
static int run_child(char *const argv[], char *out, size_t cap, int *status, esp01_err *e)
{
    esp01_os_child *c;
    int rc = esp01_os_spawn(argv, &c, e);
    if (rc < 0)
        return rc;
    size_t got = 0;
    uint64_t deadline = esp01_deadline_in(20000);
    for (;;) {
        int n = esp01_os_child_read(c, out + got, cap - 1 - got, deadline, e);
        if (n <= 0) {
            rc = n;
            break;
        }
        got += (size_t)n;
    }
    out[got] = '\0';
    /* A Windows child's text-mode stdout ends its lines in CRLF. */
    char *w = out;
    for (const char *r = out; *r; r++)
        if (*r != '\r')
            *w++ = *r;
    *w = '\0';
    if (rc < 0)
        esp01_os_child_kill(c);
    *status = esp01_os_child_wait(c);
    return rc;
}

static void processes(void)
{
    esp01_err e = {0};
    char out[2048];
    int st = -1;
    char *argv[] = {self, "child", "a b", "", "q\"x", "tr\\", "C:\\dir with space\\",
                    "\\\\srv\\sh", NULL};
    int rc = run_child(argv, out, sizeof out, &st, &e);
    check("spawn: the child's output ends", rc == 0, e.msg);
    const char *want = "argc=7\n[child]\n[a b]\n[]\n[q\"x]\n[tr\\]\n"
                       "[C:\\dir with space\\]\n[\\\\srv\\sh]\nto stderr\n";
    char detail[2200];
    snprintf(detail, sizeof detail, "got '%s'", out);
    check("spawn: args come back as given (quoting), stderr in the same pipe",
          strcmp(out, want) == 0, detail);
    snprintf(detail, sizeof detail, "status %d", st);
    check("spawn: exit status 3", st == 3, detail);

    char *cmd[] = {"cmd", "/c", "echo hi", NULL};
    rc = run_child(cmd, out, sizeof out, &st, &e);
    snprintf(detail, sizeof detail, "rc %d st %d out '%s' %s", rc, st, out, e.msg);
    check("spawn: cmd /c echo hi, found on PATH", rc == 0 && st == 0 && strstr(out, "hi"), detail);

    esp01_os_child *c = NULL;
    char *missing[] = {"no-such-program-esp01", NULL};
    rc = esp01_os_spawn(missing, &c, &e);
    snprintf(detail, sizeof detail, "rc %d %s", rc, e.msg);
    check("spawn: a missing program is ESP01_E_NOTFOUND", rc == ESP01_E_NOTFOUND && !c, detail);

    char *hang[] = {self, "hang", NULL};
    rc = esp01_os_spawn(hang, &c, &e);
    check("spawn: a child that hangs starts", rc == 0, e.msg);
    if (rc == 0) {
        uint64_t t0 = esp01_now_ms();
        bool ready[2] = {true, true};
        esp01_os_child *list[2] = {NULL, c};
        int r = esp01_os_child_poll(list, 2, 300, ready, &e);
        uint64_t waited = esp01_now_ms() - t0;
        snprintf(detail, sizeof detail, "r %d ready %d %d after %llu ms", r, ready[0], ready[1],
                 (unsigned long long)waited);
        check("poll: nothing ready within 300 ms, NULL skipped",
              r == 0 && !ready[0] && !ready[1] && waited >= 250 && waited < 2000, detail);
        char b[16];
        r = esp01_os_child_read(c, b, sizeof b, esp01_deadline_in(200), &e);
        check("read: ESP01_E_TIMEOUT by the deadline", r == ESP01_E_TIMEOUT, e.msg);
        esp01_os_child_kill(c);
        st = esp01_os_child_wait(c);
        snprintf(detail, sizeof detail, "status %d", st);
        check("kill: the status is 128 + 9, as on POSIX", st == 137, detail);
    }

    char *quick[] = {self, "child", "x", NULL};
    rc = esp01_os_spawn(quick, &c, &e);
    if (rc == 0) {
        bool ready[1] = {false};
        int r = esp01_os_child_poll(&c, 1, 5000, ready, &e);
        check("poll: a child with output is ready", r == 1 && ready[0], e.msg);
        esp01_os_child_wait(c);
    }
}

static void job(size_t i, void *slot, void *arg)
{
    (void)arg;
    Sleep(400);
    *(unsigned long *)slot = (unsigned long)(i * i + 1);
}

static void parallel(void)
{
    unsigned long slots[4] = {0, 0, 0, 0};
    uint64_t t0 = esp01_now_ms();
    esp01_os_run_parallel(4, job, NULL, slots, sizeof slots[0]);
    uint64_t took = esp01_now_ms() - t0;
    char detail[200];
    snprintf(detail, sizeof detail, "%lu %lu %lu %lu in %llu ms", slots[0], slots[1],
             slots[2], slots[3], (unsigned long long)took);
    check("run_parallel: 4 jobs fill their slots",
          slots[0] == 1 && slots[1] == 2 && slots[2] == 5 && slots[3] == 10, detail);
    check("run_parallel: the jobs run at the same time", took >= 390 && took < 1200, detail);
}

static void terminal(void)
{
    check("isatty: stdin from a pipe is not a terminal", !esp01_os_isatty(ESP01_OS_STDIN), NULL);
    check("isatty: stdout into a pipe is not a terminal", !esp01_os_isatty(ESP01_OS_STDOUT),
          NULL);
    check("term_columns: 0 without a console on stdout", esp01_os_term_columns() == 0, NULL);
    esp01_err e = {0};
    check("term_raw: fails on a pipe", esp01_os_term_raw(&e) == ESP01_E_IO, e.msg);
    esp01_os_term_restore();
    char buf[64] = {0};
    int n = esp01_os_stdin_read(buf, sizeof buf - 1, 5000, &e);
    char detail[200];
    snprintf(detail, sizeof detail, "n %d '%s' %s", n, n > 0 ? buf : "", e.msg);
    check("stdin_read: what the pipe holds", n == 6 && memcmp(buf, "typed\n", 6) == 0, detail);
    uint64_t t0 = esp01_now_ms();
    n = esp01_os_stdin_read(buf, sizeof buf - 1, 300, &e);
    snprintf(detail, sizeof detail, "n %d after %llu ms", n,
             (unsigned long long)(esp01_now_ms() - t0));
    check("stdin_read: ESP01_E_TIMEOUT while the pipe is open and empty",
          n == ESP01_E_TIMEOUT && esp01_now_ms() - t0 >= 250, detail);
    n = esp01_os_stdin_read(buf, sizeof buf - 1, 30000, &e);
    snprintf(detail, sizeof detail, "n %d", n);
    check("stdin_read: 0 at the end of the pipe", n == 0, detail);
    char secret[16] = "x";
    n = esp01_os_read_secret("password: ", secret, sizeof secret, &e);
    snprintf(detail, sizeof detail, "rc %d '%s'", n, e.msg);
    check("read_secret: no console is ESP01_E_NOTFOUND, not a line from the pipe",
          n == ESP01_E_NOTFOUND && secret[0] == '\0', detail);
}

static void interrupts(void)
{
    static volatile sig_atomic_t flag, other;
    check("catch_interrupt: no flag before", esp01_os_catch_interrupt(&flag) == NULL, NULL);
    check("catch_interrupt: returns the flag before",
          esp01_os_catch_interrupt(&other) == &flag, NULL);
    esp01_os_catch_interrupt(&flag);
    if (GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) {
        for (int i = 0; i < 100 && !flag; i++)
            Sleep(10);
        check("catch_interrupt: Ctrl-C sets the flag, the process lives on", flag == 1, NULL);
    } else {
        fprintf(report, "skip - Ctrl-C: no console to send it on (error %lu)\n",
               (unsigned long)GetLastError());
    }
    check("catch_interrupt: NULL gives the default back",
          esp01_os_catch_interrupt(NULL) == &flag, NULL);
}

static void tcp(uint16_t echo_port, uint16_t closed_port)
{
    esp01_err e = {0};
    char detail[300];
    esp01_os_addrs *a = NULL;
    int rc = esp01_os_tcp_lookup("127.0.0.1", echo_port, esp01_deadline_in(5000), &a, &e);
    check("tcp_lookup: a numeric address", rc == 0 && a, e.msg);
    if (rc < 0)
        return;
    esp01_os_tcp *s = NULL;
    rc = esp01_os_tcp_connect(a, esp01_deadline_in(5000), &s, &e);
    esp01_os_tcp_free(a);
    check("tcp_connect: to the local server", rc == 0 && s, e.msg);
    if (rc < 0)
        return;
    char buf[64];
    uint64_t t0 = esp01_now_ms();
    rc = esp01_os_tcp_recv(s, buf, sizeof buf, esp01_deadline_in(300), &e);
    snprintf(detail, sizeof detail, "rc %d after %llu ms", rc,
             (unsigned long long)(esp01_now_ms() - t0));
    check("tcp_recv: ESP01_E_TIMEOUT when nothing comes",
          rc == ESP01_E_TIMEOUT && esp01_now_ms() - t0 >= 250, detail);
    rc = esp01_os_tcp_send(s, "ping", 4, esp01_deadline_in(2000), &e);
    check("tcp_send", rc == 0, e.msg);
    size_t got = 0;
    while (got < 9) {
        rc = esp01_os_tcp_recv(s, buf + got, sizeof buf - got, esp01_deadline_in(3000), &e);
        if (rc <= 0)
            break;
        got += (size_t)rc;
    }
    check("tcp_recv: the answer", got == 9 && memcmp(buf, "pong:ping", 9) == 0, e.msg);
    esp01_os_tcp_shutdown_send(s);
    rc = esp01_os_tcp_recv(s, buf, sizeof buf, esp01_deadline_in(3000), &e);
    snprintf(detail, sizeof detail, "rc %d %s", rc, e.msg);
    check("tcp_shutdown_send: the server closes, recv gives 0", rc == 0, detail);
    esp01_os_tcp_close(s);

    rc = esp01_os_tcp_lookup("127.0.0.1", closed_port, esp01_deadline_in(5000), &a, &e);
    if (rc == 0) {
        rc = esp01_os_tcp_connect(a, esp01_deadline_in(8000), &s, &e);
        esp01_os_tcp_free(a);
        snprintf(detail, sizeof detail, "rc %d '%s'", rc, e.msg);
        check("tcp_connect: refused is ESP01_E_EXISTS, \"Connection refused\"",
              rc == ESP01_E_EXISTS && strcmp(e.msg, "Connection refused") == 0, detail);
    }
    rc = esp01_os_tcp_lookup("no-such-host.invalid", 80, esp01_deadline_in(8000), &a, &e);
    snprintf(detail, sizeof detail, "rc %d '%s'", rc, e.msg);
    check("tcp_lookup: an unknown name is ESP01_E_NOTFOUND", rc == ESP01_E_NOTFOUND, detail);
}

/* With a console (a pty under Wine): what the pipes could not show. */
static void console(unsigned columns)
{
    char detail[200];
    check("isatty: the console's stdin is a terminal", esp01_os_isatty(ESP01_OS_STDIN), NULL);
    check("isatty: the console's stdout is a terminal", esp01_os_isatty(ESP01_OS_STDOUT), NULL);
    snprintf(detail, sizeof detail, "%u columns", esp01_os_term_columns());
    check("term_columns: the console's width", esp01_os_term_columns() == columns, detail);
    esp01_err e = {0};
    DWORD before = 0, raw = 0, after = 0;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    GetConsoleMode(in, &before);
    int rc = esp01_os_term_raw(&e);
    GetConsoleMode(in, &raw);
    esp01_os_term_restore();
    GetConsoleMode(in, &after);
    snprintf(detail, sizeof detail, "rc %d modes %#lx %#lx %#lx", rc, (unsigned long)before,
             (unsigned long)raw, (unsigned long)after);
    check("term_raw: no line input, echo or Ctrl-C processing; restore puts it back",
          rc == 0 && !(raw & (ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT)) &&
              (before & ENABLE_LINE_INPUT) && after == before,
          detail);
    esp01_os_term_restore(); /* twice, and from atexit: harmless */
    rc = esp01_os_stdin_read(detail, sizeof detail, 200, &e);
    check("stdin_read: ESP01_E_TIMEOUT when nothing is typed", rc == ESP01_E_TIMEOUT, e.msg);
    interrupts();
}

int main(int argc, char **argv)
{
    report = stdout;
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("argc=%d\n", argc - 1);
        for (int i = 1; i < argc; i++)
            printf("[%s]\n", argv[i]);
        fflush(stdout);
        fprintf(stderr, "to stderr\n");
        return 3;
    }
    if (argc > 1 && strcmp(argv[1], "hang") == 0) {
        Sleep(30000);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "tty") == 0) {
        report = fopen(argv[3], "w");
        if (!report)
            return 2;
        console((unsigned)atoi(argv[2]));
        fprintf(report, "%d failed\n", failures);
        fclose(report);
        return failures ? 1 : 0;
    }
    if (argc != 4 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: os_probe run ECHO_PORT CLOSED_PORT | tty COLUMNS FILE\n");
        return 2;
    }
    GetModuleFileNameA(NULL, self, sizeof self);
    check("own path", self[0] != 0, NULL);
    terminal();
    processes();
    parallel();
    interrupts();
    tcp((uint16_t)atoi(argv[2]), (uint16_t)atoi(argv[3]));
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
