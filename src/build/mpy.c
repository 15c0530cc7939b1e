#include "esp01/mpy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/port.h"
#include "os/os.h"

int esp01_mpy_header_parse(const uint8_t *buf, size_t len, esp01_mpy_header *h,
                           esp01_err *err)
{
    if (len < 4 || buf[0] != 'M')
        return esp01_fail(err, ESP01_E_FORMAT, "not a .mpy file (no 'M' header)");
    h->version = buf[1];
    h->sub_version = buf[1] >= 6 ? (uint8_t)(buf[2] & 3) : 0;
    h->arch = buf[1] >= 6 ? (uint8_t)((buf[2] >> 2) & 15) : 0;
    h->small_int_bits = buf[3];
    if (h->version == 0 || h->version > 6)
        return esp01_fail(err, ESP01_E_FORMAT, ".mpy version %u is unknown", h->version);
    return 0;
}

int esp01_mpy_version_for_release(unsigned major, unsigned minor, unsigned patch,
                                  esp01_err *err)
{
    if (major == 1) {
        if (minor >= 19)
            return 6;
        if (minor >= 12)
            return 5;
        if (minor == 11)
            return 4;
        if (minor == 10 || (minor == 9 && patch >= 3))
            return 3;
        if (minor == 9)
            return 2;
        if (minor >= 6 || (minor == 5 && patch >= 1))
            return 0;
    }
    return esp01_fail(err, ESP01_E_UNSUPPORTED,
                      "MicroPython v%u.%u.%u: no known .mpy version", major, minor, patch);
}

int esp01_mpy_cross_version_parse(const uint8_t *text, size_t len,
                                  unsigned *version, unsigned *sub_version,
                                  esp01_err *err)
{
    static const char key[] = "emitting mpy v";
    size_t klen = sizeof key - 1;
    for (size_t i = 0; i + klen < len; i++) {
        if (memcmp(text + i, key, klen) != 0)
            continue;
        size_t p = i + klen;
        unsigned v = 0, s = 0, digits = 0;
        while (p < len && text[p] >= '0' && text[p] <= '9' && digits < 3) {
            v = v * 10 + (unsigned)(text[p++] - '0');
            digits++;
        }
        if (!digits)
            break;
        if (p + 1 < len && text[p] == '.' && text[p + 1] >= '0' && text[p + 1] <= '9')
            s = (unsigned)(text[p + 1] - '0');
        *version = v;
        *sub_version = s;
        return 0;
    }
    return esp01_fail(err, ESP01_E_FORMAT,
                      "mpy-cross --version does not say which .mpy version it emits");
}

/*
 * Run argv with stdout+stderr captured (first `cap` bytes kept, NUL-ended),
 * within ESP01_MPY_CROSS_TIMEOUT_MS.  Returns the exit status (0..255), or
 * a negative code.
 */
static int run(char *const argv[], char *out, size_t cap, esp01_err *err)
{
    esp01_os_child *c;
    esp01_err oe;
    int rc = esp01_os_spawn(argv, &c, &oe);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, rc, "cannot run '%s'", argv[0]);
    if (rc < 0)
        return esp01_fail(err, rc, "%s", oe.msg);
    size_t got = 0;
    uint64_t deadline = esp01_deadline_in(ESP01_MPY_CROSS_TIMEOUT_MS);
    bool timed_out = false;
    for (;;) {
        char buf[512];
        int n = esp01_os_child_read(c, buf, sizeof buf, deadline, &oe);
        if (n == ESP01_E_TIMEOUT)
            timed_out = true;
        if (n <= 0)
            break;
        size_t keep = got + 1 < cap ? cap - 1 - got : 0;
        if (keep > (size_t)n)
            keep = (size_t)n;
        memcpy(out + got, buf, keep);
        got += keep;
    }
    out[got] = '\0';
    if (timed_out)
        esp01_os_child_kill(c);
    int st = esp01_os_child_wait(c);
    if (timed_out)
        return esp01_fail(err, ESP01_E_TIMEOUT, "%s did not finish within %d s", argv[0],
                          ESP01_MPY_CROSS_TIMEOUT_MS / 1000);
    if (st > 128)
        return esp01_fail(err, ESP01_E_IO, "%s was killed by signal %d", argv[0],
                          st - 128);
    if (st == 127)
        return esp01_fail(err, ESP01_E_NOTFOUND, "cannot run '%s'", argv[0]);
    return st;
}

