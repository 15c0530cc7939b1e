/* src/os/os.h: the system layer, through its interface only, so the same
 * test holds for every implementation. */
#include "check.h"

#include "esp01/fileio.h"
#include "esp01/port.h"
#include "os/os.h"

static char self[4096];
static char dir[512];

static void join(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

TEST(temp_file_replaces_atomically)
{
    esp01_err e;
    char path[700], tmp[720];
    join(path, sizeof path, "out.bin");
    CHECK_EQ(esp01_write_file_atomic(path, (const uint8_t *)"old", 3, &e), 0);
    esp01_os_file *f;
    CHECK_EQ(esp01_os_create_temp(path, tmp, sizeof tmp, &f, &e), 0);
    CHECK(strncmp(tmp, path, strlen(path)) == 0 && strlen(tmp) > strlen(path));
    CHECK_EQ(esp01_os_write(f, "new data", 8, &e), 0);
    CHECK_EQ(esp01_os_close(f, &e), 0);
    uint8_t *data;
    size_t len;
    CHECK_EQ(esp01_read_file(path, 100, &data, &len, &e), 0);
    CHECK(len == 3 && memcmp(data, "old", 3) == 0); /* not replaced yet */
    free(data);
    CHECK_EQ(esp01_os_replace(tmp, path, &e), 0);
    CHECK_EQ(esp01_read_file(path, 100, &data, &len, &e), 0);
    CHECK(len == 8 && memcmp(data, "new data", 8) == 0);
    free(data);
    CHECK_EQ(esp01_read_file(path, 7, &data, &len, &e), ESP01_E_LIMIT);
    esp01_os_info st;
    CHECK_EQ(esp01_os_stat(tmp, true, &st, &e), ESP01_E_NOTFOUND);
    CHECK_EQ(esp01_os_stat(path, true, &st, &e), 0);
    CHECK_EQ(st.type, ESP01_OS_REGULAR);
    CHECK_EQ(st.size, 8);
    CHECK(st.mtime_ns > 1500000000ull * 1000000000ull);
    CHECK(esp01_os_is_file(path) && !esp01_os_is_dir(path));
}

TEST(folders_list_and_remove)
{
    esp01_err e;
    char sub[700], a[720], b[720];
    join(sub, sizeof sub, "sub");
    CHECK_EQ(esp01_os_mkdir(sub, &e), 0);
    CHECK_EQ(esp01_os_mkdir(sub, &e), ESP01_E_EXISTS);
    CHECK(esp01_os_is_dir(sub));
    snprintf(a, sizeof a, "%s/a.py", sub);
    snprintf(b, sizeof b, "%s/b", sub);
    CHECK_EQ(esp01_write_file_atomic(a, (const uint8_t *)"x", 1, &e), 0);
    CHECK_EQ(esp01_os_mkdir(b, &e), 0);
    esp01_os_dir *d;
    CHECK_EQ(esp01_os_dir_open(sub, &d, &e), 0);
    int seen_a = 0, seen_b = 0, other = 0;
    const char *name;
    while ((name = esp01_os_dir_next(d)) != NULL) {
        if (strcmp(name, "a.py") == 0)
            seen_a++;
        else if (strcmp(name, "b") == 0)
            seen_b++;
        else
            other++; /* "." and ".." must not appear */
    }
    esp01_os_dir_close(d);
    CHECK(seen_a == 1 && seen_b == 1 && other == 0);
    CHECK_EQ(esp01_os_remove(sub, &e) < 0, 1); /* not empty */
    CHECK_EQ(esp01_os_remove(a, &e), 0);
    CHECK_EQ(esp01_os_remove(b, &e), 0);
    CHECK_EQ(esp01_os_remove(sub, &e), 0);
    CHECK_EQ(esp01_os_dir_open(sub, &d, &e), ESP01_E_NOTFOUND);
}

TEST(mapping_checks_what_it_maps)
{
    esp01_err e;
    char path[700], empty[700];
    join(path, sizeof path, "map.bin");
    join(empty, sizeof empty, "empty.bin");
    CHECK_EQ(esp01_write_file_atomic(path, (const uint8_t *)"0123456789", 10, &e), 0);
    CHECK_EQ(esp01_write_file_atomic(empty, NULL, 0, &e), 0);
    esp01_os_map m;
    CHECK_EQ(esp01_os_map_file(path, 10, &m, &e), 0);
    CHECK(m.len == 10 && m.data && memcmp(m.data, "0123456789", 10) == 0);
    esp01_os_unmap(&m);
    CHECK_EQ(esp01_os_map_file(path, 9, &m, &e), ESP01_E_LIMIT);
    CHECK_EQ(esp01_os_map_file(dir, 100, &m, &e), ESP01_E_INVAL);
    CHECK_EQ(esp01_os_map_file(empty, 100, &m, &e), 0);
    CHECK(m.len == 0 && m.data == NULL);
    join(path, sizeof path, "missing.bin");
    CHECK_EQ(esp01_os_map_file(path, 100, &m, &e), ESP01_E_NOTFOUND);
}

TEST(glob_patterns)
{
    CHECK(esp01_os_glob_match("*.py", "a.py", false));
    CHECK(!esp01_os_glob_match("*.py", "a.pyc", false));
    CHECK(esp01_os_glob_match("t?st_[a-c].txt", "test_b.txt", false));
    CHECK(!esp01_os_glob_match("t?st_[a-c].txt", "test_d.txt", false));
    CHECK(esp01_os_glob_match("lib/*.py", "lib/a.py", true));
    CHECK(!esp01_os_glob_match("lib/*.py", "lib/x/a.py", true));
    CHECK(esp01_os_glob_match("lib/*.py", "lib/x/a.py", false));
    /* fnmatch()'s rules, kept now that the matcher is our own */
    CHECK(esp01_os_glob_match("[!a-c]x", "dx", false));
    CHECK(!esp01_os_glob_match("[^a-c]x", "bx", false));
    CHECK(esp01_os_glob_match("[]]", "]", false));
    CHECK(esp01_os_glob_match("a[b", "a[b", false));
    CHECK(esp01_os_glob_match("\\*.py", "*.py", false));
    CHECK(!esp01_os_glob_match("\\*.py", "a.py", false));
    CHECK(!esp01_os_glob_match("a\\", "a\\", false));
    CHECK(!esp01_os_glob_match("a?b", "a/b", true));
    CHECK(!esp01_os_glob_match("a[/]b", "a/b", true));
    CHECK(esp01_os_glob_match("a?b", "a/b", false));
    CHECK(esp01_os_glob_match("*a*b*c", "xxaybbzc", false));
    CHECK(!esp01_os_glob_match("*/*.py", "a/b/c.py", true));
    CHECK(esp01_os_glob_match("*/*/*.py", "a/b/c.py", true));
    CHECK(esp01_os_glob_match(".*", ".hidden", true));
}

TEST(child_output_and_status)
{
    esp01_err e;
    char *argv[] = {self, (char *)"--child", NULL};
    esp01_os_child *c;
    CHECK_EQ(esp01_os_spawn(argv, &c, &e), 0);
    char out[256];
    size_t got = 0;
    int n;
    while ((n = esp01_os_child_read(c, out + got, sizeof out - 1 - got,
                                    esp01_deadline_in(10000), &e)) > 0)
        got += (size_t)n;
    CHECK_EQ(n, 0);
    out[got] = '\0';
    CHECK(strstr(out, "to stdout") && strstr(out, "to stderr"));
    CHECK_EQ(esp01_os_child_wait(c), 3);
}

TEST(child_that_cannot_start_or_hangs)
{
    esp01_err e;
    char *missing[] = {(char *)"/nonexistent/esp01-no-such-program", NULL};
    esp01_os_child *c;
    int rc = esp01_os_spawn(missing, &c, &e);
    CHECK(rc == ESP01_E_NOTFOUND || (rc == 0 && esp01_os_child_wait(c) == 127));
    char *argv[] = {self, (char *)"--hang", NULL};
    CHECK_EQ(esp01_os_spawn(argv, &c, &e), 0);
    bool ready = false;
    esp01_os_child *one[1] = {c};
    CHECK_EQ(esp01_os_child_poll(one, 1, 50, &ready, &e), 0);
    CHECK(!ready);
    char buf[16];
    uint64_t t0 = esp01_now_ms();
    CHECK_EQ(esp01_os_child_read(c, buf, sizeof buf, esp01_deadline_in(100), &e),
             ESP01_E_TIMEOUT);
    CHECK(esp01_now_ms() - t0 >= 90);
    esp01_os_child_kill(c);
    CHECK(esp01_os_child_wait(c) != 0);
}

static void square(size_t i, void *slot, void *arg)
{
    unsigned *r = slot;
    *r = (unsigned)(i * i) + *(const unsigned *)arg;
}

TEST(parallel_jobs_fill_their_slots)
{
    unsigned results[6], add = 1000;
    for (size_t i = 0; i < 6; i++)
        results[i] = 7;
    esp01_os_run_parallel(6, square, &add, results, sizeof results[0]);
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ(results[i], (unsigned)(i * i) + 1000);
}

TEST(lock_and_paths)
{
    esp01_err e;
    char path[700], real[4096];
    join(path, sizeof path, ".lock");
    int h = esp01_os_lock_file(path, &e);
    CHECK(h >= 0);
    esp01_os_unlock_file(h);
    CHECK(esp01_os_is_file(path));
    CHECK(esp01_os_realpath(dir, real, sizeof real));
    CHECK(esp01_os_is_dir(real));
    CHECK(!esp01_os_realpath(dir, real, 3));
    CHECK(esp01_os_is_executable(self));
    CHECK(!esp01_os_is_executable(path));
}

TEST(tcp_refused_and_lookup)
{
    esp01_err e;
    esp01_os_addrs *a;
    CHECK_EQ(esp01_os_tcp_lookup("127.0.0.1", 1, esp01_deadline_in(2000), &a, &e), 0);
    esp01_os_tcp *s = NULL;
    CHECK_EQ(esp01_os_tcp_connect(a, esp01_deadline_in(2000), &s, &e), ESP01_E_EXISTS);
    CHECK(s == NULL);
    esp01_os_tcp_free(a);
}

static void cleanup(void)
{
    static const char *const names[] = {"out.bin", "map.bin", "empty.bin", ".lock"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[700];
        join(p, sizeof p, names[i]);
        esp01_os_remove(p, NULL);
    }
    esp01_os_remove(dir, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0) {
        printf("to stdout\n");
        fflush(stdout);
        fprintf(stderr, "to stderr\n");
        return 3;
    }
    if (argc > 1 && strcmp(argv[1], "--hang") == 0) {
        esp01_sleep_ms(30000);
        return 0;
    }
    esp01_err e;
    if (!esp01_os_self_exe(self, sizeof self) ||
        esp01_os_make_temp_dir("esp01-test-os", dir, sizeof dir, &e) < 0) {
        printf("FAIL - setup: no temporary folder or own path\n");
        return 1;
    }
    RUN(temp_file_replaces_atomically);
    RUN(folders_list_and_remove);
    RUN(mapping_checks_what_it_maps);
    RUN(glob_patterns);
    RUN(child_output_and_status);
    RUN(child_that_cannot_start_or_hangs);
    RUN(parallel_jobs_fill_their_slots);
    RUN(lock_and_paths);
    RUN(tcp_refused_and_lookup);
    cleanup();
    CHECK_DONE();
}
