/* Files on a MicroPython device over the raw REPL; see include/esp01/devfs.h. */
#include "esp01/devfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "esp01/hash.h"

/* Raw deflate window the device's DeflateIO is told about (1 KiB). */
#define DEFLATE_WBITS 10
/* Output cap for small commands (a stat, a probe). */
#define SMALL_OUTPUT 4096
/* Largest device read chunk; a multiple of 3 so base64 pieces join
 * without padding. */
#define READ_PIECE 768

/*
 * Helpers defined on the device once per session.  _ex: type and size
 * (micro:bit firmware has os.size but no os.stat); _en: a name hex-encoded
 * so any byte survives the trip; _eV: check the temporary file and move it
 * over the target, by rename where the firmware has it, else by copying
 * on the device so the link is not involved any more.
 */
static const char probe[] =
    /* Helpers left by an earlier session would double the heap in use. */
    "for k in [k for k in globals() if k[:2]=='_e']:del globals()[k]\n"
    "import os,gc\n"
    "try:\n from binascii import a2b_base64 as _ea,b2a_base64 as _eb\n"
    "except:\n _ea=None\n"
    "try:\n from hashlib import sha256 as _es\n"
    "except:\n _es=None\n"
    "try:\n import deflate,io\n"
    " def _ez(b):return deflate.DeflateIO(io.BytesIO(_ea(b)),deflate.RAW,10).read()\n"
    "except:\n _ez=None\n"
    /* The numbers this port's VFS really raises (the WebAssembly port
     * raises Emscripten's, which its errno module does not list). */
    "_eN=2\n"
    "try:os.stat('/.esp01-none')\n"
    "except OSError as e:_eN=e.args[0]\nexcept:pass\n"
    "gc.collect()\n"
    "_eP=' '.join(str(x) for x in ('P',int(_ea!=None),int(_es!=None),int(_ez!=None),"
    "int(hasattr(os,'rename')),int(hasattr(os,'stat')),int(hasattr(os,'mkdir')),"
    "int(hasattr(os,'statvfs')),gc.mem_free()))\n"
    "print('N',_eN,_eP)\n";

/*
 * Helpers stay in the device's globals until a reset, so a later command
 * finds them by this key and skips sending them again.  Bump
 * CORE_REVISION when core_helpers() changes.
 */
#define CORE_REVISION 1u
static const char reuse_check[] =
    /* A fragmented heap on an 8 KiB board fails the next big exec. */
    "import gc;gc.collect()\n"
    "try:print('K',_eK,'N',_eN,_eP,int('_eW' in globals()))\n"
    "except NameError:print('K 0')";

/* Listing helpers, sent the first time a listing is asked for. */
static const char listing_helpers[] =
    "def _en(s):return _eh(bytes(s,'utf8'))\n"
    "def _eD(p):return os.listdir(p) if p else os.listdir()\n"
    "def _eL(p):\n"
    " for n in _eD(p):\n  t=_ex(p+'/'+n if p else n);print(t[0],t[1],_en(n))\n"
    "def _eW(p,r,H):\n"
    " for n in _eD(p):\n"
    "  q=p+'/'+n if p else n;s=r+'/'+n if r else n;t=_ex(q)\n"
    "  if t[0]=='d':print('d',0,_en(s),'-');_eW(q,s,H)\n"
    "  else:print('f',t[1],_en(s),_eH(q) if H and _es else '-')\n";


/* A growing string for generated code. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = true;
        return;
    }
    sb_add(b, tmp, (size_t)n);
}

/*
 * The helpers every operation uses, written for what the probe found so
 * that small devices get (and compile) only what they can run.
 */
static void core_helpers(const esp01_devfs *fs, struct sbuf *c)
{
    sb_printf(c, "def _eh(b):return ''.join('%%02x'%%c for c in b)\n");
    if (fs->has_stat)
        sb_printf(c, "def _ex(p):\n s=os.stat(p);return (s[0]&16384 and 'd' or 'f',s[6])\n");
    else
        sb_printf(c, "def _ex(p):return ('f',os.size(p))\n");
    if (fs->has_sha256)
        sb_printf(c, "def _eH(p):\n h=_es();f=open(p,'rb')\n"
                     " while 1:\n  b=f.read(256)\n  if not b:break\n  h.update(b)\n"
                     " f.close();return _eh(h.digest())\n");
    sb_printf(c, "def _eV(t,p,h,n):\n g=%s\n"
                 " if g!=%s:\n  os.remove(t);print('BAD',g);return\n",
              fs->has_sha256 ? "_eH(t)" : "_ex(t)[1]",
              fs->has_sha256 ? "h" : "n");
    if (fs->has_rename)
        sb_printf(c, " try:os.rename(t,p)\n"
                     " except OSError:\n  os.remove(p);os.rename(t,p)\n");
    else
        sb_printf(c, " a=open(t,'rb');b=open(p,'wb')\n"
                     " while 1:\n  c=a.read(256)\n  if not c:break\n  b.write(c)\n"
                     " a.close();b.close();os.remove(t)\n");
    sb_printf(c, " print('OK')\n");
}

