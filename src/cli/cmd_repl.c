/* esp01 repl - interactive MicroPython prompt; Ctrl-] leaves. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "os/os.h"

static const char usage[] =
    "usage: esp01 repl\n"
    "Talk to the device's MicroPython prompt.  Keys go to the device as\n"
    "typed (Ctrl-C interrupts a program there); Ctrl-] leaves.\n";

static volatile sig_atomic_t stop;

int cmd_repl(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "repl", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        return cli_usage_error("repl", "unexpected argument '%s'", argv[i]);
    }
    esp01_rawrepl *r;
    int rc = cli_dev_repl(&o, &r);
    if (rc)
        return rc;
    esp01_err err = {0};
    if ((rc = esp01_rawrepl_leave(r, &err)) < 0)
        return cli_dev_error(rc, &err);
    bool tty = esp01_os_isatty(ESP01_OS_STDIN);
    if (tty) {
        if (esp01_os_term_raw(NULL) < 0)
            return cli_error("cannot read the terminal settings");
        atexit(esp01_os_term_restore);
        fprintf(stderr, "Connected to %s; Ctrl-] leaves.\r\n", cli_dev_port());
    }
    esp01_os_catch_stop(&stop);
    int status = EXIT_OK;
    uint8_t buf[512];
    while (!stop) {
        int n = esp01_os_stdin_read(buf, sizeof buf, 10, NULL);
        if (n != ESP01_E_TIMEOUT) {
            if (n <= 0)
                break;
            uint8_t *quit = memchr(buf, 0x1d, (size_t)n);
            size_t send = quit ? (size_t)(quit - buf) : (size_t)n;
            if (send && esp01_port_write(r->port, buf, send,
                                         esp01_deadline_in(2000), &err) < 0) {
                status = cli_dev_error(err.code, &err);
                break;
            }
            if (quit)
                break;
        }
        n = esp01_port_read(r->port, buf, sizeof buf, esp01_deadline_in(10), &err);
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
        } else if (n != ESP01_E_TIMEOUT) {
            esp01_os_term_restore();
            status = cli_dev_error(n, &err);
            break;
        }
    }
    esp01_os_term_restore();
    if (tty)
        fputs("\n", stderr);
    return status;
}
