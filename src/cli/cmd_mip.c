/*
 * esp01 mip install PKG... | esp01 mip list [PROJECT]
 *
 * Packages resolved on the host (mip.h) and sent to a running board in
 * one step that either installs every file or changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "mipcli.h"
#include "os/os.h"

static const char usage[] =
    "usage: esp01 mip install PKG... [--target DIR] [--index URL|DIR] [--no-mpy]\n"
    "       esp01 mip list [PROJECT_DIR]\n"
    "\n"
    "install: resolve packages on this computer as mip does on a board\n"
    "(micropython-lib names such as umqtt.simple, name@version,\n"
    "github:org/repo[@ref], a URL of a package.json or a .py file), then\n"
    "copy every file to the board: each under a temporary name, checked\n"
    "against its SHA-256, and only when all arrived, renamed into place.  A\n"
    "failure on the way removes what was sent, so the board is as before.\n"
    "  --target DIR       where packages go on the board (default /lib)\n"
    "  --index URL|DIR    the package index (default: ESP01_MIP_INDEX, else\n"
    "                     " ESP01_MIP_INDEX ")\n"
    "  --no-mpy           .py sources instead of the board's .mpy bytecode\n"
    "\n"
    "list: the packages PROJECT_DIR/esp01.lock holds (default: the current\n"
    "folder): name, version, files and bytes.  Files come from the cache,\n"
    "else from where the lock says.\n";

/* Names that need no quoting in the Python the board runs. */
static bool plain_path(const char *p)
{
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
            return false;
    return true;
}

static void print_result(const esp01_mip_result *r, bool files)
{
    for (size_t i = 0; i < r->package_count; i++) {
        const esp01_mip_package *p = &r->packages[i];
        printf("%s %s: %zu file%s, %zu bytes%s\n", p->name,
               p->version[0] ? p->version : "(no version)", p->files,
               p->files == 1 ? "" : "s", p->bytes,
               p->skipped_frozen ? " (skipped: frozen into the firmware)" : "");
        for (size_t k = 0; files && k < r->file_count; k++)
            if (strcmp(r->files[k].package, p->name) == 0)
                printf("  %8zu  %s\n", r->files[k].len, r->files[k].target);
    }
    printf("%zu package%s, %zu files, %zu bytes\n", r->package_count,
           r->package_count == 1 ? "" : "s", r->file_count, r->total_bytes);
}

static int mip_list(int argc, char **argv)
{
    const char *project = argc > 2 ? argv[2] : ".";
    if (argc > 3)
        return cli_usage_error("mip", "list takes one PROJECT_DIR");
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/esp01.lock", project);
    uint8_t *text = NULL;
    size_t len = 0;
    esp01_err err = {0};
    int rc = esp01_read_file(lock, ESP01_MIP_MAX_JSON, &text, &len, &err);
    if (rc < 0)
        return cli_error("%s: %s (esp01 build writes it from package.json)", lock,
                         err.msg);
    struct mipcli m;
    if ((rc = mipcli_init(&m, "mip", NULL)) != 0) {
        free(text);
        return rc;
    }
    esp01_mip_result r;
    memset(&r, 0, sizeof r);
    rc = esp01_mip_resolve_locked(text, len, &m.opt, &r, &err);
    free(text);
    mipcli_done(&m);
    if (rc < 0)
        return cli_error("%s: %s", lock, err.msg);
    print_result(&r, true);
    esp01_mip_result_free(&r);
    return EXIT_OK;
}

/* The board's bytecode version (sys.implementation._mpy), "py" if none. */
static void board_mpy(const struct cli_dev_opts *o, char *out, size_t cap)
{
    esp01_rawrepl *r;
    snprintf(out, cap, "py");
    if (cli_dev_repl(o, &r) != 0)
        return;
    char *text = NULL;
    size_t len = 0;
    esp01_err err = {0};
    static const char code[] =
        "import sys\nprint(getattr(sys.implementation,'_mpy',0)&0xff)\n";
    if (esp01_rawrepl_exec_capture(r, code, 64, &text, &len, 5000, &err) == 0) {
        int v = atoi(text);
        if (v > 0 && v < 100)
            snprintf(out, cap, "%d", v);
    }
    free(text);
}

