/*
 * usbid.h - what a USB serial adapter's ids say, independent of the OS
 * that reported them: the bridge chip of a VID:PID, and the fields of a
 * Windows device instance id.
 *
 * Windows names each device with an instance id such as
 *   USB\VID_1A86&PID_7523\5&2D9B1B0E&0&2     (CH340, no serial number)
 *   USB\VID_10C4&PID_EA60\0001               (CP210x, serial "0001")
 *   USB\VID_2E8A&PID_0005&MI_00\6&3A1B&0&0000 (interface 0 of a composite)
 *   FTDIBUS\VID_0403+PID_6001+A50285BIA\0000 (FTDI's own bus driver)
 * The last part is the device's serial number when it has one; when it
 * has none Windows makes one up, and a made-up one always holds a '&'.
 * FTDI's driver appends the channel letter (A, B, ...) to the serial.
 * This parser is here, not in src/os/win32/, so that it is tested on
 * every build.
 */
#ifndef ESP01_UTIL_USBID_H
#define ESP01_UTIL_USBID_H

#include <stdbool.h>
#include <stdint.h>

typedef struct esp01_hwid {
    char bus[16];      /* "USB", "FTDIBUS", as written */
    uint16_t vid, pid;
    int iface;         /* MI_xx of a composite device, else -1 (not
                        * "interface": Windows headers #define that) */
    char serial[128];  /* the device's serial number, or "" */
    char channel;      /* FTDI channel letter taken off the serial, or 0 */
} esp01_hwid;

/*
 * Parse an instance id or a hardware id (USB\VID_1A86&PID_7523&REV_0264),
 * in any letter case.  False when no VID and PID could be read; `out` is
 * then zeroed (iface -1).  Serial bytes that are not printable ASCII
 * become '?'.
 */
bool esp01_hwid_parse(const char *id, esp01_hwid *out);

#endif
