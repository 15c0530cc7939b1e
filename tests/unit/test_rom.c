/*
 * ROM loader client: pure helpers (SLIP, response parsing, the erase-size
 * arithmetic, JEDEC decoding) and whole writes against tests/tools/romsim
 * on a pty, with the simulator's flash file as the judge.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "esp01/port.h"
#include "esp01/rom.h"
#include "esp01/slip.h"

static char tmpdir[256];

TEST(slip_round_trip_escapes)
{
    const uint8_t in[] = {0x01, 0xC0, 0xDB, 0x02, 0xC0};
    uint8_t enc[ESP01_SLIP_ENCODED_MAX(sizeof in)];
    size_t n = esp01_slip_encode(in, sizeof in, enc, sizeof enc);
    const uint8_t want[] = {0xC0, 0x01, 0xDB, 0xDC, 0xDB, 0xDD,
                            0x02, 0xDB, 0xDC, 0xC0};
    CHECK_EQ(n, sizeof want);
    CHECK(memcmp(enc, want, sizeof want) == 0);
    uint8_t buf[16];
    esp01_slip_decoder d;
    esp01_slip_decoder_init(&d, buf, sizeof buf);
    size_t used;
    CHECK_EQ(esp01_slip_feed(&d, enc, n, &used), sizeof in);
    CHECK_EQ(used, n);
    CHECK(memcmp(buf, in, sizeof in) == 0);
}

TEST(slip_resyncs_after_garbage_and_oversize)
{
    /* boot text, an oversized frame, a bad escape, then a good frame */
    uint8_t stream[64];
    size_t n = 0;
    const char *text = "ets Jan  8 2013";
    memcpy(stream, text, strlen(text));
    n += strlen(text);
    stream[n++] = 0xC0;
    for (int i = 0; i < 10; i++)
        stream[n++] = 0x11;
    stream[n++] = 0xC0;
    stream[n++] = 0xDB;
    stream[n++] = 0x42;
    stream[n++] = 0xC0;
    stream[n++] = 0x07;
    stream[n++] = 0x08;
    stream[n++] = 0xC0;
    uint8_t buf[4];
    esp01_slip_decoder d;
    esp01_slip_decoder_init(&d, buf, sizeof buf);
    size_t used, got = 0, pos = 0, frames = 0;
    /* feed one byte at a time: frames must not depend on chunking */
    while (pos < n) {
        size_t f = esp01_slip_feed(&d, stream + pos, 1, &used);
        pos += used;
        if (f) {
            got = f;
            frames++;
        }
    }
    CHECK_EQ(frames, 1);
    CHECK_EQ(got, 2);
    CHECK(buf[0] == 0x07 && buf[1] == 0x08);
    CHECK_EQ(d.dropped_frames, 2);
    CHECK_EQ(d.noise_bytes, strlen(text));
}

