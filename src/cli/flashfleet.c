/*
 * Several boards at once (flashfleet.h).  Each board gets its own esp01
 * process: the flash code keeps per-connection state in globals (the
 * Ctrl-C flag, the ROM session), and a process per board also keeps a
 * crash or a hung adapter on one port away from the others.
 */
#include "flashfleet.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "esp01/jsonmap.h"
#include "fwcli.h"
#include "os/os.h"
#include "portpick.h"

#define MAX_BOARDS 64

struct board {
    char port[512];
    char label[64];
    char config[PATH_MAX];   /* from --board-config, or "" */
    char why_not[400];       /* set: not started, this is why */
    esp01_os_child *child;   /* its stdout+stderr come from here; NULL once reaped */
    char partial[512];       /* a line still being received */
    size_t partial_len;
    char last[256];          /* the newest line, for the progress display */
    char result[400];        /* the newest "Wrote...", "Flash at...", "esp01: ..." */
    int status;              /* exit status once reaped */
    uint64_t start_ms, end_ms;
};

static bool is_opt(const char *a, const char *name)
{
    return strcmp(a, name) == 0;
}

/* The options of esp01 flash that take a value. */
static bool takes_value(const char *a)
{
    static const char *const with_value[] = {
        "--firmware", "--config", "--offset", "--flash-size", "--flash-mode", "--flash-freq",
        "--baud", "--before", "--after", "--wait", "--port", "--board-config"};
    for (size_t i = 0; i < sizeof with_value / sizeof with_value[0]; i++)
        if (strcmp(a, with_value[i]) == 0)
            return true;
    return false;
}

bool flashfleet_wanted(int argc, char **argv)
{
    int ports = 0;
    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--all-ports") || is_opt(argv[i], "--board-config"))
            return true;
        if (is_opt(argv[i], "--port") && i + 1 < argc) {
            ports++;
            i++;
        }
    }
    return ports > 1;
}

/* Only printable ASCII of a child's line reaches the terminal. */
static void keep_line(char *dst, size_t cap, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    dst[o] = '\0';
}

static void on_line(struct board *b, const char *line, size_t n)
{
    while (n && line[n - 1] == ' ')
        n--;
    if (!n)
        return;
    keep_line(b->last, sizeof b->last, line, n);
    if (!strncmp(b->last, "Wrote ", 6) || !strncmp(b->last, "Flash at ", 9) ||
        !strncmp(b->last, "esp01: ", 7))
        keep_line(b->result, sizeof b->result, line, n);
}

/* Split what arrived into lines; '\r' ends one too (progress bars). */
static void on_bytes(struct board *b, const char *buf, size_t n, bool tty)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n' || c == '\r') {
            on_line(b, b->partial, b->partial_len);
            if (!tty && b->partial_len)
                printf("%s: %s\n", b->label, b->last);
            b->partial_len = 0;
        } else if (b->partial_len + 1 < sizeof b->partial) {
            b->partial[b->partial_len++] = c;
        }
    }
}

static unsigned columns(void)
{
    unsigned c = esp01_os_term_columns();
    return c >= 40 ? c : 80;
}

/* Redraw the block of one line per board (the cursor sits below it). */
static void draw(struct board *b, size_t n, bool first)
{
    unsigned width = columns() - 1;
    if (!first)
        printf("\033[%zuA", n);
    for (size_t i = 0; i < n; i++) {
        const char *what = b[i].why_not[0] ? b[i].why_not
                           : b[i].last[0]  ? b[i].last
                                           : "starting";
        printf("\r\033[K%-12s %.*s\n", b[i].label, (int)(width > 13 ? width - 13 : 0), what);
    }
    fflush(stdout);
}

static bool same_port(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    if (esp01_os_realpath(a, ra, sizeof ra) && esp01_os_realpath(b, rb, sizeof rb))
        return strcmp(ra, rb) == 0;
    return strcmp(a, b) == 0;
}

/* Ctrl-C reaches every board's process (one process group) and each stops
 * its own transfer; this one only waits for them and sums up. */
static volatile sig_atomic_t ignored_interrupt;

