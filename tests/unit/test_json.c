/* The JSON checker used on --config files. */
#include "check.h"
#include "esp01/json.h"

static int json(const char *s, esp01_err *err)
{
    return esp01_json_check((const uint8_t *)s, strlen(s), err);
}

TEST(valid_values)
{
    CHECK_EQ(json("{\"ssid\": \"home\", \"password\": \"p\\\"w\\u00e9\", \"interval\": 60,\n"
                  " \"led_pin\": null, \"on\": true, \"x\": [1, -2.5e3, {}, []]}\n", NULL),
             ESP01_JSON_OBJECT);
    CHECK_EQ(json("[]", NULL), ESP01_JSON_ARRAY);
    CHECK_EQ(json(" \"s\" ", NULL), ESP01_JSON_STRING);
    CHECK_EQ(json("0", NULL), ESP01_JSON_NUMBER);
    CHECK_EQ(json("-0.5E+2", NULL), ESP01_JSON_NUMBER);
    CHECK_EQ(json("false", NULL), ESP01_JSON_LITERAL);
    CHECK_EQ(json("{\"caf\xC3\xA9\": \"\xE2\x82\xAC\"}", NULL), ESP01_JSON_OBJECT);
}

/* Each broken text must fail at the given line and column. */
static void broken(const char *text, const char *where)
{
    esp01_err err;
    int rc = json(text, &err);
    CHECK(rc < 0);
    if (rc < 0 && strstr(err.msg, where) != err.msg) {
        printf("  got: %s (wanted %s...)\n", err.msg, where);
        CHECK(0);
    }
}

TEST(errors_with_position)
{
    broken("{\"ssid\": \"home\",}", "line 1, column 17: expected a \"key\"");
    broken("{\n  \"ssid\": 'home'\n}", "line 2, column 11: expected a value");
    broken("{\"a\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}'");
    broken("{\"a\" 1}", "line 1, column 6: expected ':'");
    broken("{\"a\": \"x\ny\"}", "line 1, column 9: control character");
    broken("{\"a\": \"\\q\"}", "line 1, column 8: unknown escape");
    broken("{\"a\": \"\\u12G4\"}", "line 1, column 8: \\u needs four hex digits");
    broken("{\"a\": \"\xC3\x28\"}", "line 1, column 8: string is not valid UTF-8");
    broken("{\"a\": \"\xED\xA0\x80\"}", "line 1, column 8: string is not valid UTF-8");
    broken("{\"a\": \"open", "line 1, column 12: string not closed");
    broken("{\"a\": 01}", "line 1, column 8: expected ',' or '}'");
    broken("{\"a\": 1.}", "line 1, column 9: expected digits after '.'");
    broken("{\"a\": 1e}", "line 1, column 9: expected digits in the exponent");
    broken("{\"a\": tru}", "line 1, column 7: expected a value");
    broken("{} {}", "line 1, column 4: text after the end");
    broken("", "line 1, column 1: expected a value, found the end");
    broken("\xEF\xBB\xBF{}", "line 1, column 1: starts with a byte order mark");
    broken("{\"a\": [1, 2}", "line 1, column 12: expected ',' or ']'");
}

TEST(depth_limit)
{
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    esp01_err err;
    CHECK_EQ(json(deep, &err), ESP01_E_LIMIT);
    deep[64] = ']';
    deep[129] = '\0';
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    CHECK_EQ(json(deep, NULL), ESP01_JSON_ARRAY);
}

int main(void)
{
    RUN(valid_values);
    RUN(errors_with_position);
    RUN(depth_limit);
    CHECK_DONE();
}