/* First line of tool output, for a one-line error message. */
static const char *first_line(char *text)
{
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    return text;
}

int esp01_mpy_cross_version(const char *exe, unsigned *version,
                            unsigned *sub_version, esp01_err *err)
{
    char out[1024];
    char *argv[] = {(char *)exe, (char *)"--version", NULL};
    int rc = run(argv, out, sizeof out, err);
    if (rc < 0)
        return rc;
    if (rc != 0)
        return esp01_fail(err, ESP01_E_IO, "%s --version failed (exit %d): %s", exe, rc,
                          first_line(out));
    return esp01_mpy_cross_version_parse((const uint8_t *)out, strlen(out), version,
                                         sub_version, err);
}

int esp01_mpy_cross_compile(const char *exe, const char *source_name,
                            const uint8_t *src, size_t len, uint8_t **out,
                            size_t *out_len, esp01_err *err)
{
    char dir[512], in_path[600], out_path[600];
    esp01_err oe;
    if (esp01_os_make_temp_dir("esp01-mpy", dir, sizeof dir, &oe) < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot make a temporary directory: %s",
                          oe.msg);
    snprintf(in_path, sizeof in_path, "%s/in.py", dir);
    snprintf(out_path, sizeof out_path, "%s/out.mpy", dir);
    int rc = esp01_write_file_atomic(in_path, src, len, err);
    if (rc == 0) {
        char text[1024];
        char *argv[] = {(char *)exe, (char *)"-o", out_path, (char *)"-s",
                        (char *)source_name, in_path, NULL};
        rc = run(argv, text, sizeof text, err);
        if (rc > 0)
            rc = esp01_fail(err, ESP01_E_FORMAT, "%s: mpy-cross failed: %s", source_name,
                            first_line(text));
    }
    if (rc == 0)
        rc = esp01_read_file(out_path, 16u << 20, out, out_len, err);
    if (rc == 0) {
        esp01_mpy_header h;
        rc = esp01_mpy_header_parse(*out, *out_len, &h, err);
        if (rc < 0) {
            free(*out);
            *out = NULL;
        }
    }
    esp01_os_remove(in_path, NULL);
    esp01_os_remove(out_path, NULL);
    esp01_os_remove(dir, NULL);
    return rc;
}

static bool runs_as_source(const char *path)
{
    return strcmp(path, "boot.py") == 0 || strcmp(path, "main.py") == 0;
}

int esp01_tree_compile_mpy(esp01_tree *tree, const char *exe, esp01_err *err)
{
    esp01_tree out;
    esp01_tree_init(&out);
    int rc = 0, compiled = 0;
    for (size_t i = 0; i < tree->count && rc == 0; i++) {
        const esp01_entry *e = &tree->entries[i];
        size_t len = strlen(e->path);
        if (e->type == ESP01_ENTRY_DIR) {
            rc = esp01_tree_add_dir(&out, e->path, err);
            continue;
        }
        bool py = len > 3 && strcmp(e->path + len - 3, ".py") == 0 && !runs_as_source(e->path);
        if (!py) {
            rc = e->has_mtime ? esp01_tree_add_file_mtime(&out, e->path, e->data, e->size,
                                                          e->mtime_ns, err)
                              : esp01_tree_add_file(&out, e->path, e->data, e->size, err);
            continue;
        }
        char *mpy_path = malloc(len + 2);
        if (!mpy_path) {
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            break;
        }
        memcpy(mpy_path, e->path, len - 3);
        strcpy(mpy_path + len - 3, ".mpy");
        uint8_t *code = NULL;
        size_t code_len = 0;
        if (esp01_tree_find(tree, mpy_path))
            rc = esp01_fail(err, ESP01_E_EXISTS, "both %s and %s are in the project",
                            e->path, mpy_path);
        else
            rc = esp01_mpy_cross_compile(exe, e->path, e->data, e->size, &code, &code_len,
                                         err);
        if (rc == 0) {
            rc = e->has_mtime ? esp01_tree_add_file_mtime(&out, mpy_path, code, code_len,
                                                          e->mtime_ns, err)
                              : esp01_tree_add_file(&out, mpy_path, code, code_len, err);
            compiled++;
        }
        free(code);
        free(mpy_path);
    }
    if (rc < 0) {
        esp01_tree_free(&out);
        return rc;
    }
    esp01_tree_free(tree);
    *tree = out;
    return compiled;
}