static int config_for(struct board *b, const esp01_jsonmap *map, const char *map_path,
                      const esp01_serial_list *usb)
{
    char real[PATH_MAX];
    const char *keys[8];
    size_t nk = 0;
    keys[nk++] = b->port;
    if (esp01_os_realpath(b->port, real, sizeof real))
        keys[nk++] = real;
    for (size_t i = 0; i < usb->count; i++) {
        char r2[PATH_MAX];
        const esp01_serial_port *p = &usb->ports[i];
        if (!esp01_os_realpath(p->path, r2, sizeof r2) || strcmp(r2, real) != 0)
            continue;
        if (p->by_path[0]) {
            keys[nk++] = p->by_path;
            const char *base = strrchr(p->by_path, '/');
            keys[nk++] = base ? base + 1 : p->by_path;
        }
        if (p->serial[0])
            keys[nk++] = p->serial;
        if (p->location[0])
            keys[nk++] = p->location;
        break;
    }
    const char *value = NULL;
    for (size_t k = 0; k < nk && !value; k++)
        value = esp01_jsonmap_get(map, keys[k]);
    /* A key naming the same device another way (a symbolic link). */
    for (size_t k = 0; k < map->count && !value; k++)
        if (strchr(map->pairs[k].key, '/') && same_port(map->pairs[k].key, b->port))
            value = map->pairs[k].value;
    if (!value)
        value = esp01_jsonmap_get(map, "*");
    if (!value) {
        snprintf(b->why_not, sizeof b->why_not,
                 "esp01: %.150s has no entry in %.150s (by port, by-path name, USB serial "
                 "number, or \"*\")", b->port, map_path);
        return -1;
    }
    if (value[0] == '/') {
        snprintf(b->config, sizeof b->config, "%s", value);
    } else {
        /* Relative to the boards file, as a project's own paths are. */
        const char *slash = strrchr(map_path, '/');
        int dl = slash ? (int)(slash - map_path) : 1;
        snprintf(b->config, sizeof b->config, "%.*s/%s", dl, slash ? map_path : ".", value);
    }
    return 0;
}

static int add_board(struct board *boards, size_t *n, const char *port)
{
    for (size_t i = 0; i < *n; i++)
        if (same_port(boards[i].port, port))
            return 0;
    if (*n == MAX_BOARDS)
        return cli_usage_error("flash", "at most %d boards at once", MAX_BOARDS);
    struct board *b = &boards[(*n)++];
    memset(b, 0, sizeof *b);
    snprintf(b->port, sizeof b->port, "%s", port);
    const char *base = strrchr(port, '/');
    snprintf(b->label, sizeof b->label, "%s", base ? base + 1 : port);
    b->child = NULL;
    return 0;
}

static void start(struct board *b, char **pass, int npass, const char *firmware)
{
    char *argv[256];
    int k = 0;
    static char exe[PATH_MAX];
    if (!esp01_os_self_exe(exe, sizeof exe)) {
        snprintf(b->why_not, sizeof b->why_not, "esp01: cannot find the esp01 program");
        return;
    }
    argv[k++] = exe;
    argv[k++] = (char *)"flash";
    for (int i = 0; i < npass && k < 248; i++)
        argv[k++] = pass[i];
    argv[k++] = (char *)"--port";
    argv[k++] = b->port;
    if (b->config[0]) {
        argv[k++] = (char *)"--config";
        argv[k++] = b->config;
    }
    if (firmware) {
        argv[k++] = (char *)"--firmware";
        argv[k++] = (char *)firmware;
    }
    argv[k] = NULL;
    b->start_ms = esp01_now_ms();
    esp01_err err;
    if (esp01_os_spawn(argv, &b->child, &err) < 0)
        snprintf(b->why_not, sizeof b->why_not, "esp01: cannot run %.200s: %.160s", exe, err.msg);
}

/* Read every child's output until all are done. */
static void follow(struct board *b, size_t n, bool tty)
{
    esp01_os_child *children[MAX_BOARDS];
    bool ready[MAX_BOARDS];
    uint64_t last_draw = 0;
    bool dirty = false;
    for (;;) {
        size_t running = 0;
        for (size_t i = 0; i < n; i++) {
            children[i] = b[i].child;
            running += b[i].child != NULL;
        }
        if (!running)
            break;
        int r = esp01_os_child_poll(children, n, 200, ready, NULL);
        if (r < 0)
            break;
        for (size_t i = 0; r > 0 && i < n; i++) {
            if (!b[i].child || !ready[i])
                continue;
            char buf[4096];
            int got = esp01_os_child_read(b[i].child, buf, sizeof buf, esp01_now_ms(), NULL);
            if (got > 0) {
                on_bytes(&b[i], buf, (size_t)got, tty);
                dirty = true;
                continue;
            }
            if (got == ESP01_E_TIMEOUT)
                continue;
            on_bytes(&b[i], "\n", 1, tty);
            b[i].status = esp01_os_child_wait(b[i].child);
            b[i].child = NULL;
            if (b[i].status == 127 && !b[i].last[0])
                snprintf(b[i].result, sizeof b[i].result, "esp01: cannot run the esp01 program");
            b[i].end_ms = esp01_now_ms();
            dirty = true;
        }
        uint64_t now = esp01_now_ms();
        if (tty && dirty && now - last_draw >= 100) {
            draw(b, n, false);
            last_draw = now;
            dirty = false;
        }
    }
    if (tty)
        draw(b, n, false);
}

