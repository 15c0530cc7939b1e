/*
 * A stand-in for MicroPython's mpy-cross, for the build tests: neither
 * Debian nor npm packages mpy-cross.  It follows mpy-cross's command line
 * (`--version`; `-o OUT -s NAME IN`) and writes a .mpy header for the
 * version in $MPY_STANDIN_VERSION (default 6.2), then the source name and
 * the source bytes, so a test can tell which file each output came from.
 * A source containing "syntax error!" fails as mpy-cross does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *ver = getenv("MPY_STANDIN_VERSION");
    if (!ver || !*ver)
        ver = "6.2";
    unsigned major = (unsigned)atoi(ver);
    const char *dot = strchr(ver, '.');
    unsigned minor = dot ? (unsigned)atoi(dot + 1) : 0;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("MicroPython v1.22.1 on 2024-01-05; mpy-cross emitting mpy v%s\n", ver);
        return 0;
    }
    const char *out = NULL, *name = NULL, *in = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            name = argv[++i];
        else
            in = argv[i];
    }
    if (!out || !in) {
        fprintf(stderr, "usage: %s [-o OUT] [-s NAME] IN\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(in, "rb");
    if (!f) {
        perror(in);
        return 1;
    }
    static char src[1 << 20];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    if (strstr(src, "syntax error!")) {
        fprintf(stderr, "Traceback (most recent call last):\n  File \"%s\", line 1\n"
                        "SyntaxError: invalid syntax\n", name ? name : in);
        return 1;
    }
    FILE *o = fopen(out, "wb");
    if (!o) {
        perror(out);
        return 1;
    }
    fputc('M', o);
    fputc((int)major, o);
    fputc((int)(minor & 3), o);
    fputc(31, o);
    fprintf(o, "%s\n", name ? name : in);
    fwrite(src, 1, n, o);
    fclose(o);
    return 0;
}
