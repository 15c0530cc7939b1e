/* The import scanner and the .mpy helpers. */
#include "check.h"
#include "esp01/mpy.h"
#include "esp01/pyscan.h"

static char got[1024];

static int collect(const char *module, void *ctx)
{
    (void)ctx;
    if (strlen(got) + strlen(module) + 2 < sizeof got) {
        if (got[0])
            strcat(got, " ");
        strcat(got, module);
    }
    return 0;
}

/* The imports of `src`, space-separated, or "ERR" on a failure. */
static const char *imports(const char *src)
{
    got[0] = '\0';
    esp01_err err;
    if (esp01_py_imports((const uint8_t *)src, strlen(src), collect, NULL, &err) < 0)
        return "ERR";
    return got;
}

TEST(plain_imports)
{
    CHECK_STR(imports("import wifitools\nimport thingspeak as ts\n"), "wifitools thingspeak");
    CHECK_STR(imports("import a.b.c, d as e, f\n"), "a d f");
    CHECK_STR(imports("from thingspeak import Channel\nfrom os.path import join\n"),
              "thingspeak os");
    CHECK_STR(imports("from wifitools import (connect,\n    ip)\nimport x"), "wifitools x");
}

TEST(nested_and_compound)
{
    CHECK_STR(imports("def f():\n    try:\n        import dht\n    except ImportError:\n"
                      "        import vcc\n"), "dht vcc");
    CHECK_STR(imports("if x: import a\nelse: import b\nimport c; import d\n"), "a b c d");
    CHECK_STR(imports("x = 1 \\\n    ; import e\n"), "e");
}

TEST(not_imports)
{
    CHECK_STR(imports("# import commented\nprint('import s1')\n"), "");
    CHECK_STR(imports("s = '''\nimport t1\n'''\nt = \"\"\"\nfrom t2 import x\n\"\"\"\n"), "");
    CHECK_STR(imports("u = rb'\\'import r1'\nv = f\"{x}\" 'import r2'\n"), "");
    CHECK_STR(imports("x = (1,\n import_ok)\nraise E from err\nyield from g\n"), "");
    CHECK_STR(imports("from . import sibling\nfrom .pkg import y\nimportlib = 1\n"), "");
    CHECK_STR(imports("d = {'a':\n  1}\nimport after_dict\n"), "after_dict");
    CHECK_STR(imports("x = 'a\\\\'\nimport after_escape\n"), "after_escape");
}

TEST(line_ends_and_bom)
{
    CHECK_STR(imports("\xEF\xBB\xBFimport bom\r\nimport crlf\r\n"), "bom crlf");
    CHECK_STR(imports("import last_line_no_newline"), "last_line_no_newline");
}

TEST(bad_source)
{
    esp01_err err;
    const char *s = "x = 1\ny = 'open\nimport z\n";
    CHECK_EQ(esp01_py_imports((const uint8_t *)s, strlen(s), collect, NULL, &err),
             ESP01_E_FORMAT);
    CHECK(strstr(err.msg, "line 2") != NULL);
    const uint8_t nul[] = {'i', 'm', 'p', 'o', 'r', 't', ' ', 'a', 0, '\n'};
    CHECK_EQ(esp01_py_imports(nul, sizeof nul, collect, NULL, &err), ESP01_E_FORMAT);
    s = "'''never closed\n";
    CHECK_EQ(esp01_py_imports((const uint8_t *)s, strlen(s), collect, NULL, &err),
             ESP01_E_FORMAT);
}

static int stop_at_second(const char *module, void *ctx)
{
    int *n = ctx;
    (void)module;
    return ++*n == 2 ? ESP01_E_INTERRUPTED : 0;
}

TEST(callback_stops_the_scan)
{
    int n = 0;
    const char *s = "import a\nimport b\nimport c\n";
    CHECK_EQ(esp01_py_imports((const uint8_t *)s, strlen(s), stop_at_second, &n, NULL),
             ESP01_E_INTERRUPTED);
    CHECK_EQ(n, 2);
}

TEST(long_names_skipped)
{
    char src[200] = "import ";
    memset(src + 7, 'a', 100);
    strcpy(src + 107, "\nimport ok\n");
    CHECK_STR(imports(src), "ok");
}