TEST(response_parse_checks_every_field)
{
    const uint8_t ok[] = {1, 0x0A, 2, 0, 0x01, 0xC1, 0xF0, 0xFF, 0, 0};
    esp01_rom_response r;
    CHECK_EQ(esp01_rom_parse_response(ok, sizeof ok, &r, NULL), 0);
    CHECK_EQ(r.op, 0x0A);
    CHECK_EQ(r.value, 0xFFF0C101u);
    CHECK_EQ(r.status, 0);
    const uint8_t refused[] = {1, 3, 2, 0, 0, 0, 0, 0, 1, 7};
    CHECK_EQ(esp01_rom_parse_response(refused, sizeof refused, &r, NULL), 0);
    CHECK_EQ(r.status, 1);
    CHECK_EQ(r.error, 7);
    const uint8_t bad_len[] = {1, 3, 3, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(esp01_rom_parse_response(bad_len, sizeof bad_len, &r, NULL),
             ESP01_E_FORMAT);
    const uint8_t request[] = {0, 3, 2, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(esp01_rom_parse_response(request, sizeof request, &r, NULL),
             ESP01_E_FORMAT);
    /* "ok" with an error code is a corrupted reply, not a success */
    const uint8_t mixed[] = {1, 3, 2, 0, 0, 0, 0, 0, 0, 7};
    CHECK_EQ(esp01_rom_parse_response(mixed, sizeof mixed, &r, NULL),
             ESP01_E_FORMAT);
    CHECK_EQ(esp01_rom_parse_response(ok, 9, &r, NULL), ESP01_E_FORMAT);
}

/* The ROM erases n + min(n, 16 - s % 16) sectors (the esptool docs'
 * model); the argument must erase exactly the wanted count whenever any
 * argument can, and one more only for odd counts below 2t. */
TEST(erase_argument_compensates_the_rom_bug)
{
    for (uint32_t s = 0; s < 48; s++) {
        uint32_t t = 16 - s % 16;
        for (uint32_t n = 1; n <= 300; n++) {
            uint32_t erased;
            uint32_t arg = esp01_rom_erase_arg(s, n, &erased);
            CHECK_EQ(arg % 4096, 0);
            uint32_t y = arg / 4096;
            uint32_t model = y + (y < t ? y : t);
            CHECK_EQ(erased, model);
            bool exact_possible = false;
            for (uint32_t k = 1; k <= n && !exact_possible; k++)
                exact_possible = k + (k < t ? k : t) == n;
            if (exact_possible)
                CHECK_EQ(erased, n);
            else
                CHECK_EQ(erased, n + 1);
        }
    }
    CHECK_EQ(esp01_rom_erase_arg(0, 256, NULL), 240u * 4096);
}

TEST(jedec_decoding_never_guesses)
{
    esp01_flash_id id;
    CHECK_EQ(esp01_flash_id_decode(0x1440EF, &id, NULL), 0);
    CHECK_EQ(id.size, 1024 * 1024);
    CHECK_STR(id.vendor, "Winbond");
    CHECK_EQ(esp01_flash_id_decode(0x1340C8, &id, NULL), 0);
    CHECK_EQ(id.size, 512 * 1024);
    CHECK_EQ(esp01_flash_id_decode(0x164020, &id, NULL), 0);
    CHECK_EQ(id.size, 4 * 1024 * 1024);
    CHECK_EQ(esp01_flash_id_decode(0x000000, &id, NULL), ESP01_E_DEVICE);
    CHECK_EQ(esp01_flash_id_decode(0xFFFFFF, &id, NULL), ESP01_E_DEVICE);
    CHECK_EQ(esp01_flash_id_decode(0x0040EF, &id, NULL), ESP01_E_UNSUPPORTED);
    CHECK_EQ(esp01_flash_id_decode(0x2540EF, &id, NULL), ESP01_E_UNSUPPORTED);
}

/* ---- against the simulator ------------------------------------------- */

struct sim {
    pid_t pid;
    char tty[256];
    char flash[300];
    char stats[300];
};

static bool sim_start(struct sim *s, const char *name, const char *const *extra)
{
    const char *tools = getenv("TOOLS");
    char exe[512];
    snprintf(exe, sizeof exe, "%s/romsim", tools && *tools ? tools : "build/tests/tools");
    snprintf(s->flash, sizeof s->flash, "%s/%s.flash", tmpdir, name);
    snprintf(s->stats, sizeof s->stats, "%s/%s.stats", tmpdir, name);
    int fd[2];
    if (pipe(fd) < 0)
        return false;
    const char *argv[40] = {exe, "--flash", s->flash, "--stats", s->stats};
    int n = 5;
    for (int i = 0; extra && extra[i] && n < 38; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    bool ok = f && fgets(s->tty, sizeof s->tty, f);
    if (f)
        fclose(f);
    s->tty[strcspn(s->tty, "\n")] = '\0';
    return ok;
}

static void sim_stop(struct sim *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static long stat_value(const char *path, const char *key)
{
    size_t len;
    char *t = (char *)read_all(path, &len);
    if (!t)
        return -1;
    t[len] = '\0';
    long v = -1;
    size_t kl = strlen(key);
    for (char *p = t; (p = strstr(p, key)); p += kl)
        if ((p == t || p[-1] == '\n') && p[kl] == '=') {
            v = atol(p + kl + 1);
            break;
        }
    free(t);
    return v;
}

/* Pre-fill a flash file with a pattern so any stray erase shows. */
static void prefill(const char *path, size_t size, uint8_t v)
{
    uint8_t *b = malloc(size);
    memset(b, v, size);
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, size, f);
    fclose(f);
    free(b);
}

static int connect_sim(struct sim *s, esp01_port **port, esp01_rom *rom,
                       esp01_err *err)
{
    int rc = esp01_port_open_serial(port, s->tty, 115200, false, false, err);
    if (rc < 0)
        return rc;
    esp01_rom_init(rom, *port);
    esp01_rom_connect_opts o = {ESP01_ROM_BEFORE_NO_RESET, 3000, NULL, NULL};
    return esp01_rom_connect(rom, &o, err);
}

/* An image with data, blank sectors inside, and an odd sector count that
 * ends inside a 64 KiB block, written at an offset that is not block
 * aligned: the buggy ROM must still erase exactly the image's sectors. */
static uint8_t *make_image(size_t len, unsigned seed)
{
    uint8_t *img = malloc(len);
    srand(seed);
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)rand();
    for (size_t s = 2; s * 4096 < len; s += 5)
        memset(img + s * 4096, 0xFF, len - s * 4096 < 4096 ? len - s * 4096 : 4096);
    return img;
}

TEST(write_with_buggy_rom_erases_exactly_the_region)
{
    struct sim s;
    const size_t chip = 1024 * 1024;
    snprintf(s.flash, sizeof s.flash, "%s/exact.flash", tmpdir);
    prefill(s.flash, chip, 0x00);
    const char *extra[] = {NULL};
    CHECK(sim_start(&s, "exact", extra));
    esp01_port *port = NULL;
    esp01_rom rom;
    esp01_err err;
    esp01_err_clear(&err);
    int rc = connect_sim(&s, &port, &rom, &err);
    CHECK_EQ(rc, 0);
    const uint32_t off = 0x23000;
    const size_t len = 0x2C000 + 100; /* 45 sectors, the last partial */
    uint8_t *img = make_image(len, 7);
    esp01_rom_write_stats st;
    if (rc == 0)
        rc = esp01_rom_write_flash(&rom, off, img, len, &st, &err);
    if (rc < 0)
        printf("# %s\n", err.msg);
    CHECK_EQ(rc, 0);
    esp01_port_close(port);
    sim_stop(&s);
    size_t flen;
    uint8_t *flash = read_all(s.flash, &flen);
    CHECK(flash && flen == chip);
    if (flash && flen == chip) {
        size_t end = off + 45 * 4096;
        size_t bad_before = 0, bad_after = 0;
        for (size_t i = 0; i < off; i++)
            bad_before += flash[i] != 0x00;
        for (size_t i = end; i < chip; i++)
            bad_after += flash[i] != 0x00;
        CHECK_EQ(bad_before, 0);
        CHECK_EQ(bad_after, 0);
        CHECK(memcmp(flash + off, img, len) == 0);
        size_t pad_bad = 0;
        for (size_t i = off + len; i < end; i++)
            pad_bad += flash[i] != 0xFF;
        CHECK_EQ(pad_bad, 0);
    }
    CHECK(st.blank_sectors >= 8);
    /* blank sectors never crossed the wire (the chip's own count) */
    long sent = stat_value(s.stats, "data_bytes");
    CHECK(sent > 0 && (size_t)sent < len);
    CHECK_EQ(st.collateral, ESP01_ROM_NO_COLLATERAL);
    free(flash);
    free(img);
}

/* Five sectors inside one 64 KiB block cannot be erased exactly in one
 * request, so runs are erased one by one, the last one moved back a
 * sector; still nothing outside the image may change. */
TEST(short_odd_region_is_written_run_by_run_without_overshoot)
{
    struct sim s;
    const size_t chip = 1024 * 1024;
    snprintf(s.flash, sizeof s.flash, "%s/odd.flash", tmpdir);
    prefill(s.flash, chip, 0x00);
    CHECK(sim_start(&s, "odd", NULL));
    esp01_port *port = NULL;
    esp01_rom rom;
    esp01_err err;
    esp01_err_clear(&err);
    int rc = connect_sim(&s, &port, &rom, &err);
    const uint32_t off = 0x23000;
    const size_t len = 5 * 4096;
    uint8_t *img = make_image(len, 11);
    memset(img + 4096, 0xFF, 4096);
    img[2 * 4096] = 0x12; /* sector 2: one byte of data, blank blocks after */
    esp01_rom_write_stats st;
    memset(&st, 0, sizeof st);
    if (rc == 0)
        rc = esp01_rom_write_flash(&rom, off, img, len, &st, &err);
    CHECK_EQ(rc, 0);
    esp01_port_close(port);
    sim_stop(&s);
    size_t flen;
    uint8_t *flash = read_all(s.flash, &flen);
    CHECK(flash && flen == chip);
    if (flash && flen == chip) {
        size_t stray = 0;
        for (size_t i = 0; i < chip; i++)
            if (i < off || i >= off + len)
                stray += flash[i] != 0x00;
        CHECK_EQ(stray, 0);
        CHECK(memcmp(flash + off, img, len) == 0);
    }
    CHECK_EQ(st.collateral, ESP01_ROM_NO_COLLATERAL);
    CHECK_EQ(st.blank_sectors, 1);
    free(flash);
    free(img);
}

TEST(faults_end_in_equal_flash_or_an_error_naming_the_offset)
{
    int clean = 0, errors = 0;
    for (int seed = 1; seed <= 4; seed++) {
        struct sim s;
        char name[32], seed_s[16];
        snprintf(name, sizeof name, "fault%d", seed);
        snprintf(seed_s, sizeof seed_s, "%d", seed);
        const char *extra[] = {"--seed", seed_s, "--drop", "0.01", "--corrupt",
                               "0.01", "--stall", "0.003", "--stall-ms", "1200",
                               "--reset", "0.002", NULL};
        snprintf(s.flash, sizeof s.flash, "%s/%s.flash", tmpdir, name);
        prefill(s.flash, 1024 * 1024, 0x00);
        CHECK(sim_start(&s, name, extra));
        esp01_port *port = NULL;
        esp01_rom rom;
        esp01_err err;
        esp01_err_clear(&err);
        const size_t len = 64 * 1024;
        uint8_t *img = make_image(len, (unsigned)seed);
        int rc = connect_sim(&s, &port, &rom, &err);
        if (rc == 0)
            rc = esp01_rom_write_flash(&rom, 0, img, len, NULL, &err);
        if (port)
            esp01_port_close(port);
        sim_stop(&s);
        size_t flen;
        uint8_t *flash = read_all(s.flash, &flen);
        if (rc == 0) {
            if (flash)
                for (size_t i = 0; i < len; i++)
                    if (flash[i] != img[i]) {
                        printf("# seed %d: first difference at 0x%zx\n", seed, i);
                        break;
                    }
            CHECK(flash && flen >= len && memcmp(flash, img, len) == 0);
            clean++;
        } else {
            printf("# seed %d: %s\n", seed, err.msg);
            /* a failure says where (or failed before writing anything) */
            CHECK(strstr(err.msg, "0x") != NULL);
            errors++;
        }
        free(flash);
        free(img);
    }
    CHECK_EQ(clean + errors, 4);
    CHECK(clean > 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/esp01-rom.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(slip_round_trip_escapes);
    RUN(slip_resyncs_after_garbage_and_oversize);
    RUN(response_parse_checks_every_field);
    RUN(erase_argument_compensates_the_rom_bug);
    RUN(jedec_decoding_never_guesses);
    RUN(write_with_buggy_rom_erases_exactly_the_region);
    RUN(short_odd_region_is_written_run_by_run_without_overshoot);
    RUN(faults_end_in_equal_flash_or_an_error_naming_the_offset);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 1;
    CHECK_DONE();
}
