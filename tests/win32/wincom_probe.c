/*
 * wincom_probe - the Win32 backends on their own, for a run under Wine
 * (tests/win32/README.md):
 *   wincom_probe port COM7 TEXT   open, write TEXT, echo back what comes
 *                                 within 3 s, time an empty read
 *   wincom_probe open NAME [MS]   just the open, for its error text; hold
 *                                 the port MS milliseconds
 *   wincom_probe list             esp01_serial_ports, esp01_serial_nodes
 *   wincom_probe hash TEXT        MD5, SHA-256, SHA-1 of TEXT
 *   wincom_probe get URL          esp01_http_get
 */
#include "esp01/hash.h"
#include "esp01/http.h"
#include "esp01/port.h"
#include "esp01/serialports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port_test(const char *name, const char *text)
{
    esp01_err err = {0, ""};
    esp01_port *p;
    if (esp01_port_open_serial(&p, name, 115200, false, false, &err) < 0) {
        printf("open: %s\n", err.msg);
        return 1;
    }
    printf("open: ok, %u baud\n", p->baud);
    int rc = p->ops->set_dtr_rts(p, true, false, &err);
    printf("dtr/rts: %d %s\n", rc, rc ? err.msg : "");
    rc = p->ops->set_baud(p, 74880, &err);
    printf("74880 baud: %d %s\n", rc, rc ? err.msg : "");
    rc = esp01_port_write(p, (const uint8_t *)text, strlen(text), esp01_deadline_in(2000), &err);
    printf("write %zu bytes: %d %s\n", strlen(text), rc, rc ? err.msg : "");
    rc = p->ops->drain(p, esp01_deadline_in(2000), &err);
    printf("drain: %d %s\n", rc, rc ? err.msg : "");
    uint8_t buf[256];
    uint64_t t0 = esp01_now_ms();
    int n = esp01_port_read(p, buf, sizeof buf - 1, t0 + 3000, &err);
    if (n > 0) {
        buf[n] = 0;
        printf("read after %llu ms: %d bytes '%s'\n", (unsigned long long)(esp01_now_ms() - t0),
               n, (char *)buf);
    } else {
        printf("read: %d %s\n", n, err.msg);
    }
    t0 = esp01_now_ms();
    n = esp01_port_read(p, buf, sizeof buf, t0 + 500, &err);
    printf("empty read, 500 ms deadline: %d '%s' after %llu ms\n", n, n < 0 ? err.msg : "",
           (unsigned long long)(esp01_now_ms() - t0));
    rc = p->ops->discard_input(p, &err);
    printf("discard: %d %s\n", rc, rc ? err.msg : "");
    esp01_port_close(p);
    return 0;
}

static void show(const esp01_serial_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        const esp01_serial_port *p = &l->ports[i];
        printf("  %s path=%s %04x:%04x serial='%s' product='%s' driver='%s' bridge=%s\n",
               p->name, p->path, p->vid, p->pid, p->serial, p->product, p->driver,
               p->bridge ? p->bridge : "-");
    }
}

static int list(void)
{
    esp01_serial_list l;
    esp01_err err = {0, ""};
    int n = esp01_serial_ports(NULL, NULL, &l, &err);
    printf("esp01_serial_ports: %d %s\n", n, n < 0 ? err.msg : "");
    if (n > 0)
        show(&l);
    esp01_serial_list_free(&l);
    n = esp01_serial_nodes(NULL, &l, &err);
    printf("esp01_serial_nodes: %d %s\n", n, n < 0 ? err.msg : "");
    if (n > 0)
        show(&l);
    esp01_serial_list_free(&l);
    return 0;
}

static int hash(const char *text)
{
    uint8_t d[32];
    char hex[65];
    esp01_md5((const uint8_t *)text, strlen(text), d);
    esp01_hex(d, 16, hex);
    printf("md5    %s\n", hex);
    esp01_sha256((const uint8_t *)text, strlen(text), d);
    esp01_hex(d, 32, hex);
    printf("sha256 %s\n", hex);
    esp01_sha1((const uint8_t *)text, strlen(text), d);
    esp01_hex(d, 20, hex);
    printf("sha1   %s\n", hex);
    return 0;
}

static int get(const char *url)
{
    esp01_http_opts o;
    memset(&o, 0, sizeof o);
    o.connect_timeout_s = 5;
    o.stall_s = 5;
    o.max_bytes = 1 << 20;
    esp01_http_reply r;
    esp01_err err = {0, ""};
    int rc = esp01_http_get(url, &o, &r, &err);
    if (rc < 0) {
        printf("get: %d %s\n", rc, err.msg);
        return 1;
    }
    printf("get: status %ld, %zu bytes, content-length %lld, %u redirects, from %s\n", r.status,
           r.len, (long long)r.content_length, r.redirects, r.url);
    esp01_http_reply_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "port") == 0)
        return port_test(argv[2], argv[3]);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "open") == 0) {
        esp01_err err = {0, ""};
        esp01_port *p;
        int rc = esp01_port_open_serial(&p, argv[2], 115200, false, false, &err);
        printf("open %s: %d %s\n", argv[2], rc, rc < 0 ? err.msg : "ok");
        fflush(stdout);
        if (rc == 0) {
            esp01_sleep_ms(argc == 4 ? (uint32_t)atoi(argv[3]) : 0);
            esp01_port_close(p);
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return list();
    if (argc == 3 && strcmp(argv[1], "hash") == 0)
        return hash(argv[2]);
    if (argc == 3 && strcmp(argv[1], "get") == 0)
        return get(argv[2]);
    fprintf(stderr, "usage: wincom_probe port COMn TEXT | open NAME [MS] | list | hash TEXT | get URL\n");
    return 2;
}