TEST(mpy_header)
{
    esp01_mpy_header h;
    const uint8_t v6[] = {'M', 6, 2, 31};
    CHECK_EQ(esp01_mpy_header_parse(v6, 4, &h, NULL), 0);
    CHECK_EQ(h.version, 6);
    CHECK_EQ(h.sub_version, 2);
    CHECK_EQ(h.arch, 0);
    CHECK_EQ(h.small_int_bits, 31);
    const uint8_t xtensa[] = {'M', 6, 9 << 2 | 3, 31};
    CHECK_EQ(esp01_mpy_header_parse(xtensa, 4, &h, NULL), 0);
    CHECK_EQ(h.arch, 9);
    CHECK_EQ(h.sub_version, 3);
    const uint8_t v5[] = {'M', 5, 0, 31};
    CHECK_EQ(esp01_mpy_header_parse(v5, 4, &h, NULL), 0);
    CHECK_EQ(h.version, 5);
    const uint8_t py[] = {'i', 'm', 'p', 'o'};
    CHECK_EQ(esp01_mpy_header_parse(py, 4, &h, NULL), ESP01_E_FORMAT);
    CHECK_EQ(esp01_mpy_header_parse(v6, 3, &h, NULL), ESP01_E_FORMAT);
    const uint8_t v9[] = {'M', 9, 0, 31};
    CHECK_EQ(esp01_mpy_header_parse(v9, 4, &h, NULL), ESP01_E_FORMAT);
}

TEST(mpy_version_per_release)
{
    /* The table in MicroPython's docs/reference/mpyfiles.rst. */
    CHECK_EQ(esp01_mpy_version_for_release(1, 27, 0, NULL), 6);
    CHECK_EQ(esp01_mpy_version_for_release(1, 22, 1, NULL), 6);
    CHECK_EQ(esp01_mpy_version_for_release(1, 19, 1, NULL), 6);
    CHECK_EQ(esp01_mpy_version_for_release(1, 18, 0, NULL), 5);
    CHECK_EQ(esp01_mpy_version_for_release(1, 12, 0, NULL), 5);
    CHECK_EQ(esp01_mpy_version_for_release(1, 11, 0, NULL), 4);
    CHECK_EQ(esp01_mpy_version_for_release(1, 10, 0, NULL), 3);
    CHECK_EQ(esp01_mpy_version_for_release(1, 9, 3, NULL), 3);
    CHECK_EQ(esp01_mpy_version_for_release(1, 9, 2, NULL), 2);
    CHECK_EQ(esp01_mpy_version_for_release(1, 8, 7, NULL), 0);
    CHECK_EQ(esp01_mpy_version_for_release(1, 5, 0, NULL), ESP01_E_UNSUPPORTED);
    CHECK_EQ(esp01_mpy_version_for_release(2, 0, 0, NULL), ESP01_E_UNSUPPORTED);
}

TEST(mpy_cross_version_text)
{
    unsigned v = 99, s = 99;
    const char *t = "MicroPython v1.22.1 on 2024-01-05; mpy-cross emitting mpy v6.2\n";
    CHECK_EQ(esp01_mpy_cross_version_parse((const uint8_t *)t, strlen(t), &v, &s, NULL), 0);
    CHECK_EQ(v, 6);
    CHECK_EQ(s, 2);
    t = "MicroPython v1.18 on 2022-01-17; mpy-cross emitting mpy v5\n";
    CHECK_EQ(esp01_mpy_cross_version_parse((const uint8_t *)t, strlen(t), &v, &s, NULL), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(s, 0);
    t = "usage: mpy-cross [<opts>]";
    CHECK_EQ(esp01_mpy_cross_version_parse((const uint8_t *)t, strlen(t), &v, &s, NULL),
             ESP01_E_FORMAT);
    t = "emitting mpy v";
    CHECK_EQ(esp01_mpy_cross_version_parse((const uint8_t *)t, strlen(t), &v, &s, NULL),
             ESP01_E_FORMAT);
}

TEST(mpy_cross_missing)
{
    unsigned v, s;
    esp01_err err;
    CHECK_EQ(esp01_mpy_cross_version("/nonexistent/mpy-cross", &v, &s, &err),
             ESP01_E_NOTFOUND);
    CHECK(strstr(err.msg, "/nonexistent/mpy-cross") != NULL);
}

int main(void)
{
    RUN(plain_imports);
    RUN(nested_and_compound);
    RUN(not_imports);
    RUN(line_ends_and_bom);
    RUN(bad_source);
    RUN(callback_stops_the_scan);
    RUN(long_names_skipped);
    RUN(mpy_header);
    RUN(mpy_version_per_release);
    RUN(mpy_cross_version_text);
    RUN(mpy_cross_missing);
    CHECK_DONE();
}
