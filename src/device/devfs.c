/*
 * Files on a MicroPython device over the raw REPL; see include/esp01/devfs.h.
 *
 * devfs.c owns the session: the capability probe, the helper functions
 * defined on the device, running generated code there (guarded against
 * bytes lost on the line) and turning device errors into messages.  The
 * operations built on it are in devfs_list.c, devfs_ops.c, devfs_get.c and
 * devfs_put.c (shared declarations in devfs_int.h).
 */
#include "esp01/devfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "devfs_int.h"

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


void devfs_sb_add(struct sbuf *b, const char *s, size_t n)
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

void devfs_sb_printf(struct sbuf *b, const char *fmt, ...)
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
    devfs_sb_add(b, tmp, (size_t)n);
}

/*
 * The helpers every operation uses, written for what the probe found so
 * that small devices get (and compile) only what they can run.
 */
static void core_helpers(const esp01_devfs *fs, struct sbuf *c)
{
    devfs_sb_printf(c, "def _eh(b):return ''.join('%%02x'%%c for c in b)\n");
    if (fs->has_stat)
        devfs_sb_printf(c, "def _ex(p):\n s=os.stat(p);return (s[0]&16384 and 'd' or 'f',s[6])\n");
    else
        devfs_sb_printf(c, "def _ex(p):return ('f',os.size(p))\n");
    if (fs->has_sha256)
        devfs_sb_printf(c, "def _eH(p):\n h=_es();f=open(p,'rb')\n"
                           " while 1:\n  b=f.read(256)\n  if not b:break\n  h.update(b)\n"
                           " f.close();return _eh(h.digest())\n");
    devfs_sb_printf(c, "def _eV(t,p,h,n):\n g=%s\n"
                       " if g!=%s:\n  os.remove(t);print('BAD',g);return\n",
                    fs->has_sha256 ? "_eH(t)" : "_ex(t)[1]",
                    fs->has_sha256 ? "h" : "n");
    if (fs->has_rename)
        devfs_sb_printf(c, " try:os.rename(t,p)\n"
                           " except OSError:\n  os.remove(p);os.rename(t,p)\n");
    else
        devfs_sb_printf(c, " a=open(t,'rb');b=open(p,'wb')\n"
                           " while 1:\n  c=a.read(256)\n  if not c:break\n  b.write(c)\n"
                           " a.close();b.close();os.remove(t)\n");
    devfs_sb_printf(c, " print('OK')\n");
}

int devfs_path_literal(const char *path, char *out, size_t cap,
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

int devfs_run_small(esp01_devfs *fs, const char *code, char **out,
                    esp01_err *err)
{
    return esp01_rawrepl_exec_capture(fs->repl, code, SMALL_OUTPUT, out, NULL,
                                      fs->timeout_ms, err);
}

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

int devfs_explain(const esp01_devfs *fs, int rc, const char *path,
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

/*
 * Run code that must arrive whole even where bytes can be lost on the line
 * (plain raw mode): it travels as a string literal whose length the device
 * checks before running it, and is sent again when it arrived short.
 */
static int run_guarded(esp01_devfs *fs, const char *code, char **out,
                       esp01_err *err)
{
    struct sbuf g = {0};
    devfs_sb_add(&g, "_g='", 4);
    size_t n = 0;
    for (const char *c = code; *c; c++, n++) {
        if (*c == '\n')
            devfs_sb_add(&g, "\\n", 2);
        else if (*c == '\\' || *c == '\'')
            devfs_sb_add(&g, "\\", 1), devfs_sb_add(&g, c, 1);
        else
            devfs_sb_add(&g, c, 1);
    }
    devfs_sb_printf(&g, "'\nif len(_g)==%zu:exec(_g)\nelse:print('LOST')\ndel _g", n);
    if (g.failed) {
        free(g.p);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    int rc = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        free(*out);
        *out = NULL;
        rc = devfs_run_small(fs, g.p, out, err);
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
    int rc = devfs_run_small(fs, reuse_check, &out, err);
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
    devfs_sb_printf(&core, "_eK=%lu\n", key);
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

int devfs_need_listing(esp01_devfs *fs, esp01_err *err)
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
