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
 *   wincom_probe files DIR        os.h files, folders and held folders in
 *                                 DIR (which holds a link "lnk")
 *   wincom_probe hold FILE MS     keep FILE open, not shared for delete
 *   wincom_probe replace FROM TO  esp01_os_replace
 */
#include "esp01/hash.h"
#include "esp01/http.h"
#include "esp01/port.h"
#include "esp01/serialports.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

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


/* One line per call: "what: rc message". */
static void said(const char *what, int rc, const esp01_err *err)
{
    printf("%s: %d %s\n", what, rc, rc < 0 ? err->msg : "ok");
}

/* A path of DIR joined with more, into out. */
static const char *at(char *out, size_t cap, const char *dir, const char *more)
{
    snprintf(out, cap, "%s%s", dir, more);
    return out;
}

static void files_plain(const char *dir)
{
    char p[1024], q[1024], tmp[1100];
    esp01_err err = {0, ""};
    esp01_os_file *f;
    esp01_os_info info;
    /* U+00FC in UTF-8, made here: the probe's own argv is not UTF-8. */
    said("mkdir utf8", esp01_os_mkdir(at(p, sizeof p, dir, "/B\xc3\xbcro"), &err), &err);
    said("mkdir backslash", esp01_os_mkdir(at(p, sizeof p, dir, "\\B\xc3\xbcro\\Sensor"), &err),
         &err);
    said("mkdir again", esp01_os_mkdir(p, &err), &err);
    at(p, sizeof p, dir, "/B\xc3\xbcro/Sensor/a.bin");
    int rc = esp01_os_create_temp(p, tmp, sizeof tmp, &f, &err);
    said("create_temp", rc, &err);
    if (rc == 0) {
        said("write", esp01_os_write(f, "hello", 5, &err), &err);
        said("close", esp01_os_close(f, &err), &err);
        said("replace", esp01_os_replace(tmp, p, &err), &err);
    }
    rc = esp01_os_stat(p, true, &info, &err);
    printf("stat: %d type %d size %llu\n", rc, (int)info.type, (unsigned long long)info.size);
    esp01_os_map m;
    rc = esp01_os_map_file(p, 100, &m, &err);
    printf("map: %d '%.*s'\n", rc, (int)m.len, m.data ? (const char *)m.data : "");
    esp01_os_unmap(&m);
    said("map a folder", esp01_os_map_file(at(q, sizeof q, dir, "/B\xc3\xbcro"), 100, &m, &err), &err);
    said("open a missing file", esp01_os_open_read(at(q, sizeof q, dir, "/nothing"), &f,
                                                   &(uint64_t){0}, &err), &err);
    esp01_os_dir *d;
    if (esp01_os_dir_open(at(q, sizeof q, dir, "/B\xc3\xbcro"), &d, &err) == 0) {
        for (const char *n; (n = esp01_os_dir_next(d)) != NULL;)
            printf("listed: %s\n", n);
        esp01_os_dir_close(d);
    }
    printf("realpath: %d %s\n", esp01_os_realpath(p, q, sizeof q), q);
    said("remove", esp01_os_remove(p, &err), &err);
    printf("is_file after remove: %d\n", esp01_os_is_file(p));
}

static void files_long(const char *dir)
{
    char p[2048];
    esp01_err err = {0, ""};
    size_t len = (size_t)snprintf(p, sizeof p, "%s", dir);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++) {
        len += (size_t)snprintf(p + len, sizeof p - len, "/long-folder-name-%02d", i);
        rc = esp01_os_mkdir(p, &err);
    }
    printf("long mkdir (%zu bytes): %d %s\n", len, rc, rc < 0 ? err.msg : "ok");
    esp01_os_dirh *h;
    rc = esp01_os_dirh_open(p, &h, &err);
    said("long dirh", rc, &err);
    if (rc == 0) {
        said("long write", esp01_os_dirh_write_file(h, "x.txt", "abc", 3, NULL, false, &err), &err);
        esp01_os_dirh_close(h);
    }
    strcat(p, "/x.txt");
    printf("long is_file: %d\n", esp01_os_is_file(p));
}