/*
 * A device path as a Python string literal.  Control bytes are refused;
 * UTF-8 goes through as is (the raw REPL carries bytes >= 0x80 fine).
 */
static int path_literal(const char *path, char *out, size_t cap,
                        esp01_err *err)
{
    size_t o = 0, len = strlen(path);
    if (len >= ESP01_DEVPATH_MAX)
        return esp01_fail(err, ESP01_E_LIMIT, "device path too long: '%.40s...'",
                          path);
    out[o++] = '\'';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f)
            return esp01_fail(err, ESP01_E_INVAL,
                              "device path has a control character");
        if (o + 4 >= cap)
            return esp01_fail(err, ESP01_E_LIMIT, "device path too long");
        if (c == '\\' || c == '\'')
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return 0;
}

#define LIT_MAX (ESP01_DEVPATH_MAX * 2 + 4)

static int run_small(esp01_devfs *fs, const char *code, char **out,
                     esp01_err *err)
{
    return esp01_rawrepl_exec_capture(fs->repl, code, SMALL_OUTPUT, out, NULL,
                                      fs->timeout_ms, err);
}

/* Turn a device error about `path` into a message users understand. */
static int explain_fs(const esp01_devfs *fs, int rc, const char *path,
                      esp01_err *err);
#define explain(rc, path, err) explain_fs(fs, rc, path, err)

/*
 * Ports whose errno numbers have no names in MicroPython's table (the
 * WebAssembly port uses Emscripten's numbers) print "OSError: 44"; map
 * such numbers with the device's own errno module.
 */
static int by_number(const esp01_devfs *fs, const char *msg)
{
    const char *p = strstr(msg, "OSError: ");
    int n;
    if (!p || sscanf(p + 9, "%d", &n) != 1) {
        p = strstr(msg, "[Errno ");
        if (!p || sscanf(p + 7, "%d", &n) != 1)
            return ESP01_E_DEVICE;
    }
    if (n == fs->errno_noent)
        return ESP01_E_NOTFOUND;
    if (n == fs->errno_exist || n == fs->errno_notempty)
        return ESP01_E_EXISTS;
    if (n == fs->errno_nospc)
        return ESP01_E_NOSPACE;
    if (n == fs->errno_nodev)
        return ESP01_E_UNSUPPORTED;
    return ESP01_E_DEVICE;
}

