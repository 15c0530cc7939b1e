/* esp01 repl - interactive MicroPython prompt; Ctrl-] leaves. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 repl\n"
    "Talk to the device's MicroPython prompt.  Keys go to the device as\n"
    "typed (Ctrl-C interrupts a program there); Ctrl-] leaves.\n";

static struct termios saved;
static volatile sig_atomic_t have_saved, stop;

static void restore_terminal(void)
{
    if (have_saved)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    have_saved = 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

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
    bool tty = isatty(STDIN_FILENO);
    if (tty) {
        if (tcgetattr(STDIN_FILENO, &saved) < 0)
            return cli_error("cannot read the terminal settings");
        have_saved = 1;
        atexit(restore_terminal);
        struct termios raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
        fprintf(stderr, "Connected to %s; Ctrl-] leaves.\r\n", cli_dev_port());
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status = EXIT_OK;
    uint8_t buf[512];
    while (!stop) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (poll(&pfd, 1, 10) > 0) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
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
        int n = esp01_port_read(r->port, buf, sizeof buf,
                                esp01_deadline_in(10), &err);
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
        } else if (n != ESP01_E_TIMEOUT) {
            restore_terminal();
            status = cli_dev_error(n, &err);
            break;
        }
    }
    restore_terminal();
    if (tty)
        fputs("\n", stderr);
    return status;
}
