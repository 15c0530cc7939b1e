/*
 * The tool's side of WebREPL connections: where the password comes from
 * (never the command line in examples, never printed) and opening a
 * ws:// port for the device commands.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "esp01/webrepl.h"

/* One line from the terminal without echo; Ctrl-C cancels (ISIG is off so
 * that an interrupt cannot leave the terminal silent). */
static int ask(int fd, const char *prompt, char *out, size_t cap,
               esp01_err *err)
{
    struct termios saved, quiet;
    if (tcgetattr(fd, &saved) < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot use the terminal");
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ISIG);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 ||
        tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot use the terminal");
    size_t n = 0;
    int rc = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0 || c == 0x03 || c == 0x04) {
            rc = esp01_fail(err, ESP01_E_INTERRUPTED, "no password entered");
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (n + 1 < cap)
            out[n++] = c;
        else
            rc = ESP01_E_LIMIT; /* keep reading to the end of the line */
    }
    out[n] = '\0';
    tcsetattr(fd, TCSAFLUSH, &saved);
    if (write(fd, "\n", 1) < 0) {
        /* nothing to do: the prompt's line end is cosmetic */
    }
    if (rc == ESP01_E_LIMIT)
        rc = esp01_fail(err, ESP01_E_INVAL,
                        "a WebREPL password has %d to %d characters",
                        ESP01_WEBREPL_PASS_MIN, ESP01_WEBREPL_PASS_MAX);
    return rc;
}

int cli_webrepl_password(const struct cli_dev_opts *o, const char *what,
                         bool confirm, char *out, size_t cap, esp01_err *err)
{
    if (o->password) {
        if (strlen(o->password) >= cap)
            return esp01_fail(err, ESP01_E_INVAL,
                              "a WebREPL password has %d to %d characters",
                              ESP01_WEBREPL_PASS_MIN, ESP01_WEBREPL_PASS_MAX);
        strcpy(out, o->password);
        return esp01_webrepl_check_password(out, err);
    }
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "%s needs a WebREPL password: set "
                          "ESP01_WEBREPL_PASSWORD (no terminal to ask on)",
                          what);
    char prompt[400];
    snprintf(prompt, sizeof prompt, "WebREPL password for %s: ", what);
    int rc = ask(fd, prompt, out, cap, err);
    if (rc == 0)
        rc = esp01_webrepl_check_password(out, err);
    if (rc == 0 && confirm) {
        char again[64];
        rc = ask(fd, "Again, to confirm: ", again, sizeof again, err);
        if (rc == 0 && strcmp(again, out) != 0)
            rc = esp01_fail(err, ESP01_E_INVAL, "the passwords differ");
        memset(again, 0, sizeof again);
    }
    close(fd);
    return rc;
}

int cli_webrepl_open(const struct cli_dev_opts *o, uint32_t retry_ms,
                     esp01_port **out, esp01_err *err)
{
    uint32_t t = o->timeout_s ? o->timeout_s * 1000u : 5000u;
    uint64_t until = esp01_deadline_in(retry_ms);
    int rc;
    /* Connect before asking for a password: an unreachable board should
     * not cost the user a typed password first. */
    for (;;) {
        rc = esp01_port_open_webrepl(out, o->port, NULL, t, err);
        /* Refused while the board restarts its WebREPL server. */
        if (rc != ESP01_E_IO || esp01_now_ms() >= until)
            break;
        esp01_sleep_ms(200);
    }
    if (rc < 0)
        return rc;
    char pw[64];
    const char *where = esp01_webrepl_address(*out);
    rc = cli_webrepl_password(o, where, false, pw, sizeof pw, err);
    if (rc == 0)
        rc = esp01_webrepl_login(*out, where, pw, esp01_deadline_in(t), err);
    memset(pw, 0, sizeof pw);
    if (rc < 0) {
        esp01_port_close(*out);
        *out = NULL;
        return rc;
    }
    /* --baud paces plain raw mode here: the board's REPL input buffer is
     * as small over WiFi as over the UART. */
    (*out)->ops->set_baud(*out, o->baud, NULL);
    return 0;
}