static int explain_fs(const esp01_devfs *fs, int rc, const char *path,
                      esp01_err *err)
{
    if (!err)
        return rc;
    if (rc == ESP01_E_DEVICE)
        rc = by_number(fs, err->msg);
    switch (rc) {
    case ESP01_E_NOTFOUND:
        return esp01_fail(err, rc, "':%s': no such file or directory on the "
                                   "device", path);
    case ESP01_E_NOSPACE:
        return esp01_fail(err, rc, "':%s': the device filesystem is full",
                          path);
    case ESP01_E_EXISTS:
        if (strstr(err->msg, "ENOTEMPTY") || strstr(err->msg, "not empty"))
            return esp01_fail(err, rc, "':%s': the directory is not empty",
                              path);
        return esp01_fail(err, rc, "':%s': already exists", path);
    case ESP01_E_UNSUPPORTED:
        return esp01_fail(err, rc, "':%s': the device has no filesystem "
                                   "(512K firmware?)", path);
    case ESP01_E_NOMEM:
    case ESP01_E_INVAL:
    case ESP01_E_DEVICE: {
        char line[ESP01_ERR_MAX];
        memcpy(line, err->msg, sizeof line);
        return esp01_fail(err, rc, "':%.100s': %.200s", path, line);
    }
    default:
        return rc;
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode a hex name from the device; false if malformed or unsafe. */
static bool decode_name(const char *hex, size_t hlen, char *out, size_t cap,
                        bool allow_slash)
{
    if (hlen == 0 || hlen % 2 || hlen / 2 >= cap)
        return false;
    for (size_t i = 0; i < hlen / 2; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        unsigned char c = (unsigned char)(a << 4 | b);
        if (c == 0 || (c == '/' && !allow_slash))
            return false;
        out[i] = (char)c;
    }
    out[hlen / 2] = '\0';
    if (!strcmp(out, ".") || !strcmp(out, ".."))
        return false;
    /* No empty, "." or ".." components in walked paths either. */
    for (const char *c = out; *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n + (e ? 1 : 0);
    }
    return true;
}

/*
 * Run code that must arrive whole even where bytes can be lost on the line
 * (plain raw mode): it travels as a string literal whose length the device
 * checks before running it, and is sent again when it arrived short.
 */
static int run_guarded(esp01_devfs *fs, const char *code, char **out,
                       esp01_err *err)
{
    struct sbuf g = {0};
    sb_add(&g, "_g='", 4);
    size_t n = 0;
    for (const char *c = code; *c; c++, n++) {
        if (*c == '\n')
            sb_add(&g, "\\n", 2);
        else if (*c == '\\' || *c == '\'')
            sb_add(&g, "\\", 1), sb_add(&g, c, 1);
        else
            sb_add(&g, c, 1);
    }
    sb_printf(&g, "'\nif len(_g)==%zu:exec(_g)\nelse:print('LOST')\ndel _g", n);
    if (g.failed) {
        free(g.p);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    int rc = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        free(*out);
        *out = NULL;
        rc = run_small(fs, g.p, out, err);
        if (rc == 0 && strncmp(*out, "LOST", 4) == 0)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "bytes were lost on the line three times running");
        else
            break;
    }
    free(g.p);
    return rc;
}

int esp01_devfs_open(esp01_devfs *fs, esp01_rawrepl *repl, esp01_err *err)
{
    memset(fs, 0, sizeof *fs);
    fs->repl = repl;
    fs->timeout_ms = 20000;
    unsigned long key = (crc32(0L, (const Bytef *)probe, sizeof probe) ^
                         crc32(0L, (const Bytef *)listing_helpers,
                               sizeof listing_helpers)) + CORE_REVISION;
    char *out = NULL;
    int rc = run_small(fs, reuse_check, &out, err);
    if (rc < 0) {
        free(out);
        return rc;
    }
    unsigned long have = 0;
    int listing = 0;
    bool reuse = sscanf(out, "K %lu", &have) == 1 && have == key;
    if (reuse) {
        const char *tail = strrchr(out, ' ');
        listing = tail && tail[1] == '1';
    } else {
        /* In pieces: the micro:bit's 8 KiB heap cannot compile it at once. */
        free(out);
        out = NULL;
        rc = run_guarded(fs, probe, &out, err);
    }
    if (rc < 0) {
        free(out);
        if (rc == ESP01_E_NOMEM)
            return esp01_fail(err, rc, "the device ran out of memory setting "
                                       "up file transfer");
        return rc;
    }
    fs->errno_noent = 2;
    fs->errno_exist = 17;
    fs->errno_nospc = 28;
    fs->errno_nodev = 19;
    fs->errno_notempty = 39;
    const char *en = strstr(out, "N ");
    if (en)
        sscanf(en, "N %d", &fs->errno_noent);
    const char *p = strstr(out, "P ");
    int v[7];
    unsigned long mem = 0;
    if (!p || sscanf(p, "P %d %d %d %d %d %d %d %lu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &mem) != 8) {
        free(out);
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "unexpected answer to the capability probe");
    }
    free(out);
    fs->has_base64 = v[0];
    fs->has_sha256 = v[1];
    fs->has_deflate = v[2] && v[0];
    fs->has_rename = v[3];
    fs->has_stat = v[4];
    fs->has_mkdir = v[5];
    fs->has_statvfs = v[6];
    /* Source, its compiled literals and the decoded data live at once:
     * each exec gets a fifth of the free heap. */
    fs->mem_free = mem > UINT32_MAX ? UINT32_MAX : (uint32_t)mem;
    fs->have_listing = listing;
    size_t budget = fs->mem_free / 5;
    fs->exec_budget = budget < 512 ? 512 : budget > 32768 ? 32768 : budget;
    if (reuse)
        return 0;
    struct sbuf core = {0};
    core_helpers(fs, &core);
    sb_printf(&core, "_eK=%lu\n", key);
    if (core.failed) {
        free(core.p);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    out = NULL;
    rc = run_guarded(fs, core.p, &out, err);
    free(core.p);
    free(out);
    return rc < 0 ? rc : 0;
}

esp01_devfs_encoding esp01_devfs_effective_encoding(const esp01_devfs *fs)
{
    switch (fs->encoding) {
    case ESP01_ENC_DEFLATE:
        return fs->has_deflate ? ESP01_ENC_DEFLATE
               : fs->has_base64 ? ESP01_ENC_BASE64 : ESP01_ENC_REPR;
    case ESP01_ENC_BASE64:
        return fs->has_base64 ? ESP01_ENC_BASE64 : ESP01_ENC_REPR;
    case ESP01_ENC_REPR:
        return ESP01_ENC_REPR;
    case ESP01_ENC_AUTO:
    default:
        return fs->has_deflate ? ESP01_ENC_DEFLATE
               : fs->has_base64 ? ESP01_ENC_BASE64 : ESP01_ENC_REPR;
    }
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const esp01_dev_entry *)a)->name,
                  ((const esp01_dev_entry *)b)->name);
}

