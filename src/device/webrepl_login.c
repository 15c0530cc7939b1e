/*
 * webrepl_login.c - reaching a WebREPL board: ws:// URLs, passwords and
 * the login dialogue; see include/esp01/webrepl.h.
 *
 * Opening the connection (port_webrepl.c) needs these, and the file
 * protocol (webrepl.c) runs over the connection port_webrepl.c opens, so
 * they live apart from both: webrepl.c -> port_webrepl.c -> here.
 */
#include "esp01/webrepl.h"

#include <string.h>

bool esp01_webrepl_is_url(const char *port)
{
    return port && (strncmp(port, "ws://", 5) == 0 ||
                    strncmp(port, "wss://", 6) == 0);
}

static bool host_char(char c, bool v6)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           (v6 && (c == ':' || c == '%'));
}

int esp01_webrepl_parse_url(const char *url, char *host, size_t cap,
                            uint16_t *port, esp01_err *err)
{
    if (strncmp(url, "wss://", 6) == 0)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "'%.80s': WebREPL on the board has no TLS; use ws://",
                          url);
    if (strncmp(url, "ws://", 5) != 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "'%.80s' is not a ws:// address", url);
    const char *p = url + 5, *h = p, *he;
    bool v6 = *p == '[';
    if (v6) {
        h = ++p;
        he = strchr(p, ']');
        if (!he)
            return esp01_fail(err, ESP01_E_INVAL, "'%.80s': no ']' after the "
                                                  "IPv6 address", url);
        p = he + 1;
    } else {
        while (*p && *p != ':' && *p != '/')
            p++;
        he = p;
    }
    size_t hl = (size_t)(he - h);
    if (hl == 0 || hl >= cap)
        return esp01_fail(err, ESP01_E_INVAL, "'%.80s': %s host name", url,
                          hl ? "too long a" : "no");
    for (size_t i = 0; i < hl; i++)
        if (!host_char(h[i], v6))
            return esp01_fail(err, ESP01_E_INVAL,
                              "'%.80s': unexpected character in the host name",
                              url);
    memcpy(host, h, hl);
    host[hl] = '\0';
    unsigned long pn = ESP01_WEBREPL_PORT;
    if (*p == ':') {
        p++;
        pn = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            pn = pn * 10 + (unsigned long)(*p++ - '0');
            digits++;
        }
        if (!digits || pn == 0 || pn > 65535)
            return esp01_fail(err, ESP01_E_INVAL, "'%.80s': bad port number",
                              url);
    }
    if (*p == '/')
        p++;
    if (*p)
        return esp01_fail(err, ESP01_E_INVAL,
                          "'%.80s': expected ws://HOST[:PORT] (WebREPL has no "
                          "paths)", url);
    *port = (uint16_t)pn;
    return 0;
}

int esp01_webrepl_check_password(const char *password, esp01_err *err)
{
    if (!password)
        return esp01_fail(err, ESP01_E_INVAL, "no WebREPL password given");
    size_t n = strlen(password);
    if (n < ESP01_WEBREPL_PASS_MIN || n > ESP01_WEBREPL_PASS_MAX)
        return esp01_fail(err, ESP01_E_INVAL,
                          "a WebREPL password has %d to %d characters (this "
                          "one has %zu)", ESP01_WEBREPL_PASS_MIN,
                          ESP01_WEBREPL_PASS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)password[i];
        /* The board ends the password at CR or LF; keep to what a
         * terminal can type and a Python literal can hold plainly. */
        if (c < 0x20 || c > 0x7e)
            return esp01_fail(err, ESP01_E_INVAL,
                              "a WebREPL password is printable ASCII "
                              "(character %zu is not)", i + 1);
    }
    return 0;
}

static bool seen_has(const char *seen, size_t n, const char *s)
{
    size_t sl = strlen(s);
    for (size_t i = 0; i + sl <= n; i++)
        if (memcmp(seen + i, s, sl) == 0)
            return true;
    return false;
}

int esp01_webrepl_login(esp01_port *port, const char *where,
                        const char *password, uint64_t deadline,
                        esp01_err *err)
{
    char seen[512];
    size_t n = 0;
    bool sent = false;
    /* Bounded by the deadline; the count only guards a peer that trickles
     * bytes forever without saying either thing. */
    for (int round = 0; round < 100000; round++) {
        uint8_t buf[256];
        int r = esp01_port_read(port, buf, sizeof buf, deadline, err);
        if (r == ESP01_E_TIMEOUT)
            return esp01_fail(err, r, sent
                ? "%s: no answer after the password"
                : "%s: no password prompt (not a WebREPL server?)", where);
        if (r < 0)
            return esp01_fail(err, ESP01_E_IO, sent
                ? "%s: the board closed the connection after the password "
                  "(wrong password?)"
                : "%s: the board closed the connection before asking for the "
                  "password", where);
        if (n + (size_t)r > sizeof seen) {
            /* Keep the tail: the words we look for are short. */
            size_t keep = 64 < n ? 64 : n;
            memmove(seen, seen + n - keep, keep);
            n = keep;
        }
        size_t take = (size_t)r < sizeof seen - n ? (size_t)r : sizeof seen - n;
        memcpy(seen + n, buf + (size_t)r - take, take);
        n += take;
        if (!sent) {
            if (seen_has(seen, n, "New password:"))
                return esp01_fail(err, ESP01_E_UNSUPPORTED,
                                  "%s: the board wants a WebREPL password set "
                                  "first; set one over serial with 'esp01 "
                                  "webrepl setup'", where);
            if (seen_has(seen, n, "Password: ")) {
                char line[ESP01_WEBREPL_PASS_MAX + 2];
                size_t pl = strlen(password);
                memcpy(line, password, pl);
                line[pl] = '\r';
                int rc = esp01_port_write(port, (const uint8_t *)line, pl + 1,
                                          deadline, err);
                memset(line, 0, sizeof line);
                if (rc < 0)
                    return rc;
                sent = true;
                n = 0;
            }
        } else {
            if (seen_has(seen, n, "WebREPL connected"))
                return 0;
            if (seen_has(seen, n, "Access denied"))
                return esp01_fail(err, ESP01_E_DEVICE,
                                  "%s: wrong WebREPL password (the board said "
                                  "Access denied)", where);
        }
    }
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "%s: endless text instead of a WebREPL login", where);
}
