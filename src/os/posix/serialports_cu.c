/*
 * serialports_cu.c - the USB serial ports of a Mac, from the names of its
 * /dev/cu.* nodes (serialports.h).  Built on Linux too, where only the
 * tests call it (ESP01_PORTS_STYLE=macos, docs/ports.md), on a fake /dev.
 *
 * Only the callout devices: opening a tty.* twin waits for carrier detect,
 * which a USB serial adapter wired to an ESP-01 never raises.  A name
 * carries what the driver put there, and nothing else is read (IOKit's
 * registry would give VID:PID; this stays plain POSIX, and tells the
 * bridge from the driver's naming alone):
 *   cu.usbserial-SUFFIX   FTDI's and Apple's FTDI driver: SUFFIX is the
 *                         chip's serial number (A50285BI); Apple's drivers
 *                         for CH34x and PL2303 use the USB location
 *                         instead (digits only: 1420)
 *   cu.wchusbserialN      WCH's own CH340/CH341 driver, N the location
 *   cu.SLAB_USBtoUART[N]  Silicon Labs' CP210x driver
 *   cu.PL2303*            Prolific's PL2303 driver
 *   cu.usbmodemN          Apple's CDC ACM driver: native USB (RP2040,
 *                         ESP32-S2/S3, boards that speak USB themselves)
 * Everything else (cu.Bluetooth-Incoming-Port, cu.debug-console,
 * cu.wlan-debug, paired Bluetooth devices) is not a USB serial port.
 */
#include "esp01/serialports.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "os/posix/serlist.h"

static bool digits_only(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The bridge of cu.NAME, with the serial or location the name holds;
 * false for what is not a USB serial port. */
static bool describe_cu(const char *name, esp01_serial_port *p)
{
    static const struct {
        const char *prefix, *bridge;
    } kinds[] = {
        {"usbserial-", "FTDI"},          {"usbserial", "USB serial"},
        {"wchusbserial", "CH340"},       {"SLAB_USBtoUART", "CP210x"},
        {"PL2303", "PL2303"},            {"usbmodem", "USB CDC ACM"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(name, kinds[i].prefix, n) != 0)
            continue;
        const char *rest = name + n;
        p->bridge = kinds[i].bridge;
        if (i == 0 && digits_only(rest)) {
            /* Apple's CH34x/PL2303 drivers: a location, not a serial. */
            p->bridge = "USB serial";
            esp01_serlist_copy(p->location, sizeof p->location, rest);
        } else if (i == 0) {
            esp01_serlist_copy(p->serial, sizeof p->serial, rest);
        } else {
            esp01_serlist_copy(p->location, sizeof p->location, rest);
        }
        return true;
    }
    return false;
}

/* The callout nodes only: tty.* wait for carrier detect. */
static bool describe_node(const char *name, esp01_serial_port *p)
{
    return strncmp(name, "cu.", 3) == 0 && describe_cu(name + 3, p);
}

int esp01_serial_ports_cu(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    return esp01_serlist_dev_nodes(dev_root, describe_node, out, err);
}