static void files_held(const char *dir)
{
    esp01_err err = {0, ""};
    esp01_os_dirh *root, *sub;
    esp01_os_info info;
    int rc = esp01_os_dirh_open(dir, &root, &err);
    said("dirh_open", rc, &err);
    if (rc < 0)
        return;
    said("dirh_sub create", esp01_os_dirh_sub(root, "new", true, &sub, &err), &err);
    uint64_t t = 1700000000ull * 1000000000u;
    said("write new", esp01_os_dirh_write_file(sub, "f.txt", "one", 3, &t, false, &err), &err);
    said("write new again", esp01_os_dirh_write_file(sub, "f.txt", "two", 3, NULL, false, &err),
         &err);
    said("write replace", esp01_os_dirh_write_file(sub, "f.txt", "three", 5, NULL, true, &err),
         &err);
    said("mkdir", esp01_os_dirh_mkdir(sub, "d", &err), &err);
    said("mkdir again", esp01_os_dirh_mkdir(sub, "d", &err), &err);
    said("name NUL", esp01_os_dirh_write_file(sub, "NUL", "x", 1, NULL, false, &err), &err);
    said("name com1.txt", esp01_os_dirh_write_file(sub, "com1.txt", "x", 1, NULL, false, &err), &err);
    said("name a:b", esp01_os_dirh_write_file(sub, "a:b", "x", 1, NULL, false, &err), &err);
    said("name dot", esp01_os_dirh_write_file(sub, "x.", "x", 1, NULL, false, &err), &err);
    rc = esp01_os_dirh_stat(sub, "f.txt", &info, &err);
    printf("dirh_stat f.txt: %d type %d size %llu\n", rc, (int)info.type,
           (unsigned long long)info.size);
    esp01_os_dirh_close(sub);
    rc = esp01_os_dirh_stat(root, "lnk", &info, &err);
    printf("dirh_stat lnk: %d type %d\n", rc, (int)info.type);
    said("dirh_sub lnk", esp01_os_dirh_sub(root, "lnk", true, &sub, &err), &err);
    said("dirh_sub missing", esp01_os_dirh_sub(root, "missing", false, &sub, &err), &err);
    esp01_os_dirh_close(root);
}

static int files(const char *dir)
{
    files_plain(dir);
    files_long(dir);
    files_held(dir);
    char p[4096];
    esp01_err err = {0, ""};
    int rc = esp01_os_cache_dir(p, sizeof p, &err);
    printf("cache_dir: %d %s\n", rc, rc < 0 ? err.msg : p);
    printf("self_exe: %d %s\n", esp01_os_self_exe(p, sizeof p), p);
    uint64_t t0 = esp01_now_ms();
    esp01_sleep_ms(200);
    printf("slept: %llu ms\n", (unsigned long long)(esp01_now_ms() - t0));
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
    if (argc == 3 && strcmp(argv[1], "files") == 0)
        return files(argv[2]);
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        /* as many Windows programs open a file: others may only read */
        HANDLE h = CreateFileA(argv[2], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
        printf("hold: %s\n", h == INVALID_HANDLE_VALUE ? "cannot open" : "ok");
        fflush(stdout);
        Sleep((DWORD)atoi(argv[3]));
        CloseHandle(h);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "replace") == 0) {
        esp01_err err = {0, ""};
        said("replace", esp01_os_replace(argv[2], argv[3], &err), &err);
        return 0;
    }
    fprintf(stderr, "usage: wincom_probe port COMn TEXT | open NAME [MS] | list | hash TEXT | "
                    "get URL | files DIR | hold FILE MS | replace FROM TO\n");
    return 2;
}
