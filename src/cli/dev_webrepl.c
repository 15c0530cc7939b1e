/*
 * The tool's side of WebREPL connections: where the password comes from
 * (never the command line in examples, never printed) and opening a
 * ws:// port for the device commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "esp01/webrepl.h"
#include "os/os.h"

/* One line from the terminal without echo (os.h); ESP01_E_NOTFOUND when
 * there is no terminal to ask on. */
static int ask(const char *prompt, char *out, size_t cap, esp01_err *err)
{
    esp01_err oe;
    int rc = esp01_os_read_secret(prompt, out, cap, &oe);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, rc, "no terminal to ask on");
    if (rc == ESP01_E_INTERRUPTED)
        return esp01_fail(err, rc, "no password entered");
    if (rc == ESP01_E_LIMIT)
        return esp01_fail(err, ESP01_E_INVAL,
                          "a WebREPL password has %d to %d characters",
                          ESP01_WEBREPL_PASS_MIN, ESP01_WEBREPL_PASS_MAX);
    if (rc < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot use the terminal");
    return 0;
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
    char prompt[400];
    snprintf(prompt, sizeof prompt, "WebREPL password for %s: ", what);
    int rc = ask(prompt, out, cap, err);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, ESP01_E_INVAL,
                          "%s needs a WebREPL password: set "
                          "ESP01_WEBREPL_PASSWORD (no terminal to ask on)",
                          what);
    if (rc == 0)
        rc = esp01_webrepl_check_password(out, err);
    if (rc == 0 && confirm) {
        char again[64];
        rc = ask("Again, to confirm: ", again, sizeof again, err);
        if (rc == 0 && strcmp(again, out) != 0)
            rc = esp01_fail(err, ESP01_E_INVAL, "the passwords differ");
        memset(again, 0, sizeof again);
    }
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
