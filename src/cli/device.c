/*
 * The connection the device commands share: options common to them, one
 * open port and raw REPL session per process (so "esp01 put a.py : + reset"
 * runs over one connection), and Ctrl-C forwarding.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/webrepl.h"
#include "os/os.h"
#include "portpick.h"

volatile sig_atomic_t cli_interrupted;

static struct {
    esp01_port *port;
    esp01_rawrepl repl;
    esp01_devfs fs;
    bool fs_ready;
    char path[256];
} dev;

void cli_dev_opts_init(struct cli_dev_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = getenv("ESP01_PORT");
    o->baud = 115200;
    o->encoding = ESP01_ENC_AUTO;
    const char *np = getenv("ESP01_NO_PASTE");
    o->no_paste = np && *np && strcmp(np, "0") != 0;
    o->password = getenv("ESP01_WEBREPL_PASSWORD");
}

int cli_dev_arg(struct cli_dev_opts *o, int argc, char **argv, int *i,
                const char *cmd, const char *usage)
{
    int k = cli_dev_opt(o, argc, argv, *i, cmd);
    if (k < 0)
        return CLI_ARG_BAD;
    if (k) {
        *i += k - 1;
        return CLI_ARG_TAKEN;
    }
    if (!strcmp(argv[*i], "--help") || !strcmp(argv[*i], "-h")) {
        printf("%s%s", usage, cli_dev_options_help);
        return CLI_ARG_HELP;
    }
    return CLI_ARG_MINE;
}

int cli_dev_opt(struct cli_dev_opts *o, int argc, char **argv, int i,
                const char *cmd)
{
    const char *a = argv[i];
    const char *val = NULL;
    int used = 0;
    const char *names[] = {"--port", "-p", "--baud", "--encoding", "--timeout",
                           "--password"};
    size_t which = sizeof names / sizeof names[0];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k]);
        if (strcmp(a, names[k]) == 0) {
            if (i + 1 >= argc) {
                cli_usage_error(cmd, "%s needs a value", names[k]);
                return -1;
            }
            val = argv[i + 1];
            used = 2;
            which = k;
            break;
        }
        if (strncmp(a, names[k], n) == 0 && a[n] == '=') {
            val = a + n + 1;
            used = 1;
            which = k;
            break;
        }
    }
    if (!used && strcmp(a, "--no-paste") == 0) {
        o->no_paste = true;
        return 1;
    }
    if (!used && strcmp(a, "--webrepl-files") == 0) {
        o->webrepl_files = true;
        return 1;
    }
    if (!used)
        return 0;
    uint64_t v;
    switch (which) {
    case 0:
    case 1:
        o->port = val;
        break;
    case 2:
        if (!cli_parse_u64(val, &v) || v < 300 || v > 4000000) {
            cli_usage_error(cmd, "bad baud rate '%s'", val);
            return -1;
        }
        o->baud = (uint32_t)v;
        break;
    case 3:
        if (!strcmp(val, "auto"))
            o->encoding = ESP01_ENC_AUTO;
        else if (!strcmp(val, "deflate"))
            o->encoding = ESP01_ENC_DEFLATE;
        else if (!strcmp(val, "base64"))
            o->encoding = ESP01_ENC_BASE64;
        else if (!strcmp(val, "repr"))
            o->encoding = ESP01_ENC_REPR;
        else {
            cli_usage_error(cmd, "--encoding is auto, deflate, base64 or "
                                 "repr, not '%s'", val);
            return -1;
        }
        break;
    case 5:
        o->password = val;
        break;
    default:
        if (!cli_parse_u64(val, &v) || v > 86400) {
            cli_usage_error(cmd, "bad --timeout '%s' (seconds)", val);
            return -1;
        }
        o->timeout_s = (uint32_t)v;
        break;
    }
    return used;
}

const char cli_dev_options_help[] =
    "  -p, --port DEV     serial port, or ws://HOST[:PORT] for WebREPL\n"
    "                     (default: $ESP01_PORT, else the only USB serial\n"
    "                     port: see esp01 ports)\n"
    "  --baud N           baud rate (default 115200)\n"
    "  --timeout S        give up after S seconds without the device finishing\n"
    "  --no-paste         never use raw-paste mode (also ESP01_NO_PASTE=1)\n"
    "  --password PW      WebREPL password; better $ESP01_WEBREPL_PASSWORD,\n"
    "                     else it is asked for on the terminal\n"
    "  --webrepl-files    over WebREPL, move file data with its own file protocol\n";

void cli_dev_catch_sigint(void)
{
    esp01_os_catch_interrupt(&cli_interrupted);
}

/* Messages from the WebREPL port name the address already. */
static int open_error(const char *port, const esp01_err *err)
{
    if (strstr(err->msg, "ws://"))
        return cli_error("%s", err->msg);
    return cli_error("%s: %s", port, err->msg);
}