struct sent {
    char tmp[ESP01_DEVPATH_MAX];
    char dst[ESP01_DEVPATH_MAX];
};

/* Run `code` on the board; 0 or a library code with the reason. */
static int board_exec(esp01_devfs *fs, const char *code, esp01_err *err)
{
    char *out = NULL;
    size_t len = 0;
    int rc = esp01_rawrepl_exec_capture(fs->repl, code, 4096, &out, &len, 30000, err);
    free(out);
    return rc;
}

/* Take back what a failed install sent: temporaries, then new folders. */
static void undo(esp01_devfs *fs, const struct sent *s, size_t n,
                 char (*dirs)[ESP01_DEVPATH_MAX], size_t ndirs)
{
    esp01_err err = {0};
    for (size_t i = 0; i < n; i++)
        esp01_devfs_remove(fs, s[i].tmp, &err);
    while (ndirs--)
        esp01_devfs_rmdir(fs, dirs[ndirs], &err);
}

/* Every folder on the way to `path` (a file), created where missing. */
static int make_dirs(esp01_devfs *fs, const char *path, char (*dirs)[ESP01_DEVPATH_MAX],
                     size_t *ndirs, size_t cap, esp01_err *err)
{
    char d[ESP01_DEVPATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        esp01_dev_entry st;
        esp01_err e2 = {0};
        if (esp01_devfs_stat(fs, d, &st, &e2) == 0) {
            if (!st.is_dir)
                return esp01_fail(err, ESP01_E_EXISTS, "%s is a file, not a folder", d);
        } else {
            int rc = esp01_devfs_mkdir(fs, d, err);
            if (rc < 0)
                return rc;
            if (*ndirs < cap)
                snprintf(dirs[(*ndirs)++], ESP01_DEVPATH_MAX, "%s", d);
        }
        *p = '/';
    }
    return 0;
}

static int send_all(esp01_devfs *fs, const esp01_mip_result *r, struct sent *s)
{
    static char dirs[64][ESP01_DEVPATH_MAX];
    size_t ndirs = 0, n = 0;
    esp01_err err = {0};
    int rc = 0;
    for (size_t i = 0; i < r->file_count && rc == 0; i++) {
        const esp01_mip_file *f = &r->files[i];
        size_t tl = strlen(f->target);
        if (tl + 10 >= sizeof s[i].dst) {
            rc = esp01_fail(&err, ESP01_E_LIMIT, "%s: path too long", f->target);
            break;
        }
        s[i].dst[0] = '/';
        memcpy(s[i].dst + 1, f->target, tl + 1);
        const char *base = strrchr(s[i].dst, '/') + 1;
        size_t dl = (size_t)(base - s[i].dst);
        memcpy(s[i].tmp, s[i].dst, dl);
        s[i].tmp[dl] = '.';
        memcpy(s[i].tmp + dl + 1, base, strlen(base));
        memcpy(s[i].tmp + dl + 1 + strlen(base), ".mip", 5);
        rc = make_dirs(fs, s[i].dst, dirs, &ndirs, 64, &err);
        if (rc == 0)
            rc = esp01_devfs_write(fs, s[i].tmp, f->data, f->len, &err);
        if (rc == 0) {
            n++;
            printf("sent %s (%zu bytes, checked)\n", s[i].dst, f->len);
        }
    }
    if (rc == 0) {
        /* All arrived: rename in one exec, the shortest window there is. */
        size_t cap = 256 + r->file_count * (2 * ESP01_DEVPATH_MAX + 16);
        char *code = malloc(cap);
        if (!code)
            rc = esp01_fail(&err, ESP01_E_NOMEM, "out of memory");
        size_t used = code ? (size_t)snprintf(code, cap, "import os\nfor t,p in (") : 0;
        for (size_t i = 0; code && i < n; i++)
            used += (size_t)snprintf(code + used, cap - used, "('%s','%s'),", s[i].tmp,
                                     s[i].dst);
        if (code) {
            snprintf(code + used, cap - used,
                     "):\n try:os.rename(t,p)\n except OSError:\n"
                     "  os.remove(p);os.rename(t,p)\n");
            rc = board_exec(fs, code, &err);
            free(code);
        }
    }
    if (rc < 0) {
        undo(fs, s, n, dirs, ndirs);
        cli_dev_error(rc, &err);
        cli_error("nothing was installed: what was sent is removed again");
        return EXIT_FAIL;
    }
    return 0;
}

