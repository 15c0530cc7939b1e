/*
 * esp01 ports [--probe [--reset]] [--json]: the USB serial ports, and with
 * --probe what answers on each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/portprobe.h"
#include "os/os.h"
#include "portpick.h"

static const char usage[] =
    "usage: esp01 ports [--probe [--reset]] [--json]\n"
    "\n"
    "List the USB serial ports: device, /dev/serial/by-path name (stable\n"
    "per USB socket: it tells identical adapters apart), bridge chip,\n"
    "VID:PID and serial number.  Ports are found through sysfs (Linux),\n"
    "the names of /dev/cu.* (macOS) or SetupAPI (Windows), and are not\n"
    "opened.\n"
    "\n"
    "  --probe   ask each port what is there: MicroPython (version, build,\n"
    "            board) through the raw REPL, which interrupts a running\n"
    "            program (Ctrl-C, not a reset) and leaves the board at its\n"
    "            prompt; else the ESP8266 ROM loader (chip, flash size) if\n"
    "            the chip is already in download mode; else nothing\n"
    "  --reset   with --probe: where nothing answered, pulse DTR/RTS into the\n"
    "            ROM loader (auto-reset wiring) and reset the board after\n"
    "  --json    the same as JSON\n";

static void json_str(const char *s)
{
    if (!s || !*s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

struct probed {
    int rc;                /* 0, or the library's code when it could not open */
    esp01_port_probe p;
    char why[ESP01_ERR_MAX];
};

struct probe_job {
    const esp01_serial_list *list;
    esp01_port_probe_opts opts;
};

static void probe_one(size_t i, void *slot, void *arg)
{
    const struct probe_job *j = arg;
    struct probed *r = slot;
    memset(r, 0, sizeof *r);
    esp01_err err = {0};
    r->rc = esp01_port_probe_path(j->list->ports[i].path, &j->opts, &r->p, &err);
    snprintf(r->why, sizeof r->why, "%s", err.msg);
}

/* Every port at once (one child process each on POSIX): a port where
 * nothing answers costs a few seconds of waiting. */
static void probe_all(const esp01_serial_list *l, bool reset, struct probed *out)
{
    struct probe_job j = {l, {0, 0, reset}};
    for (size_t i = 0; i < l->count; i++) {
        out[i].rc = ESP01_E_IO;
        snprintf(out[i].why, sizeof out[i].why, "cannot probe");
    }
    esp01_os_run_parallel(l->count, probe_one, &j, out, sizeof *out);
}

static void text_probe(const struct probed *r)
{
    const esp01_port_probe *q = &r->p;
    if (r->rc < 0) {
        printf("  answers:   cannot open it: %s\n", r->why);
        return;
    }
    switch (q->answer) {
    case ESP01_ANSWER_MICROPYTHON:
        printf("  answers:   MicroPython %s", q->mp_version);
        if (q->mp_build[0])
            printf(", %s", q->mp_build);
        if (q->mp_machine[0])
            printf(" (%s)", q->mp_machine);
        printf("\n");
        break;
    case ESP01_ANSWER_ROM:
        printf("  answers:   %s: %s", q->stub ? "a flasher stub" : "the ROM loader",
               q->is_esp8285 ? "ESP8285" : "ESP8266EX");
        if (q->flash_size) {
            char size[32];
            if (q->flash_size >= (1u << 20))
                snprintf(size, sizeof size, "%u MiB", q->flash_size >> 20);
            else
                snprintf(size, sizeof size, "%u KiB", q->flash_size >> 10);
            printf(", %s flash (JEDEC %02x%02x%02x)", size, q->jedec & 0xff,
                   (q->jedec >> 8) & 0xff, (q->jedec >> 16) & 0xff);
        } else {
            printf(", flash size unknown (%s)", q->detail);
        }
        printf("%s\n", q->reset_used ? "; reset back into its firmware" : "");
        break;
    default:
        printf("  answers:   nothing (%s)\n", q->detail[0] ? q->detail : "no reply");
        break;
    }
}

