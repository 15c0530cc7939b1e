/* src/os/cmdline.c: an argv quoted as one Windows command line.  Each case
 * checks the exact string and that the MSVC runtime's splitting (written
 * out below from its documented rules) gives the argv back. */
#include "check.h"

#include "os/cmdline.h"

/* Split `s` as the MSVC C runtime does for argv[1..] ("Parsing C
 * command-line arguments"): returns the count, args NUL-separated in buf. */
static int msvc_split(const char *s, char *buf, const char *args[], int max)
{
    int n = 0;
    char *o = buf;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || n == max)
            return n;
        args[n++] = o;
        int in_quotes = 0;
        while (*s && (in_quotes || (*s != ' ' && *s != '\t'))) {
            size_t slashes = 0;
            while (*s == '\\') {
                slashes++;
                s++;
            }
            if (*s == '"') {
                for (size_t k = 0; k < slashes / 2; k++)
                    *o++ = '\\';
                if (slashes % 2) {
                    *o++ = '"';
                } else if (in_quotes && s[1] == '"') {
                    *o++ = '"'; /* "" inside quotes: a literal quote */
                    s++;
                } else {
                    in_quotes = !in_quotes;
                }
                s++;
                continue;
            }
            for (size_t k = 0; k < slashes; k++)
                *o++ = '\\';
            if (*s && (in_quotes || (*s != ' ' && *s != '\t')))
                *o++ = *s++;
        }
        *o++ = '\0';
    }
}

/* argv quotes to `want`, and splits back into argv. */
static void roundtrip(char *const argv[], const char *want)
{
    esp01_err e;
    char *line = NULL;
    CHECK_EQ(esp01_os_cmdline(argv, &line, &e), 0);
    CHECK_STR(line, want);
    if (!line)
        return;
    char buf[512];
    const char *back[16];
    int n = msvc_split(line, buf, back, 16);
    int want_n = 0;
    while (argv[want_n])
        want_n++;
    CHECK_EQ(n, want_n);
    for (int i = 0; i < n && i < want_n; i++)
        CHECK_STR(back[i], argv[i]);
    free(line);
}

TEST(plain_arguments_go_as_they_are)
{
    char *argv[] = {"mpy-cross", "-o", "out.mpy", "C:\\src\\main.py", NULL};
    roundtrip(argv, "mpy-cross -o out.mpy C:\\src\\main.py");
}

TEST(spaces_and_tabs_are_quoted)
{
    char *argv[] = {"C:\\Program Files\\esp01\\esp01.exe", "a b", "tab\there", NULL};
    roundtrip(argv, "\"C:\\Program Files\\esp01\\esp01.exe\" \"a b\" \"tab\there\"");
}

TEST(empty_argument_is_a_pair_of_quotes)
{
    char *argv[] = {"prog", "", "x", "", NULL};
    roundtrip(argv, "prog \"\" x \"\"");
}

TEST(quotes_inside_are_escaped)
{
    char *argv[] = {"prog", "say \"hi\"", "\"", "a\"b", NULL};
    roundtrip(argv, "prog \"say \\\"hi\\\"\" \"\\\"\" \"a\\\"b\"");
}

TEST(backslashes_before_a_quote_are_doubled)
{
    /* a\"b: one backslash then a quote -> a\\\"b inside quotes */
    char *argv[] = {"prog", "a\\\"b", "x\\\\\"y", NULL};
    roundtrip(argv, "prog \"a\\\\\\\"b\" \"x\\\\\\\\\\\"y\"");
}

TEST(trailing_backslash_before_the_closing_quote)
{
    char *argv[] = {"prog", "C:\\some dir\\", "C:\\nodir\\", "two\\\\ x\\\\", NULL};
    /* Unquoted, a trailing backslash is plain; quoted, it is doubled so
     * that it does not escape the closing quote. */
    roundtrip(argv, "prog \"C:\\some dir\\\\\" C:\\nodir\\ \"two\\\\ x\\\\\\\\\"");
}

TEST(backslashes_elsewhere_stay_single)
{
    char *argv[] = {"prog", "\\\\server\\share\\a b", NULL};
    roundtrip(argv, "prog \"\\\\server\\share\\a b\"");
}

TEST(utf8_passes_through)
{
    char *argv[] = {"prog", "caf\xc3\xa9 \xe2\x82\xac", NULL};
    roundtrip(argv, "prog \"caf\xc3\xa9 \xe2\x82\xac\"");
}

TEST(no_program_is_refused)
{
    esp01_err e;
    char *line = (char *)1;
    char *argv[] = {NULL};
    CHECK_EQ(esp01_os_cmdline(argv, &line, &e), ESP01_E_INVAL);
    CHECK(line == NULL);
}

int main(void)
{
    RUN(plain_arguments_go_as_they_are);
    RUN(spaces_and_tabs_are_quoted);
    RUN(empty_argument_is_a_pair_of_quotes);
    RUN(quotes_inside_are_escaped);
    RUN(backslashes_before_a_quote_are_doubled);
    RUN(trailing_backslash_before_the_closing_quote);
    RUN(backslashes_elsewhere_stay_single);
    RUN(utf8_passes_through);
    RUN(no_program_is_refused);
    CHECK_DONE();
}