int cli_dev_repl(const struct cli_dev_opts *o, esp01_rawrepl **out)
{
    /* A reset ends a WebREPL session (the board frees its sockets): the
     * next command in a chain connects again. */
    bool again = dev.port && !dev.repl.in_raw && esp01_port_is_webrepl(dev.port);
    if (again)
        cli_dev_forget();
    if (dev.port) {
        if (!dev.repl.in_raw) {
            /* After a soft reset in a chain: the device's globals are gone. */
            esp01_err err = {0};
            dev.fs_ready = false;
            int rc = esp01_rawrepl_enter(&dev.repl, false, 5000, &err);
            if (rc < 0)
                return open_error(dev.path, &err);
        }
        *out = &dev.repl;
        return 0;
    }
    const char *path = o->port;
    if (!path || !*path) {
        int prc = portpick_auto(&path);
        if (prc != EXIT_OK)
            return prc;
    }
    esp01_err err = {0};
    /* DTR and RTS released: on auto-reset wiring either would reset or
     * hold the board in the boot loader. */
    int rc = esp01_webrepl_is_url(path)
                 ? cli_webrepl_open(o, again ? 10000 : 0, &dev.port, &err)
                 : esp01_port_open_serial(&dev.port, path, o->baud, false,
                                          false, &err);
    if (rc < 0) {
        dev.port = NULL;
        return cli_lib_error(rc, &err);
    }
    snprintf(dev.path, sizeof dev.path, "%s", path);
    esp01_rawrepl_init(&dev.repl, dev.port);
    dev.repl.cancel = &cli_interrupted;
    if (o->no_paste)
        dev.repl.paste_mode = ESP01_PASTE_NEVER;
    rc = esp01_rawrepl_enter(&dev.repl, false, 5000, &err);
    if (rc < 0) {
        esp01_port_close(dev.port);
        dev.port = NULL;
        return open_error(path, &err);
    }
    *out = &dev.repl;
    return 0;
}

const char *cli_dev_port(void)
{
    return dev.path;
}

int cli_dev_fs(const struct cli_dev_opts *o, esp01_devfs **out)
{
    esp01_rawrepl *r;
    int rc = cli_dev_repl(o, &r);
    if (rc)
        return rc;
    if (!dev.fs_ready) {
        esp01_err err = {0};
        rc = esp01_devfs_open(&dev.fs, r, &err);
        if (rc < 0)
            return cli_lib_error(rc, &err);
        dev.fs_ready = true;
    }
    if (o->webrepl_files && !esp01_port_is_webrepl(dev.port))
        return cli_error("--webrepl-files needs a ws:// port");
    dev.fs.put_data = NULL;
    dev.fs.get_data = NULL;
    if (o->webrepl_files)
        esp01_webrepl_use_for_files(&dev.fs, dev.port);
    dev.fs.encoding = o->encoding;
    if (o->timeout_s)
        dev.fs.timeout_ms = o->timeout_s * 1000;
    *out = &dev.fs;
    return 0;
}

void cli_dev_close(void)
{
    if (!dev.port)
        return;
    if (dev.repl.in_raw)
        esp01_rawrepl_leave(&dev.repl, NULL);
    dev.port->ops->drain(dev.port, esp01_deadline_in(500), NULL);
    esp01_port_close(dev.port);
    dev.port = NULL;
    dev.fs_ready = false;
}

void cli_dev_forget(void)
{
    if (!dev.port)
        return;
    esp01_port_close(dev.port);
    dev.port = NULL;
    dev.fs_ready = false;
}

const char *cli_dev_path(const char *arg)
{
    return arg && arg[0] == ':' ? arg + 1 : NULL;
}

