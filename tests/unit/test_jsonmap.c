/* --board-config files: a JSON object of strings (jsonmap.c). */
#include "check.h"
#include "esp01/jsonmap.h"

static int parse(const char *s, esp01_jsonmap *m, esp01_err *err)
{
    return esp01_jsonmap_parse((const uint8_t *)s, strlen(s), m, err);
}

TEST(pairs)
{
    esp01_jsonmap m;
    CHECK_EQ(parse("{\"/dev/ttyUSB0\": \"a.json\",\n \"A1B2C3\" : \"cfg/b.json\", \"*\":\"d.json\"}", &m,
                   NULL), 0);
    CHECK_EQ(m.count, 3);
    CHECK_STR(esp01_jsonmap_get(&m, "/dev/ttyUSB0"), "a.json");
    CHECK_STR(esp01_jsonmap_get(&m, "A1B2C3"), "cfg/b.json");
    CHECK_STR(esp01_jsonmap_get(&m, "*"), "d.json");
    CHECK(esp01_jsonmap_get(&m, "nope") == NULL);
    esp01_jsonmap_free(&m);
    CHECK_EQ(parse(" {} ", &m, NULL), 0);
    CHECK_EQ(m.count, 0);
}

TEST(escapes)
{
    esp01_jsonmap m;
    CHECK_EQ(parse("{\"k\\\"1\\\\\": \"a\\/b\\n\\u00e9\\u20ac\\ud83d\\ude00\\ud800x\"}", &m, NULL), 0);
    CHECK_STR(m.pairs[0].key, "k\"1\\");
    CHECK_STR(m.pairs[0].value, "a/b\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBDx");
    esp01_jsonmap_free(&m);
}

static void refused(const char *text, int code, const char *what)
{
    esp01_jsonmap m;
    esp01_err err;
    err.msg[0] = '\0';
    int rc = parse(text, &m, &err);
    CHECK_EQ(rc, code);
    if (!strstr(err.msg, what)) {
        printf("  got: %s (wanted %s)\n", err.msg, what);
        CHECK(0);
    }
    CHECK(m.count == 0 && m.pairs == NULL);
}

TEST(refusals)
{
    refused("[\"a\"]", ESP01_E_FORMAT, "not a JSON object");
    refused("{\"a\": 1}", ESP01_E_FORMAT, "the value of \"a\" is not a string");
    refused("{\"a\": \"x\", \"b\": {\"c\": \"d\"}}", ESP01_E_FORMAT, "the value of \"b\"");
    refused("{\"a\": \"x\", \"a\": \"y\"}", ESP01_E_FORMAT, "\"a\" is given twice");
    refused("{\"a\": \"x\\u0000y\"}", ESP01_E_FORMAT, "\\u0000");
    refused("{\"a\": \"x\",}", ESP01_E_FORMAT, "line 1, column 11");
    static char big[ESP01_JSONMAP_MAX_STRING + 32];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "{\"a\": \"", 7);
    memcpy(big + sizeof big - 3, "\"}", 3);
    refused(big, ESP01_E_LIMIT, "longer than");
}

int main(void)
{
    RUN(pairs);
    RUN(escapes);
    RUN(refusals);
    CHECK_DONE();
}