int flashfleet_run(int argc, char **argv)
{
    static struct board boards[MAX_BOARDS];
    size_t n = 0;
    char *pass[256];
    int npass = 0;
    bool all = false;
    const char *map_path = NULL, *firmware = NULL, *path = NULL;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool value = i + 1 < argc;
        if (is_opt(a, "--all-ports")) {
            all = true;
        } else if (is_opt(a, "--port") || is_opt(a, "--board-config")) {
            if (!value)
                return cli_usage_error("flash", "%s needs a value", a);
            if (is_opt(a, "--board-config"))
                map_path = argv[++i];
            else if ((rc = add_board(boards, &n, argv[++i])) != EXIT_OK)
                return rc;
        } else if (is_opt(a, "--config") && value) {
            return cli_usage_error("flash", "several boards: give settings per board with "
                                   "--board-config (a \"*\" entry for all), not --config");
        } else {
            if (is_opt(a, "--firmware") && value)
                firmware = argv[i + 1];
            else if (a[0] != '-' && !path && !takes_value(argv[i - 1]))
                path = a;
            if (npass == 240)
                return cli_usage_error("flash", "too many arguments");
            pass[npass++] = argv[i];
        }
    }
    esp01_serial_list usb = {0};
    if ((rc = portpick_list(&usb)) != EXIT_OK)
        return rc;
    for (size_t i = 0; all && i < usb.count; i++)
        if (usb.ports[i].access_errno == 0 && (rc = add_board(boards, &n, usb.ports[i].path)))
            goto out;
    if (n == 0) {
        rc = cli_error(all ? "--all-ports: no USB serial port this user may open ('esp01 "
                             "ports' lists them)"
                           : "which boards? give --port for each, or --all-ports");
        goto out;
    }
    bool project = path && esp01_os_is_dir(path);
    if (map_path) {
        esp01_jsonmap map;
        esp01_err err = {0};
        uint8_t *text = NULL;
        size_t len = 0;
        if (!project) {
            rc = cli_usage_error("flash", "--board-config goes with a project folder");
            goto out;
        }
        if (esp01_read_file(map_path, 1u << 20, &text, &len, &err) < 0 ||
            esp01_jsonmap_parse(text, len, &map, &err) < 0) {
            free(text);
            rc = cli_error("--board-config %s: %s", map_path, err.msg);
            goto out;
        }
        free(text);
        for (size_t i = 0; i < n; i++)
            config_for(&boards[i], &map, map_path, &usb);
        esp01_jsonmap_free(&map);
    }
    /* One release for every board: the newest is looked up once, and each
     * board takes the build of it for its chip. */
    char tag[64];
    const char *fw_arg = NULL;
    if (project && (!firmware || !strcmp(firmware, "latest"))) {
        struct fwcli c;
        if (fwcli_init(&c) == EXIT_OK) {
            if (fwcli_latest_tag(&c, tag, sizeof tag)) {
                fw_arg = tag;
                printf("Firmware:  %s, the newest release, for every board\n", tag);
            }
            fwcli_done(&c);
        }
    }
    bool tty = esp01_os_isatty(ESP01_OS_STDOUT);
    /* Caught, not ignored: ignoring would pass to the children. */
    esp01_os_catch_interrupt(&ignored_interrupt);
    printf("Flashing %zu boards at once\n", n);
    for (size_t i = 0; i < n; i++)
        if (!boards[i].why_not[0])
            start(&boards[i], pass, npass, fw_arg);
    if (tty)
        draw(boards, n, true);
    follow(boards, n, tty);
    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        good += !boards[i].why_not[0] && boards[i].status == 0;
    printf("%zu of %zu boards written:\n", good, n);
    for (size_t i = 0; i < n; i++) {
        struct board *b = &boards[i];
        bool ok = !b->why_not[0] && b->status == 0;
        const char *what = b->why_not[0] ? b->why_not
                           : b->result[0] ? b->result
                           : b->last[0]   ? b->last
                                          : "no output";
        printf("  %-12s %-6s %5.1f s  %s\n", b->label, ok ? "ok" : "FAILED",
               b->end_ms > b->start_ms ? (double)(b->end_ms - b->start_ms) / 1000.0 : 0.0,
               what);
    }
    rc = good == n ? EXIT_OK : EXIT_FAIL;
out:
    esp01_serial_list_free(&usb);
    return rc;
}