static void json_probe(const struct probed *r)
{
    const esp01_port_probe *q = &r->p;
    printf(", \"probe\": {\"answer\": ");
    if (r->rc < 0) {
        printf("\"error\", \"detail\": ");
        json_str(r->why);
    } else if (q->answer == ESP01_ANSWER_MICROPYTHON) {
        printf("\"micropython\", \"version\": ");
        json_str(q->mp_version);
        printf(", \"build\": ");
        json_str(q->mp_build);
        printf(", \"machine\": ");
        json_str(q->mp_machine);
    } else if (q->answer == ESP01_ANSWER_ROM) {
        printf("\"%s\", \"chip\": \"%s\", \"flash_size\": ", q->stub ? "stub" : "rom",
               q->is_esp8285 ? "ESP8285" : "ESP8266EX");
        if (q->flash_size)
            printf("%u, \"jedec\": \"%02x%02x%02x\"", q->flash_size, q->jedec & 0xff,
                   (q->jedec >> 8) & 0xff, (q->jedec >> 16) & 0xff);
        else
            printf("null, \"jedec\": null");
    } else {
        printf("\"nothing\", \"detail\": ");
        json_str(q->detail);
    }
    printf("}");
}

int cmd_ports(int argc, char **argv)
{
    bool probe = false, reset = false, json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "--probe"))
            probe = true;
        else if (!strcmp(argv[i], "--reset"))
            reset = true;
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else
            return cli_usage_error("ports", "unknown argument '%s'", argv[i]);
    }
    if (reset && !probe)
        return cli_usage_error("ports", "--reset goes with --probe");
    esp01_serial_list l;
    int rc = portpick_list(&l);
    if (rc != EXIT_OK)
        return rc;
    struct probed *pr = NULL;
    if (probe && l.count) {
        pr = calloc(l.count, sizeof *pr);
        if (!pr) {
            esp01_serial_list_free(&l);
            return cli_error("out of memory");
        }
        probe_all(&l, reset, pr);
    }
    if (json)
        printf("[");
    else if (!l.count)
        fprintf(stderr, "no USB serial port found\n");
    for (size_t i = 0; i < l.count; i++) {
        const esp01_serial_port *p = &l.ports[i];
        if (json) {
            printf("%s\n  {\"port\": ", i ? "," : "");
            json_str(p->path);
            printf(", \"by_path\": ");
            json_str(p->by_path);
            printf(", \"by_id\": ");
            json_str(p->by_id);
            printf(", \"bridge\": ");
            json_str(p->bridge);
            if (p->vid || p->pid)
                printf(", \"vid\": \"%04x\", \"pid\": \"%04x\"", p->vid, p->pid);
            else
                printf(", \"vid\": null, \"pid\": null");
            printf(", \"serial\": ");
            json_str(p->serial);
            printf(", \"manufacturer\": ");
            json_str(p->manufacturer);
            printf(", \"product\": ");
            json_str(p->product);
            printf(", \"driver\": ");
            json_str(p->driver);
            printf(", \"usb_location\": ");
            json_str(p->location);
            printf(", \"can_open\": %s", p->access_errno ? "false" : "true");
            if (pr)
                json_probe(&pr[i]);
            printf("}");
            continue;
        }
        printf("%s\n", p->path);
        printf("  bridge:    %s", p->bridge ? p->bridge : "unknown");
        if (p->vid || p->pid)
            printf(" %04x:%04x", p->vid, p->pid);
        if (p->manufacturer[0] || p->product[0])
            printf(" (%s%s%s)", p->manufacturer, p->manufacturer[0] && p->product[0] ? " " : "",
                   p->product);
        printf("\n");
        if (p->serial[0])
            printf("  serial:    %s\n", p->serial);
        else if (p->by_path[0])
            printf("  serial:    none (tell it by its by-path name)\n");
        else if (p->location[0])
            printf("  serial:    none (USB location %s)\n", p->location);
        else
            printf("  serial:    none\n");
        if (p->by_path[0])
            printf("  by-path:   %s\n", p->by_path);
        if (p->access_errno == ENOENT)
            printf("  access:    no device node\n");
        else if (p->access_errno)
            printf("  access:    this user may not open it (%s)\n", strerror(p->access_errno));
        if (pr)
            text_probe(&pr[i]);
    }
    if (json)
        printf("%s]\n", l.count ? "\n" : "");
    free(pr);
    esp01_serial_list_free(&l);
    return EXIT_OK;
}