/*
 * Parse lines "T SIZE HEXNAME [SHA|-]" into entries.  Lines are device
 * output: anything malformed is a protocol error, never guessed at.
 */
static int parse_entries(const char *text, bool walk, size_t max,
                         esp01_dev_entry **out, size_t *count, esp01_err *err)
{
    esp01_dev_entry *list = NULL;
    size_t n = 0, cap = 0;
    const char *line = text;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        char buf[ESP01_DEVPATH_MAX * 2 + 100];
        if (llen && line[llen - 1] == '\r')
            llen--;
        if (llen == 0) {
            line += eol ? (size_t)(eol - line) + 1 : llen;
            if (!eol)
                break;
            continue;
        }
        if (llen >= sizeof buf) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "over-long listing line from the device");
        }
        memcpy(buf, line, llen);
        buf[llen] = '\0';
        char type, hex[ESP01_DEVPATH_MAX * 2 + 2], sha[80];
        unsigned long long size;
        int got = sscanf(buf, "%c %llu %513s %79s", &type, &size, hex, sha);
        if (got < 3 || (type != 'f' && type != 'd') || (walk && got != 4)) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "unexpected listing line from the device");
        }
        if (n == max) {
            free(list);
            return esp01_fail(err, ESP01_E_LIMIT,
                              "more than %zu entries on the device", max);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            esp01_dev_entry *nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                free(list);
                return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            }
            list = nl;
        }
        esp01_dev_entry *e = &list[n];
        memset(e, 0, sizeof *e);
        if (!decode_name(hex, strlen(hex), e->name, sizeof e->name, walk)) {
            free(list);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "the device listed a malformed name");
        }
        e->is_dir = type == 'd';
        e->size = size;
        if (got == 4 && strlen(sha) == 64) {
            bool ok = true;
            for (int i = 0; i < 64; i++)
                ok = ok && hexval(sha[i]) >= 0;
            if (ok) {
                memcpy(e->sha256, sha, 65);
                e->has_sha = true;
            }
        }
        n++;
        if (!eol)
            break;
        line = eol + 1;
    }
    if (n)
        qsort(list, n, sizeof *list, entry_cmp);
    *out = list;
    *count = n;
    return 0;
}

static int need_listing(esp01_devfs *fs, esp01_err *err)
{
    if (fs->have_listing)
        return 0;
    char *out = NULL;
    int rc = run_guarded(fs, listing_helpers, &out, err);
    free(out);
    if (rc == 0)
        fs->have_listing = true;
    return rc;
}

int esp01_devfs_parse_listing(const uint8_t *buf, size_t len, bool walk,
                              size_t max, esp01_dev_entry **out, size_t *count,
                              esp01_err *err)
{
    *out = NULL;
    *count = 0;
    char *text = malloc(len + 1);
    if (!text)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    memcpy(text, buf, len);
    text[len] = '\0';
    int rc = parse_entries(text, walk, max, out, count, err);
    free(text);
    return rc;
}

int esp01_devfs_list(esp01_devfs *fs, const char *dir, esp01_dev_entry **out,
                     size_t *count, esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 32];
    *out = NULL;
    *count = 0;
    int rc = path_literal(dir, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    if ((rc = need_listing(fs, err)) < 0)
        return rc;
    snprintf(code, sizeof code, "_eL(%s)", lit);
    char *text = NULL;
    rc = esp01_rawrepl_exec_capture(fs->repl, code, 4u << 20, &text, NULL,
                                    fs->timeout_ms, err);
    if (rc == 0)
        rc = parse_entries(text, false, 100000, out, count, err);
    free(text);
    return rc < 0 ? explain(rc, dir, err) : 0;
}

int esp01_devfs_walk(esp01_devfs *fs, const char *dir, bool hashes,
                     size_t max, esp01_dev_entry **out, size_t *count,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 32];
    *out = NULL;
    *count = 0;
    int rc = path_literal(dir, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    if ((rc = need_listing(fs, err)) < 0)
        return rc;
    snprintf(code, sizeof code, "_eW(%s,'',%d)", lit, hashes ? 1 : 0);
    char *text = NULL;
    rc = esp01_rawrepl_exec_capture(fs->repl, code, max * 700 + 1024, &text,
                                    NULL, fs->timeout_ms * 4, err);
    if (rc == 0)
        rc = parse_entries(text, true, max, out, count, err);
    free(text);
    return rc < 0 ? explain(rc, dir, err) : 0;
}

