/* Device half of `esp01 info`: what the connected board is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/webrepl.h"

static const char usage[] =
    "usage: esp01 info [--port DEV]\n"
    "Describe the connected board: firmware, flash chip and the size the\n"
    "firmware was built for, filesystem, free heap, MAC address and WiFi.\n";

/* Each line "key value"; sections the firmware lacks are skipped. */
static const char probe[] =
    "import sys,gc,os\n"
    "print('version',sys.version)\n"
    "try:print('firmware',os.uname()[3])\nexcept:pass\n"
    "try:print('machine',os.uname()[4])\nexcept:pass\n"
    "try:\n import esp;print('flash_id',esp.flash_id());print('flash_size',esp.flash_size())\nexcept:pass\n"
    "try:\n s=os.statvfs('/');print('fs',s[1],s[2],s[4])\nexcept:pass\n"
    "gc.collect();print('heap',gc.mem_free(),gc.mem_alloc())\n"
    "try:\n import network as n;w=n.WLAN(n.STA_IF)\n"
    " print('mac',':'.join('%02x'%b for b in w.config('mac')))\n"
    " print('sta',int(w.active()),int(w.isconnected()),w.ifconfig()[0])\n"
    " a=n.WLAN(n.AP_IF);print('ap',int(a.active()),a.ifconfig()[0])\n"
    "except:pass\n";

static const char *value_of(const char *text, const char *key, char *out,
                            size_t cap)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l;) {
        const char *eol = strchr(l, '\n');
        size_t n = eol ? (size_t)(eol - l) : strlen(l);
        if (n > kl && !strncmp(l, key, kl) && l[kl] == ' ') {
            size_t vl = n - kl - 1;
            if (vl && l[kl + vl] == '\r')
                vl--;
            if (vl >= cap)
                vl = cap - 1;
            for (size_t i = 0; i < vl; i++) {
                unsigned char c = (unsigned char)l[kl + 1 + i];
                out[i] = c >= 0x20 && c != 0x7f ? (char)c : '?';
            }
            out[vl] = '\0';
            return out;
        }
        l = eol ? eol + 1 : NULL;
    }
    return NULL;
}

int cmd_info_device(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "info", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        return cli_usage_error("info", "unexpected argument '%s'", argv[i]);
    }
    esp01_rawrepl *r;
    int rc = cli_dev_repl(&o, &r);
    if (rc)
        return rc;
    esp01_err err = {0};
    char *text = NULL;
    rc = esp01_rawrepl_exec_capture(r, probe, 8192, &text, NULL, 10000, &err);
    if (rc < 0) {
        free(text);
        return cli_dev_error(rc, &err);
    }
    char v[200];
    if (esp01_webrepl_is_url(cli_dev_port()))
        printf("port:        %s (WebREPL)\n", cli_dev_port());
    else
        printf("port:        %s at %u baud\n", cli_dev_port(), o.baud);
    if (value_of(text, "firmware", v, sizeof v))
        printf("firmware:    %s\n", v);
    else if (value_of(text, "version", v, sizeof v))
        printf("python:      %s\n", v);
    if (value_of(text, "machine", v, sizeof v))
        printf("machine:     %s\n", v);
    unsigned long long id = 0, fsz = 0;
    if (value_of(text, "flash_id", v, sizeof v) && sscanf(v, "%llu", &id) == 1) {
        unsigned bits = (unsigned)(id >> 16 & 0xff);
        unsigned long long chip = bits >= 10 && bits < 32 ? 1ull << bits : 0;
        printf("flash id:    0x%06llx (manufacturer 0x%02llx, %llu KiB chip)\n",
               id, id & 0xff, chip / 1024);
        if (value_of(text, "flash_size", v, sizeof v) &&
            sscanf(v, "%llu", &fsz) == 1) {
            printf("flash size:  firmware built for %llu KiB", fsz / 1024);
            if (chip && fsz < chip)
                printf(" (the chip has %llu KiB: a larger firmware would "
                       "use it)", chip / 1024);
            else if (chip && fsz > chip)
                printf(" (MORE than the chip's %llu KiB: wrong firmware)",
                       chip / 1024);
            putchar('\n');
        }
    }
    unsigned long long bs, blocks, avail;
    if (value_of(text, "fs", v, sizeof v) &&
        sscanf(v, "%llu %llu %llu", &bs, &blocks, &avail) == 3)
        printf("filesystem:  %llu blocks of %llu bytes, %llu KiB used, %llu "
               "KiB free\n", blocks, bs, (blocks - avail) * bs / 1024,
               avail * bs / 1024);
    else
        printf("filesystem:  none mounted at / (512K firmware, or not "
               "formatted)\n");
    unsigned long long hf, ha;
    if (value_of(text, "heap", v, sizeof v) &&
        sscanf(v, "%llu %llu", &hf, &ha) == 2)
        printf("heap:        %llu bytes free, %llu in use\n", hf, ha);
    if (value_of(text, "mac", v, sizeof v))
        printf("mac:         %s\n", v);
    int act, con;
    char ip[64];
    if (value_of(text, "sta", v, sizeof v) &&
        sscanf(v, "%d %d %63s", &act, &con, ip) == 3)
        printf("wifi sta:    %s%s%s\n", act ? "active" : "off",
               con ? ", connected as " : act ? ", not connected" : "",
               con ? ip : "");
    if (value_of(text, "ap", v, sizeof v) && sscanf(v, "%d %63s", &act, ip) == 2)
        printf("wifi ap:     %s%s%s\n", act ? "active at " : "off",
               act ? ip : "", "");
    free(text);
    return EXIT_OK;
}
