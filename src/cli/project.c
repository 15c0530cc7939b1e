/*
 * What build and flash add to a project's files (project.h).
 */
#include "project.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "esp01/json.h"
#include "mipcli.h"
#include "os/os.h"

static bool is_dir_with_modules(const char *dir)
{
    char probe[PATH_MAX + sizeof ESP01_DATADIR + 48];
    snprintf(probe, sizeof probe, "%s/wifitools.py", dir);
    return esp01_os_is_file(probe);
}

/*
 * The shipped modules: $ESP01_DEVICE_DIR; else device/ of the source tree
 * this binary was built in (build/esp01 or build/san/esp01); else the
 * installed copy.  false when none is there.
 */
static bool find_device_dir(char *out, size_t n)
{
    const char *env = getenv("ESP01_DEVICE_DIR");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return is_dir_with_modules(out);
    }
    char exe[PATH_MAX];
    if (esp01_os_self_exe(exe, sizeof exe)) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* A relative data folder (the Windows build's "share/esp01") is
           next to the program. */
        static const char *const up[] = {"/../device", "/../../device",
                                         "/" ESP01_DATADIR "/device"};
        size_t ups = sizeof up / sizeof up[0] - (ESP01_DATADIR[0] == '/');
        for (size_t i = 0; i < ups; i++) {
            char cand[PATH_MAX + sizeof ESP01_DATADIR + 16];
            snprintf(cand, sizeof cand, "%s%s", exe, up[i]);
            if (is_dir_with_modules(cand) && esp01_os_realpath(cand, out, n))
                return true;
        }
    }
    snprintf(out, n, "%s/device", ESP01_DATADIR);
    return is_dir_with_modules(out);
}

int project_add_config(const char *config, const char *project, esp01_tree *tree,
                       size_t *config_len)
{
    esp01_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esp01_read_file(config, 64u << 10, &data, &len, &err);
    if (rc < 0) {
        cli_error("--config %s: %s", config, err.msg);
        return rc;
    }
    /* Checked here: on the board a broken file only shows at boot.  The
     * message gives a position, never the text (it holds secrets). */
    rc = esp01_json_check(data, len, &err);
    if (rc != ESP01_JSON_OBJECT) {
        if (rc < 0)
            cli_error("--config %s: not valid JSON: %s", config, err.msg);
        else
            cli_error("--config %s: must be a JSON object ({\"ssid\": ...})", config);
        free(data);
        return -1;
    }
    rc = 0;
    if (esp01_tree_find(tree, "config.json")) {
        cli_warn("--config %s replaces %s/config.json in the image", config, project);
        for (size_t i = 0; i < tree->count; i++)
            if (strcmp(tree->entries[i].path, "config.json") == 0) {
                free(tree->entries[i].data);
                tree->entries[i].data = data;
                tree->entries[i].size = len;
                data = NULL;
            }
    } else {
        rc = esp01_tree_add_file(tree, "config.json", data, len, &err);
    }
    free(data);
    if (rc < 0)
        return cli_lib_error(rc, &err), rc;
    *config_len = len;
    return 0;
}

int project_add_modules(const char *with, esp01_tree *tree, char *device_dir, size_t cap,
                        esp01_devmods_result *mods)
{
    esp01_err err = {0};
    if (!find_device_dir(device_dir, cap)) {
        if (with) {
            cli_error("--with %s: no shipped modules found (looked for %s)", with,
                      device_dir);
            return -1;
        }
        cli_warn("no shipped modules found (looked for %s): wifitools and "
                 "thingspeak will not be added", device_dir);
        device_dir[0] = '\0';
        return 0;
    }
    int rc = esp01_devmods_add(tree, device_dir, with, mods, &err);
    if (rc < 0) {
        if (rc == ESP01_E_NOTFOUND && with)
            cli_error("--with %s: %s", with, err.msg);
        else
            cli_lib_error(rc, &err);
        return rc;
    }
    if (mods->scan_warning[0])
        cli_warn("cannot read the imports of %s: it will not compile on the board either",
                 mods->scan_warning);
    return 0;
}

/* A name no folder of modules would ship: a package spec. */
static bool package_syntax(const char *name)
{
    return strpbrk(name, ".:/@") != NULL;
}

int project_split_with(const char *with, bool index_given, char *shipped, size_t cap,
                       char ***pkgs, size_t *n)
{
    *pkgs = NULL;
    *n = 0;
    shipped[0] = '\0';
    if (!with)
        return 0;
    char dir[PATH_MAX], names[1024] = "";
    esp01_err err = {0};
    if (find_device_dir(dir, sizeof dir))
        esp01_devmods_list(dir, names, sizeof names, &err);
    char **all;
    size_t count;
    if (!mipcli_split(with, &all, &count))
        return cli_error("out of memory");
    *pkgs = calloc(count ? count : 1, sizeof **pkgs);
    if (!*pkgs) {
        mipcli_free_list(all, count);
        return cli_error("out of memory");
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        char **own = NULL;
        size_t own_n = 0;
        bool is_shipped = false;
        if (mipcli_split(names, &own, &own_n))
            for (size_t k = 0; k < own_n && !is_shipped; k++)
                is_shipped = strcmp(own[k], all[i]) == 0;
        mipcli_free_list(own, own_n);
        /* Without an index named, a bare unknown name stays a shipped
         * module's name, so a typo is told as one and no index is asked. */
        if (!is_shipped && (index_given || package_syntax(all[i]))) {
            (*pkgs)[(*n)++] = all[i];
            all[i] = NULL;
            continue;
        }
        int k = snprintf(shipped + used, cap - used, "%s%s", used ? "," : "", all[i]);
        if (k < 0 || (size_t)k >= cap - used) {
            mipcli_free_list(all, count);
            return cli_error("--with: the list is too long");
        }
        used += (size_t)k;
    }
    mipcli_free_list(all, count);
    return 0;
}