int esp01_devfs_stat(esp01_devfs *fs, const char *path, esp01_dev_entry *out,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "t=_ex(%s);print(t[0],t[1])", lit);
    char *text = NULL;
    rc = run_small(fs, code, &text, err);
    if (rc == 0) {
        char type;
        unsigned long long size;
        memset(out, 0, sizeof *out);
        if (sscanf(text, "%c %llu", &type, &size) != 2 ||
            (type != 'f' && type != 'd'))
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected answer to stat from the device");
        else {
            out->is_dir = type == 'd';
            out->size = size;
            const char *base = strrchr(path, '/');
            snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

static int simple_op(esp01_devfs *fs, const char *fmt, const char *path,
                     esp01_err *err)
{
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, fmt, lit);
    char *text = NULL;
    rc = run_small(fs, code, &text, err);
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

int esp01_devfs_remove(esp01_devfs *fs, const char *path, esp01_err *err)
{
    return simple_op(fs, "os.remove(%s)", path, err);
}

int esp01_devfs_mkdir(esp01_devfs *fs, const char *path, esp01_err *err)
{
    if (!fs->has_mkdir)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "this device's filesystem has no directories");
    int rc = simple_op(fs, "os.mkdir(%s)", path, err);
    esp01_dev_entry st;
    /* Ports that raise unlisted errno numbers: look before explaining. */
    if (rc == ESP01_E_DEVICE && esp01_devfs_stat(fs, path, &st, NULL) == 0)
        return explain(ESP01_E_EXISTS, path, err);
    return rc;
}

int esp01_devfs_rmdir(esp01_devfs *fs, const char *path, esp01_err *err)
{
    if (!fs->has_mkdir)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "this device's filesystem has no directories");
    int rc = simple_op(fs, "os.rmdir(%s)", path, err);
    esp01_dev_entry *list;
    size_t n;
    if (rc == ESP01_E_DEVICE &&
        esp01_devfs_list(fs, path, &list, &n, NULL) == 0) {
        free(list);
        if (n)
            return esp01_fail(err, ESP01_E_EXISTS,
                              "':%s': the directory is not empty", path);
    }
    return rc;
}

int esp01_devfs_sha256(esp01_devfs *fs, const char *path, char hex[65],
                       esp01_err *err)
{
    if (!fs->has_sha256)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the device has no hashlib.sha256");
    char lit[LIT_MAX], code[LIT_MAX + 32];
    int rc = path_literal(path, lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "print(_eH(%s))", lit);
    char *text = NULL;
    rc = run_small(fs, code, &text, err);
    if (rc == 0) {
        size_t n = strspn(text, "0123456789abcdef");
        if (n != 64)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected sha256 answer from the device");
        else {
            memcpy(hex, text, 64);
            hex[64] = '\0';
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

int esp01_devfs_df(esp01_devfs *fs, const char *path, uint64_t *total,
                   uint64_t *avail, uint32_t *block_size, esp01_err *err)
{
    if (!fs->has_statvfs)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "the device firmware has no os.statvfs");
    char lit[LIT_MAX], code[LIT_MAX + 64];
    int rc = path_literal(path[0] ? path : "/", lit, sizeof lit, err);
    if (rc < 0)
        return rc;
    snprintf(code, sizeof code, "s=os.statvfs(%s);print(s[1],s[2],s[4])", lit);
    char *text = NULL;
    rc = run_small(fs, code, &text, err);
    if (rc == 0) {
        unsigned long long bs, blocks, av;
        if (sscanf(text, "%llu %llu %llu", &bs, &blocks, &av) != 3 ||
            bs == 0 || bs > (1u << 24) || blocks > (1ull << 40) || av > blocks)
            rc = esp01_fail(err, ESP01_E_PROTOCOL,
                            "unexpected statvfs answer from the device");
        else {
            *total = bs * blocks;
            *avail = bs * av;
            *block_size = (uint32_t)bs;
        }
    }
    free(text);
    return rc < 0 ? explain(rc, path, err) : 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode the device's base64 or hex dump (whitespace between pieces). */
static int decode_dump(const char *text, size_t tlen, bool base64,
                       uint8_t *out, size_t cap, size_t *out_len,
                       esp01_err *err)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < tlen; i++) {
        char c = text[i];
        if (c == '\n' || c == '\r' || c == ' ')
            continue;
        int v;
        if (base64) {
            if (c == '=') {
                pad++;
                continue;
            }
            v = b64val(c);
            if (v < 0 || pad)
                goto bad;
            acc = acc << 6 | (uint32_t)v;
            bits += 6;
        } else {
            v = hexval(c);
            if (v < 0)
                goto bad;
            acc = acc << 4 | (uint32_t)v;
            bits += 4;
        }
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "the device sent more data than expected");
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = o;
    return 0;
bad:
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "malformed file data from the device");
}

