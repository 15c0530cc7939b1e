/* src/flash/stub_image.h - the flasher stub that esp01 uploads (generated data in stub_image.c). */
#ifndef ESP01_STUB_IMAGE_H
#define ESP01_STUB_IMAGE_H
#include <stddef.h>
#include <stdint.h>
typedef struct esp01_stub_segment {
    uint32_t addr;          /* load address (IRAM or DRAM) */
    uint32_t len;           /* bytes, a multiple of 4 */
    const uint8_t *data;
} esp01_stub_segment;
typedef struct esp01_stub_image {
    uint32_t entry;         /* MEM_END jumps here */
    size_t nseg;
    esp01_stub_segment seg[4];
    const char *version;    /* e.g. "esp01-stub 1", for messages */
} esp01_stub_image;
extern const esp01_stub_image esp01_stub_esp8266;
#endif
