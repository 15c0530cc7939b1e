/* libFuzzer harness: the firmware download page's link parser and the
 * file name parser it feeds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp01/fwindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esp01_fw_list list = {0};
    int n = esp01_fw_page_parse(data, size, &list, NULL);
    if (n < 0 && n != ESP01_E_NOMEM)
        __builtin_trap();
    if (n >= 0 && (size_t)n != list.count)
        __builtin_trap();
    esp01_fw_list_sort(&list);
    for (size_t i = 0; i < list.count; i++) {
        const esp01_fw_file *f = &list.files[i];
        /* Every name taken is a plain file name that parses again the same. */
        esp01_fw_file again;
        if (strchr(f->name, '/') || strchr(f->name, '"') ||
            esp01_fw_name_parse(f->name, strlen(f->name), &again) != 0 ||
            strcmp(again.version.tag, f->version.tag) != 0 || again.variant != f->variant)
            __builtin_trap();
        if (i > 0 && esp01_fw_version_cmp(&list.files[i - 1].version, &f->version) < 0)
            __builtin_trap();
    }
    for (int v = 0; v < ESP01_FW_VARIANT_COUNT; v++)
        (void)esp01_fw_list_pick(&list, (esp01_fw_variant)v, NULL);
    esp01_fw_list_free(&list);
    /* The same bytes as a version a user typed. */
    esp01_fw_version ver;
    if (size < 80 && esp01_fw_version_parse((const char *)data, size, &ver) == 0 &&
        strlen(ver.tag) > size + 1)
        __builtin_trap();
    return 0;
}