int esp01_devfs_read(esp01_devfs *fs, const char *path, size_t max,
                     uint8_t **data, size_t *len, esp01_err *err)
{
    *data = NULL;
    *len = 0;
    esp01_dev_entry st;
    int rc = esp01_devfs_stat(fs, path, &st, err);
    if (rc < 0)
        return rc;
    if (st.is_dir)
        return esp01_fail(err, ESP01_E_INVAL, "':%s' is a directory", path);
    if (st.size > max)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "':%s' is larger than %zu bytes", path, max);
    if (fs->get_data) {
        uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
        if (!buf)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        if ((rc = fs->get_data(fs, path, buf, (size_t)st.size, err)) < 0) {
            free(buf);
            return rc;
        }
        *data = buf;
        *len = (size_t)st.size;
        return 0;
    }
    char lit[LIT_MAX], code[LIT_MAX + 200];
    if ((rc = path_literal(path, lit, sizeof lit, err)) < 0)
        return rc;
    /* Hex-encoding a piece makes a small string per byte: keep it small
     * on a tiny heap. */
    size_t piece = fs->mem_free / 64;
    piece = piece < 48 ? 48 : piece > READ_PIECE ? READ_PIECE : piece;
    piece -= piece % 3;
    snprintf(code, sizeof code,
             "f=open(%s,'rb')\nwhile 1:\n b=f.read(%zu)\n if not b:break\n"
             " print(%s)\nf.close();del f,b\ngc.collect()\n",
             lit, piece, fs->has_base64 ? "_eb(b)[:-1].decode()" : "_eh(b)");
    /* Output grows by up to 2x (hex) plus line ends; a file that grew
     * since the stat is cut off by the cap and reported. */
    size_t cap = (size_t)st.size * 2 + (size_t)st.size / piece * 4 + 64;
    char *text = NULL;
    size_t tlen = 0;
    uint32_t timeout = fs->timeout_ms +
        (uint32_t)((uint64_t)cap * 1000 / (fs->repl->line_bytes_per_s / 2 + 1));
    rc = esp01_rawrepl_exec_capture(fs->repl, code, cap, &text, &tlen,
                                    timeout, err);
    if (rc < 0) {
        free(text);
        return explain(rc, path, err);
    }
    uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
    if (!buf) {
        free(text);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    size_t got = 0;
    rc = decode_dump(text, tlen, fs->has_base64, buf, (size_t)st.size, &got, err);
    free(text);
    if (rc == 0 && got != st.size)
        rc = esp01_fail(err, ESP01_E_PROTOCOL,
                        "':%s': got %zu of %llu bytes from the device", path,
                        got, (unsigned long long)st.size);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = got;
    return 0;
}

size_t esp01_devfs_bytes_literal(const uint8_t *data, size_t len, char *out,
                                 size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 4)
        return 0;
    out[o++] = 'b';
    out[o++] = '\'';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (o + 6 > cap)
            return 0;
        if (c == '\\' || c == '\'') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
    }
    if (o + 2 > cap)
        return 0;
    out[o++] = '\'';
    out[o] = '\0';
    return o;
}

/* Raw deflate of one piece with the device's window; 0 if it does not
 * shrink (the caller then sends the piece uncompressed). */
static size_t deflate_piece(const uint8_t *in, size_t n, uint8_t *out,
                            size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, -DEFLATE_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return zr == Z_STREAM_END && got < n ? got : 0;
}

/* Append one statement that writes `piece` to the open temporary file. */
/*
 * Append one statement that writes `piece` to the open temporary file.
 * With `best`, the shortest form the device can decode is used: text
 * often travels better as a bytes literal than as base64.
 */