int cli_dev_error(int rc, const esp01_err *err)
{
    if (rc == ESP01_E_INTERRUPTED)
        return cli_error("interrupted");
    /* Over WiFi a timeout is a stalled connection or a busy board, not
     * bytes lost on a line as the raw REPL's messages guess. */
    if (rc == ESP01_E_TIMEOUT && dev.port && esp01_port_is_webrepl(dev.port))
        return cli_error("%s: no answer in time (a stalled connection, or "
                         "the board is busy)", esp01_webrepl_address(dev.port));
    return cli_lib_error(rc, err);
}

bool cli_dev_join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    int n;
    if (dl == 0)
        n = snprintf(out, cap, "%s", name);
    else if (dir[dl - 1] == '/')
        n = snprintf(out, cap, "%s%s", dir, name);
    else
        n = snprintf(out, cap, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < cap;
}

struct progress {
    const char *label;
    uint64_t start;
};

static void show_progress(void *ctx, size_t done, size_t total)
{
    struct progress *p = ctx;
    fprintf(stderr, "\r%s  %zu/%zu bytes", p->label, done, total);
    fflush(stderr);
}

int cli_dev_upload(esp01_devfs *fs, const char *label, const char *target,
                   const uint8_t *data, size_t len)
{
    struct progress p = {label, esp01_now_ms()};
    bool tty = cli_stderr_is_tty();
    fs->progress = tty ? show_progress : NULL;
    fs->progress_ctx = &p;
    esp01_err err = {0};
    int rc = esp01_devfs_write(fs, target, data, len, &err);
    fs->progress = NULL;
    if (tty)
        fputs("\r\033[K", stderr);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    double s = (double)(esp01_now_ms() - p.start) / 1000.0;
    printf("%s -> :%s  %zu bytes  %.2f s\n", label, target, len, s);
    return EXIT_OK;
}

int cli_dev_ensure_dir(esp01_devfs *fs, const char *path)
{
    esp01_err err = {0};
    int rc = esp01_devfs_mkdir(fs, path, &err);
    if (rc == ESP01_E_EXISTS)
        return EXIT_OK;
    return rc < 0 ? cli_dev_error(rc, &err) : EXIT_OK;
}

static void stream_out(void *ctx, int stream, const uint8_t *b, size_t n)
{
    (void)ctx;
    FILE *f = stream == 1 ? stdout : stderr;
    fwrite(b, 1, n, f);
    fflush(f);
}

int cli_dev_run_code(const struct cli_dev_opts *o,
                     const uint8_t *code, size_t len)
{
    esp01_rawrepl *r;
    int rc = cli_dev_repl(o, &r);
    if (rc)
        return rc;
    cli_dev_catch_sigint();
    esp01_err err = {0};
    rc = esp01_rawrepl_exec(r, code, len, stream_out, NULL,
                            o->timeout_s * 1000u, &err);
    if (rc == ESP01_E_DEVICE || rc == ESP01_E_NOTFOUND ||
        rc == ESP01_E_NOSPACE || rc == ESP01_E_EXISTS || rc == ESP01_E_NOMEM ||
        rc == ESP01_E_UNSUPPORTED)
        return EXIT_FAIL; /* the traceback is already on stderr */
    if (rc == ESP01_E_INTERRUPTED) {
        if (err.msg[0] && strcmp(err.msg, "interrupted") != 0) {
            cli_error("%s", err.msg);
            /* The device is still busy; do not try to talk to it again. */
            cli_dev_forget();
        }
        return 130;
    }
    if (rc < 0)
        return cli_dev_error(rc, &err);
    return EXIT_OK;
}

/* The whole of `mkdir` and `rmdir`: they differ only in the operation. */
int cli_dev_each_dir(const char *cmd, const char *usage, int argc, char **argv,
                     int (*op)(esp01_devfs *fs, const char *path, esp01_err *err))
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *dirs[64];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, cmd, usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        const char *p = cli_dev_path(argv[i]);
        if (!p || !*p)
            return cli_usage_error(cmd, "'%s' is not a device path", argv[i]);
        if (n == 64)
            return cli_usage_error(cmd, "at most 64 directories at once");
        dirs[n++] = p;
    }
    if (!n)
        return cli_usage_error(cmd, "which directory? (e.g. esp01 %s :lib)", cmd);
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        esp01_err err = {0};
        rc = op(fs, dirs[i], &err);
        if (rc < 0)
            return cli_dev_error(rc, &err);
    }
    return EXIT_OK;
}
