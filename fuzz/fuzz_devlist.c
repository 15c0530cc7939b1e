/* libFuzzer harness: device listing lines (esp01_devfs_parse_listing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/devfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool walk = data[0] & 1;
    esp01_dev_entry *list;
    size_t n;
    esp01_err err;
    if (esp01_devfs_parse_listing(data + 1, size - 1, walk, 1000, &list, &n,
                                  &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            /* Names must be safe to join onto a host path. */
            if (strstr(list[i].name, "..") == list[i].name && list[i].name[2] == 0)
                abort();
            if (!walk && strchr(list[i].name, '/'))
                abort();
            if (list[i].name[0] == '/')
                abort();
        }
        free(list);
    }
    return 0;
}
