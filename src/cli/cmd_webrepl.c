/* esp01 webrepl setup - enable WebREPL on the board, over the serial port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/webrepl.h"

static const char usage[] =
    "usage: esp01 webrepl setup [--port DEV]\n"
    "Enable MicroPython's WebREPL over the serial port: write the password\n"
    "to :/webrepl_cfg.py, add 'import webrepl; webrepl.start()' to\n"
    ":/boot.py (once), and show the address the board will listen on.\n"
    "The password (4 to 9 characters) comes from $ESP01_WEBREPL_PASSWORD\n"
    "or is asked for twice on the terminal.  After a reset, every device\n"
    "command works with --port ws://ADDRESS.\n";

static const char start_line[] = "import webrepl; webrepl.start()\n";

/* Does an active (uncommented) line of boot.py start WebREPL already? */
static bool starts_webrepl(const char *text, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t s = i;
        while (s < e && (text[s] == ' ' || text[s] == '\t'))
            s++;
        if (s < e && text[s] != '#')
            for (size_t k = s; k + 14 <= e; k++)
                if (memcmp(text + k, "webrepl.start(", 14) == 0)
                    return true;
        i = e + 1;
    }
    return false;
}

static const char net_probe[] =
    "try:\n import network as n\n"
    " s=n.WLAN(n.STA_IF);a=n.WLAN(n.AP_IF)\n"
    " print('sta',int(s.isconnected()),s.ifconfig()[0])\n"
    " print('ap',int(a.active()),a.ifconfig()[0])\n"
    "except ImportError:\n print('none')\n";

static int show_addresses(esp01_rawrepl *r)
{
    esp01_err err = {0};
    char *text = NULL;
    int rc = esp01_rawrepl_exec_capture(r, net_probe, 1024, &text, NULL,
                                        10000, &err);
    if (rc < 0) {
        free(text);
        return cli_dev_error(rc, &err);
    }
    int con = 0, act = 0;
    char sta[48] = "", ap[48] = "";
    const char *p;
    if ((p = strstr(text, "sta ")))
        sscanf(p, "sta %d %47s", &con, sta);
    if ((p = strstr(text, "ap ")))
        sscanf(p, "ap %d %47s", &act, ap);
    if (strstr(text, "none"))
        printf("this board has no network module: WebREPL needs an ESP8266 "
               "(or another board with WiFi)\n");
    else if (con)
        printf("WiFi: connected as %s; after a reset: --port ws://%s\n", sta,
               sta);
    else
        printf("WiFi: not connected yet; connect the board to your network "
               "first (docs/webrepl.md)\n");
    if (act)
        printf("access point: %s; from a computer joined to it: --port "
               "ws://%s\n", ap, ap);
    free(text);
    return EXIT_OK;
}

static int write_file(esp01_devfs *fs, const char *path, const char *text,
                      size_t len)
{
    esp01_err err = {0};
    int rc = esp01_devfs_write(fs, path, (const uint8_t *)text, len, &err);
    return rc < 0 ? cli_dev_error(rc, &err) : EXIT_OK;
}

int cmd_webrepl(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *action = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "webrepl", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (action)
            return cli_usage_error("webrepl", "unexpected argument '%s'", argv[i]);
        action = argv[i];
    }
    if (!action || strcmp(action, "setup") != 0)
        return cli_usage_error("webrepl", "%s (esp01 webrepl setup)",
                               action ? "the only action is setup"
                                      : "which action?");
    if (o.port && esp01_webrepl_is_url(o.port))
        return cli_error("webrepl setup works over the serial port (a board "
                         "without WebREPL cannot be reached over WiFi)");
    esp01_err err = {0};
    char pw[64];
    int rc = cli_webrepl_password(&o, "the board", true, pw, sizeof pw, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    esp01_devfs *fs;
    if ((rc = cli_dev_fs(&o, &fs)) != 0)
        return rc;
    /* PASS = '...': only printable ASCII gets here; quote ' and \. */
    char cfg[128];
    size_t n = (size_t)snprintf(cfg, sizeof cfg, "PASS = '");
    for (const char *c = pw; *c; c++) {
        if (*c == '\'' || *c == '\\')
            cfg[n++] = '\\';
        cfg[n++] = *c;
    }
    n += (size_t)snprintf(cfg + n, sizeof cfg - n, "'\n");
    rc = write_file(fs, "/webrepl_cfg.py", cfg, n);
    memset(cfg, 0, sizeof cfg);
    memset(pw, 0, sizeof pw);
    if (rc)
        return rc;
    printf(":/webrepl_cfg.py: WebREPL password set\n");

    uint8_t *boot = NULL;
    size_t blen = 0;
    rc = esp01_devfs_read(fs, "/boot.py", 65536, &boot, &blen, &err);
    if (rc < 0 && rc != ESP01_E_NOTFOUND)
        return cli_dev_error(rc, &err);
    if (boot && starts_webrepl((const char *)boot, blen)) {
        printf(":/boot.py: starts WebREPL already\n");
    } else {
        size_t cap = blen + sizeof start_line + 1;
        char *nb = malloc(cap);
        if (!nb) {
            free(boot);
            return cli_error("out of memory");
        }
        size_t k = 0;
        if (blen) {
            memcpy(nb, boot, blen);
            k = blen;
            if (nb[k - 1] != '\n')
                nb[k++] = '\n';
        }
        memcpy(nb + k, start_line, sizeof start_line - 1);
        k += sizeof start_line - 1;
        rc = write_file(fs, "/boot.py", nb, k);
        free(nb);
        if (rc) {
            free(boot);
            return rc;
        }
        printf(":/boot.py: added '%.*s'\n", (int)sizeof start_line - 2,
               start_line);
    }
    free(boot);
    esp01_rawrepl *r;
    if ((rc = cli_dev_repl(&o, &r)) != 0)
        return rc;
    return show_addresses(r);
}
