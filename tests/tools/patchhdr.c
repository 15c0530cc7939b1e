/*
 * patchhdr FILE - for every flash mode, size and frequency name esp01
 * accepts, patch a copy of FILE's header with esp01_image_patch_header()
 * and print "mode size freq byte2 byte3", for comparison with another
 * flasher's header logic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/image.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: patchhdr FILE\n", stderr);
        return 2;
    }
    uint8_t *buf;
    size_t len;
    esp01_err err;
    if (esp01_read_file(argv[1], 64u << 20, &buf, &len, &err) < 0) {
        fprintf(stderr, "patchhdr: %s\n", err.msg);
        return 1;
    }
    static const char *const modes[] = {"qio", "qout", "dio", "dout"};
    static const char *const sizes[] = {"512K", "256K", "1M", "2M", "4M",
                                        "2M-c1", "4M-c1", "8M", "16M"};
    static const char *const freqs[] = {"40m", "26m", "20m", "80m"};
    for (size_t m = 0; m < 4; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t f = 0; f < 4; f++) {
                int mode = esp01_flash_mode_parse(modes[m]);
                int size = esp01_flash_size_parse(sizes[s]);
                int freq = esp01_flash_freq_parse(freqs[f]);
                if (esp01_image_patch_header(buf, len, mode, size, freq, &err) < 0) {
                    fprintf(stderr, "patchhdr: %s %s %s: %s\n", modes[m],
                            sizes[s], freqs[f], err.msg);
                    return 1;
                }
                printf("%s %s %s %u %u\n", modes[m], sizes[s], freqs[f], buf[2], buf[3]);
            }
    free(buf);
    return 0;
}