struct install_args {
    const char *target, *index;
    bool no_mpy;
    char **pkgs;
    size_t n;
};

static int parse_install(int argc, char **argv, struct cli_dev_opts *o,
                         struct install_args *a)
{
    memset(a, 0, sizeof *a);
    a->target = "/lib";
    a->pkgs = calloc((size_t)argc, sizeof *a->pkgs);
    if (!a->pkgs)
        return cli_error("out of memory");
    for (int i = 2; i < argc; i++) {
        int t = cli_dev_arg(o, argc, argv, &i, "mip", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? -1 : EXIT_USAGE;
        bool more = i + 1 < argc;
        if (!strcmp(argv[i], "--target") && more)
            a->target = argv[++i];
        else if (!strcmp(argv[i], "--index") && more)
            a->index = argv[++i];
        else if (!strcmp(argv[i], "--no-mpy"))
            a->no_mpy = true;
        else if (argv[i][0] == '-')
            return cli_usage_error("mip", "unknown option '%s'", argv[i]);
        else
            a->pkgs[a->n++] = argv[i];
    }
    if (!a->n)
        return cli_usage_error("mip", "which packages? (e.g. esp01 mip install umqtt.simple)");
    return 0;
}

static int mip_install(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    struct install_args a;
    int rc = parse_install(argc, argv, &o, &a);
    if (rc) {
        free(a.pkgs);
        return rc < 0 ? EXIT_OK : rc;
    }
    struct mipcli m;
    if ((rc = mipcli_init(&m, "mip", a.index)) != 0) {
        free(a.pkgs);
        return rc;
    }
    const char *tgt = a.target;
    while (*tgt == '/')
        tgt++;
    m.opt.target = *tgt ? tgt : NULL;
    /* The board's own bytecode version; sources when it has none, or
     * (mipcli_resolve) when the index has no build for it. */
    if (a.no_mpy)
        snprintf(m.mpy, sizeof m.mpy, "py");
    else
        board_mpy(&o, m.mpy, sizeof m.mpy);
    m.mpy_given = a.no_mpy;
    esp01_mip_result r;
    memset(&r, 0, sizeof r);
    rc = mipcli_resolve(&m, (const char *const *)a.pkgs, a.n, &r);
    struct sent *s = NULL;
    for (size_t i = 0; rc == 0 && i < r.file_count; i++)
        if (!plain_path(r.files[i].target))
            rc = cli_error("package %s: '%s' is not a plain path name", r.files[i].package,
                           r.files[i].target);
    esp01_devfs *fs = NULL;
    if (rc == 0)
        rc = cli_dev_fs(&o, &fs);
    if (rc == 0 && !(s = calloc(r.file_count ? r.file_count : 1, sizeof *s)))
        rc = cli_error("out of memory");
    if (rc == 0)
        rc = send_all(fs, &r, s);
    if (rc == 0)
        print_result(&r, false);
    free(s);
    esp01_mip_result_free(&r);
    mipcli_done(&m);
    free(a.pkgs);
    return rc;
}

int cmd_mip(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("%s%s", usage, cli_dev_options_help);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "install"))
        return mip_install(argc, argv);
    if (!strcmp(argv[1], "list"))
        return mip_list(argc, argv);
    return cli_usage_error("mip", "'%s' is not install or list", argv[1]);
}