static int add_piece(struct sbuf *code, esp01_devfs_encoding enc, bool best,
                     bool can_b64, const uint8_t *piece, size_t n,
                     esp01_err *err)
{
    size_t need = n * 4 + 64;
    char *lit = malloc(need), *alt = malloc(need);
    uint8_t *z = malloc(n + 64);
    if (!lit || !z || !alt) {
        free(lit);
        free(alt);
        free(z);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    const char *fn = NULL; /* decoder, NULL for a plain literal */
    size_t len = 0;
    if (enc != ESP01_ENC_REPR) {
        size_t zn = enc == ESP01_ENC_DEFLATE ? deflate_piece(piece, n, z, n + 64) : 0;
        len = esp01_base64_encode(zn ? z : piece, zn ? zn : n, lit);
        fn = zn ? "_ez" : "_ea";
    }
    if (enc == ESP01_ENC_REPR || (best && can_b64) || !can_b64) {
        size_t rl = esp01_devfs_bytes_literal(piece, n, alt, need);
        if (enc == ESP01_ENC_REPR || !fn || rl < len + 3) {
            memcpy(lit, alt, rl + 1);
            fn = NULL;
        }
    }
    if (fn) {
        sb_printf(code, "_ew(%s(b'", fn);
        sb_add(code, lit, strlen(lit));
        sb_add(code, "'))\n", 4);
    } else {
        sb_add(code, "_ew(", 4);
        sb_add(code, lit, strlen(lit));
        sb_add(code, ")\n", 2);
    }
    free(lit);
    free(alt);
    free(z);
    return code->failed ? esp01_fail(err, ESP01_E_NOMEM, "out of memory") : 0;
}

/* Temporary name next to the target: "dir/.name.part". */
static int temp_name(const char *path, char *out, size_t cap, esp01_err *err)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return esp01_fail(err, ESP01_E_INVAL, "':%s' names a directory", path);
    int n = snprintf(out, cap, "%.*s.%s.part", (int)dlen, path, base);
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "device path too long");
    return 0;
}

static void write_cleanup(esp01_devfs *fs, const char *tlit)
{
    char code[LIT_MAX + 128];
    snprintf(code, sizeof code,
             "try:\n _ef.close()\nexcept:\n pass\n"
             "try:\n os.remove(%s)\nexcept:\n pass\n", tlit);
    char *text = NULL;
    esp01_rawrepl_exec_capture(fs->repl, code, SMALL_OUTPUT, &text, NULL,
                               fs->timeout_ms, NULL);
    free(text);
}

static int write_once(esp01_devfs *fs, const char *path, const uint8_t *data,
                      size_t len, esp01_err *err)
{
    char tmp[ESP01_DEVPATH_MAX + 16], tlit[LIT_MAX + 32], plit[LIT_MAX];
    int rc = temp_name(path, tmp, sizeof tmp, err);
    if (rc < 0)
        return rc;
    if ((rc = path_literal(tmp, tlit, sizeof tlit, err)) < 0 ||
        (rc = path_literal(path, plit, sizeof plit, err)) < 0)
        return rc;
    esp01_devfs_encoding enc = esp01_devfs_effective_encoding(fs);
    size_t budget = fs->exec_budget;
    /* Raw bytes per statement: small enough that one statement's literal
     * and its decoded bytes fit the budget many times over. */
    size_t piece = enc == ESP01_ENC_REPR ? budget / 3 : budget / 2;
    if (enc == ESP01_ENC_DEFLATE)
        piece = budget;
    if (piece > 4096)
        piece = 4096;
    if (piece < 64)
        piece = 64;

    /* The last exec checks the copy, then moves it into place: one exec
     * that the link cannot split. */
    uint8_t sha[32];
    char hex[65];
    esp01_sha256(data, len, sha);
    esp01_hex(sha, 32, hex);
    char vcode[3 * LIT_MAX + 200];
    snprintf(vcode, sizeof vcode, "_ef.close();del _ef,_ew\n_eV(%s,%s,'%s',%zu)",
             tlit, plit, hex, len);

    struct sbuf code = {0};
    sb_printf(&code, "_ef=open(%s,'wb');_ew=_ef.write\n", tlit);
    size_t done = 0;
    /* Where files can seek, each exec says where its data goes, so an exec
     * that failed half-way (bytes lost inside a literal) can simply be sent
     * again. */
    bool seekable = fs->has_stat;
    bool have_piece = false; /* the exec being built holds data */
    size_t head = 0;         /* where its data statements start */
    bool flush = len == 0;
    if (fs->progress)
        fs->progress(fs->progress_ctx, 0, len);
    while (done < len || flush) {
        if (!flush) {
            if (code.len == 0 && seekable)
                sb_printf(&code, "_ef.seek(%zu)\n", done);
            if (!have_piece)
                head = code.len;
            size_t mark = code.len;
            size_t n = len - done < piece ? len - done : piece;
            rc = add_piece(&code, enc, fs->encoding == ESP01_ENC_AUTO,
                           fs->has_base64, data + done, n, err);
            if (rc < 0)
                break;
            if (code.len > budget && mark > head) {
                code.len = mark; /* this piece opens the next exec */
                code.p[code.len] = '\0';
            } else {
                done += n;
                have_piece = true;
            }
            flush = code.len > budget || mark == code.len || done == len;
            if (!flush)
                continue;
        }
        bool last = done == len;
        if (last)
            sb_add(&code, vcode, strlen(vcode));
        if (code.failed) {
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            break;
        }
        char *out = NULL;
        for (int again = 0; again < 3; again++) {
            free(out);
            out = NULL;
            rc = esp01_rawrepl_exec_capture(fs->repl, code.p, SMALL_OUTPUT,
                                            &out, NULL, fs->timeout_ms, err);
            /* ValueError from a2b_base64, TypeError, NameError: garbled
             * on the way.  Real device errors are classified otherwise. */
            if (rc != ESP01_E_DEVICE || !seekable || last)
                break;
        }
        if (rc == 0 && last && !strstr(out, "OK"))
            rc = esp01_fail(err, ESP01_E_CHECKSUM,
                            "':%s': the copy on the device does not match "
                            "(data lost on the line); the old file was kept",
                            path);
        free(out);
        if (rc < 0)
            break;
        code.len = 0;
        flush = false;
        have_piece = false;
        if (fs->progress)
            fs->progress(fs->progress_ctx, done, len);
    }
    free(code.p);
    if (rc < 0) {
        int saved = rc;
        if (rc != ESP01_E_IO && rc != ESP01_E_TIMEOUT && rc != ESP01_E_CHECKSUM)
            write_cleanup(fs, tlit);
        return explain(saved, path, err);
    }
    return 0;
}

