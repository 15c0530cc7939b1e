/*
 * serialports.h - the USB serial ports of this machine, from Linux sysfs.
 *
 * For each /sys/class/tty/NAME with a `device` link (pyserial's walk):
 * the device's subsystem says what it is: "usb-serial" (ch341, cp210x,
 * ftdi_sio, pl2303: the USB interface is the device's parent), "usb"
 * (cdc_acm: the device is the interface), anything else (the platform
 * UARTs ttyS*, which are mostly phantoms) is not a USB serial port.  The
 * USB device above the interface holds idVendor, idProduct, serial,
 * manufacturer and product.  /dev/serial/by-path and by-id give stable
 * names; by-path tells identical adapters without serial numbers (CH340,
 * PL2303) apart.
 *
 * Nothing here opens a port: opening toggles DTR/RTS on most adapters,
 * which resets boards wired for auto-reset.  Whether this user may open a
 * port is asked with access(2).  The two roots are parameters so that
 * tests can describe a machine with a directory tree.
 *
 * On Windows the ports come from SetupAPI instead (name and path "COM5",
 * VID:PID and serial from the device instance id, product from the
 * friendly name, driver from the service name); the roots are ignored,
 * by_path, by_id and gid stay empty, and access_errno stays 0 (only
 * opening a port would tell).  esp01_serial_nodes() lists the registry's
 * SERIALCOMM, every COM port whatever its bus.
 *
 * On macOS the ports are the /dev/cu.* nodes whose names a USB serial
 * driver made (esp01_serial_ports_cu()); sys_root is ignored, VID:PID,
 * by_path, by_id, driver, manufacturer and product stay empty.
 */
#ifndef ESP01_SERIALPORTS_H
#define ESP01_SERIALPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_serial_port {
    char name[64];          /* "ttyUSB0" */
    char path[512];         /* dev_root/name: "/dev/ttyUSB0" */
    char by_path[512];      /* "/dev/serial/by-path/...", or "" */
    char by_id[512];        /* "/dev/serial/by-id/...", or "" */
    char driver[64];        /* "ch341-uart", "cp210x", "cdc_acm", or "" */
    char location[64];      /* the USB device: "1-1.2" (bus-ports) */
    uint16_t vid, pid;
    /* USB descriptor strings, non-printable bytes replaced by '?' */
    char serial[128], manufacturer[128], product[128];
    const char *bridge;     /* "CH340", "CP210x", "FTDI", ... or NULL */
    int access_errno;       /* 0: this user may open it; else EACCES, ENOENT */
    unsigned gid;           /* the device node's group */
} esp01_serial_port;

typedef struct esp01_serial_list {
    esp01_serial_port *ports; /* malloc'd; esp01_serial_list_free() */
    size_t count;
} esp01_serial_list;

/* The defaults for the two roots. */
#define ESP01_SYSFS_ROOT "/sys"
#define ESP01_DEV_ROOT "/dev"

/*
 * The USB serial ports, in natural name order (ttyACM0, ttyUSB0, ttyUSB2,
 * ttyUSB10).  A machine without sysfs has none.  At most 256 are listed.
 */
int esp01_serial_ports(const char *sys_root, const char *dev_root, esp01_serial_list *out,
                       esp01_err *err);

/*
 * Device nodes named ttyUSB* or ttyACM* under dev_root, whatever sysfs
 * says (only name, path, access_errno and gid are filled): to tell "no
 * adapter" from "an adapter this user may not open".
 */
int esp01_serial_nodes(const char *dev_root, esp01_serial_list *out, esp01_err *err);

/*
 * The macOS listing: the callout nodes dev_root/cu.* named by a USB serial
 * driver (cu.usbserial-*, cu.wchusbserial*, cu.SLAB_USBtoUART*,
 * cu.PL2303*, cu.usbmodem*), never their tty.* twins, which wait for
 * carrier detect.  The bridge comes from the name; the name's suffix is
 * the serial number (FTDI's "A50285BI") or else the USB location.  It is
 * esp01_serial_ports() and esp01_serial_nodes() on macOS, and is built on
 * Linux too so that tests can run it on a fake /dev; Windows refuses it
 * (ESP01_E_UNSUPPORTED).
 */
int esp01_serial_ports_cu(const char *dev_root, esp01_serial_list *out, esp01_err *err);

/* The bridge chip of a VID:PID ("CH340", "CP210x", "FTDI FT232R", ...),
 * or NULL.  Espressif's own USB (303a:*) is "Espressif USB". */
const char *esp01_serial_bridge(uint16_t vid, uint16_t pid);

void esp01_serial_list_free(esp01_serial_list *list);

#ifdef __cplusplus
}
#endif

#endif
