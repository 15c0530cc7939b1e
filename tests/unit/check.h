/*
 * check.h - the unit test harness.  Each test_*.c is one program; each
 * TEST() is one case.  Output is one line per case ("ok - name" or
 * "FAIL - name: file:line: what"), which tests/run.sh tallies.
 */
#ifndef ESP01_TEST_CHECK_H
#define ESP01_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures_total;
static int check_case_failed;
static const char *check_case_name;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            if (!check_case_failed)                                          \
                printf("FAIL - %s: %s:%d: %s\n", check_case_name, __FILE__,  \
                       __LINE__, #cond);                                     \
            check_case_failed = 1;                                           \
        }                                                                    \
    } while (0)

/* Compare two integers and show both values when they differ. */
#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);      \
        if (check_a_ != check_b_) {                                          \
            if (!check_case_failed)                                          \
                printf("FAIL - %s: %s:%d: %s == %s (%lld != %lld)\n",        \
                       check_case_name, __FILE__, __LINE__, #a, #b,          \
                       check_a_, check_b_);                                  \
            check_case_failed = 1;                                           \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                         \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {     \
            if (!check_case_failed)                                          \
                printf("FAIL - %s: %s:%d: %s == %s ('%s' != '%s')\n",        \
                       check_case_name, __FILE__, __LINE__, #a, #b,          \
                       check_a_ ? check_a_ : "(null)",                       \
                       check_b_ ? check_b_ : "(null)");                      \
            check_case_failed = 1;                                           \
        }                                                                    \
    } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                            \
    do {                                                                     \
        check_case_name = #name;                                             \
        check_case_failed = 0;                                               \
        name();                                                              \
        if (!check_case_failed)                                              \
            printf("ok - %s\n", #name);                                      \
        else                                                                 \
            check_failures_total++;                                          \
        fflush(stdout);                                                      \
    } while (0)

#define CHECK_DONE() return check_failures_total ? 1 : 0

/* Path of the shared fixtures (tests/run.sh exports SHARED). */
static inline const char *check_shared(void)
{
    const char *s = getenv("SHARED");
    return s && *s ? s : "../shared";
}

#endif