/*
 * The same atomic put with the data carried by fs->put_data: the raw REPL
 * creates the temporary file first (so a missing directory or a full
 * filesystem fails with the board's own error, not a dropped connection),
 * and _eV checks it (sha256, or its size) before the rename.
 */
static int write_via(esp01_devfs *fs, const char *path, const uint8_t *data,
                     size_t len, esp01_err *err)
{
    char tmp[ESP01_DEVPATH_MAX + 16], tlit[LIT_MAX + 32], plit[LIT_MAX];
    int rc = temp_name(path, tmp, sizeof tmp, err);
    if (rc < 0 || (rc = path_literal(tmp, tlit, sizeof tlit, err)) < 0 ||
        (rc = path_literal(path, plit, sizeof plit, err)) < 0)
        return rc;
    char code[3 * LIT_MAX + 200];
    snprintf(code, sizeof code, "open(%s,'wb').close()", tlit);
    char *out = NULL;
    rc = run_small(fs, code, &out, err);
    free(out);
    if (rc < 0)
        return explain(rc, path, err);
    if (fs->progress)
        fs->progress(fs->progress_ctx, 0, len);
    if ((rc = fs->put_data(fs, tmp, data, len, err)) < 0)
        return rc;
    if (fs->progress)
        fs->progress(fs->progress_ctx, len, len);
    uint8_t sha[32];
    char hex[65];
    esp01_sha256(data, len, sha);
    esp01_hex(sha, 32, hex);
    snprintf(code, sizeof code, "_eV(%s,%s,'%s',%zu)", tlit, plit, hex, len);
    out = NULL;
    rc = run_small(fs, code, &out, err);
    if (rc == 0 && !strstr(out, "OK"))
        rc = esp01_fail(err, ESP01_E_CHECKSUM,
                        "':%s': the copy on the device does not match (%s "
                        "check after the file transfer); the old file was kept",
                        path, fs->has_sha256 ? "sha256" : "size");
    free(out);
    return rc < 0 && rc != ESP01_E_CHECKSUM ? explain(rc, path, err) : rc;
}

int esp01_devfs_write(esp01_devfs *fs, const char *path, const uint8_t *data,
                      size_t len, esp01_err *err)
{
    if (fs->put_data)
        return write_via(fs, path, data, len, err);
    size_t budget = fs->exec_budget;
    int rc = 0;
    /* Lost bytes show up as a mismatch, a garbled statement or a garbled
     * reply; a heap too small as MemoryError.  All leave the old file in
     * place, so try again with smaller pieces.  A dead line or a full
     * filesystem will not get better. */
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = write_once(fs, path, data, len, err);
        if (rc != ESP01_E_CHECKSUM && rc != ESP01_E_DEVICE &&
            rc != ESP01_E_PROTOCOL && rc != ESP01_E_NOMEM)
            break;
        fs->exec_budget = fs->exec_budget / 2 < 256 ? 256 : fs->exec_budget / 2;
        if (rc == ESP01_E_PROTOCOL &&
            esp01_rawrepl_enter(fs->repl, false, 3000, NULL) < 0)
            break;
    }
    fs->exec_budget = budget;
    return rc;
}
