/* The part of Apple's mach-o/dyld.h that src/os/posix/sys_macos.c uses
 * (macos-check). */
#ifndef _MACH_O_DYLD_H_
#define _MACH_O_DYLD_H_
#include <stdint.h>
extern int _NSGetExecutablePath(char *buf, uint32_t *bufsize);
#endif
