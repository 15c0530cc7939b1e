/*
 * serialports.c - the USB serial ports of a Windows machine, from
 * SetupAPI: every present device of the COM port iface class or of
 * the Ports setup class (older drivers register only the latter) whose
 * device key names a COMn PortName.  Its instance id carries VID, PID and
 * serial number (src/util/usbid.h); for one iface of a composite
 * device the serial is its parent's.  Ports that are not USB (a
 * motherboard's COM1, Bluetooth links) are left out, as the platform
 * UARTs are on Linux.
 *
 * The registry's HARDWARE\DEVICEMAP\SERIALCOMM lists every COM port a
 * driver has opened for business, whatever its bus: it is
 * esp01_serial_nodes(), and the answer of esp01_serial_ports() when
 * SetupAPI itself cannot be asked.
 *
 * The sysfs and /dev roots of serialports.h mean nothing here and are
 * ignored; nothing opens a port, so access_errno stays 0.
 */
#include "esp01/serialports.h"

#include "os/serlist.h"
#include "os/win32/win.h"
#include "util/usbid.h"

#include <cfgmgr32.h>
#include <setupapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PORTS 256u

/* {86E0D1E0-8089-11D0-9CE4-08003E301F73}, GUID_DEVINTERFACE_COMPORT */
static const GUID comport_interface = {
    0x86e0d1e0, 0x8089, 0x11d0, {0x9c, 0xe4, 0x08, 0x00, 0x3e, 0x30, 0x1f, 0x73}};
/* {4D36E978-E325-11CE-BFC1-08002BE10318}, GUID_DEVCLASS_PORTS */
static const GUID ports_class = {
    0x4d36e978, 0xe325, 0x11ce, {0xbf, 0xc1, 0x08, 0x00, 0x2b, 0xe1, 0x03, 0x18}};

/* "COM5" and no "LPT1", "COM" or "COMx". */
static bool com_name(const char *s)
{
    if (strncmp(s, "COM", 3) != 0 || !s[3])
        return false;
    for (s += 3; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* COM3 before COM10. */
static bool listed(const esp01_serial_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->ports[i].name, name) == 0)
            return true;
    return false;
}

/* A string property of the device, printable ASCII kept as the sysfs walk
 * keeps it, into `out` ("" when the driver gave none). */
static void property(HDEVINFO set, SP_DEVINFO_DATA *dev, DWORD prop, char *out, size_t cap)
{
    wchar_t w[256];
    DWORD type = 0;
    out[0] = '\0';
    if (!SetupDiGetDeviceRegistryPropertyW(set, dev, prop, &type, (BYTE *)w, sizeof w - 2, NULL) ||
        (type != REG_SZ && type != REG_MULTI_SZ))
        return;
    w[sizeof w / sizeof w[0] - 1] = L'\0';
    esp01_win_utf8(w, out, cap);
}

static bool port_name(HDEVINFO set, SP_DEVINFO_DATA *dev, char *out, size_t cap)
{
    HKEY key = SetupDiOpenDevRegKey(set, dev, DICS_FLAG_GLOBAL, 0, DIREG_DEV, KEY_READ);
    if (key == INVALID_HANDLE_VALUE)
        return false;
    wchar_t w[64];
    DWORD type = 0, size = sizeof w - 2;
    LONG rc = RegQueryValueExW(key, L"PortName", NULL, &type, (BYTE *)w, &size);
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS || type != REG_SZ)
        return false;
    w[size / 2 < 63 ? size / 2 : 63] = L'\0';
    esp01_win_utf8(w, out, cap);
    return com_name(out);
}

/* The serial of a composite device sits on the parent, not on the
 * iface that has the COM port. */
static void parent_serial(DEVINST inst, esp01_hwid *id)
{
    DEVINST parent;
    wchar_t w[MAX_DEVICE_ID_LEN + 1];
    char utf8[4 * MAX_DEVICE_ID_LEN];
    esp01_hwid up;
    if (CM_Get_Parent(&parent, inst, 0) != CR_SUCCESS ||
        CM_Get_Device_IDW(parent, w, MAX_DEVICE_ID_LEN, 0) != CR_SUCCESS)
        return;
    w[MAX_DEVICE_ID_LEN] = L'\0';
    if (esp01_hwid_parse(esp01_win_utf8(w, utf8, sizeof utf8), &up) && up.vid == id->vid &&
        up.pid == id->pid)
        memcpy(id->serial, up.serial, sizeof id->serial);
}

/* Fill `p` from one device; false when it has no COM port or is no USB
 * device. */
static bool describe(HDEVINFO set, SP_DEVINFO_DATA *dev, esp01_serial_port *p)
{
    memset(p, 0, sizeof *p);
    if (!port_name(set, dev, p->name, sizeof p->name))
        return false;
    wchar_t w[MAX_DEVICE_ID_LEN + 1];
    char utf8[4 * MAX_DEVICE_ID_LEN];
    esp01_hwid id;
    if (!SetupDiGetDeviceInstanceIdW(set, dev, w, MAX_DEVICE_ID_LEN, NULL))
        return false;
    w[MAX_DEVICE_ID_LEN] = L'\0';
    if (!esp01_hwid_parse(esp01_win_utf8(w, utf8, sizeof utf8), &id))
        return false;
    if (id.iface >= 0)
        parent_serial(dev->DevInst, &id);
    snprintf(p->path, sizeof p->path, "%s", p->name);
    p->vid = id.vid;
    p->pid = id.pid;
    memcpy(p->serial, id.serial, sizeof p->serial);
    property(set, dev, SPDRP_MFG, p->manufacturer, sizeof p->manufacturer);
    property(set, dev, SPDRP_FRIENDLYNAME, p->product, sizeof p->product);
    if (!p->product[0])
        property(set, dev, SPDRP_DEVICEDESC, p->product, sizeof p->product);
    property(set, dev, SPDRP_SERVICE, p->driver, sizeof p->driver);
    property(set, dev, SPDRP_LOCATION_INFORMATION, p->location, sizeof p->location);
    p->bridge = esp01_serial_bridge(p->vid, p->pid);
    return true;
}

/* The present devices of one class into `out`; false when SetupAPI could
 * not be asked at all. */
static bool walk(const GUID *guid, DWORD flags, esp01_serial_list *out, size_t *cap, int *rc,
                 esp01_err *err)
{
    HDEVINFO set = SetupDiGetClassDevsW(guid, NULL, NULL, DIGCF_PRESENT | flags);
    if (set == INVALID_HANDLE_VALUE)
        return false;
    SP_DEVINFO_DATA dev;
    dev.cbSize = sizeof dev;
    for (DWORD i = 0; *rc == 0 && out->count < MAX_PORTS && SetupDiEnumDeviceInfo(set, i, &dev);
         i++) {
        esp01_serial_port p;
        if (describe(set, &dev, &p) && !listed(out, p.name))
            *rc = esp01_serlist_push(out, cap, &p, err);
    }
    SetupDiDestroyDeviceInfoList(set);
    return true;
}

/* HARDWARE\DEVICEMAP\SERIALCOMM: value "\Device\Serial0", data "COM1". */
static int serialcomm(esp01_serial_list *out, size_t *cap, esp01_err *err)
{
    HKEY key;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"HARDWARE\\DEVICEMAP\\SERIALCOMM", 0, KEY_READ,
                      &key) != ERROR_SUCCESS)
        return 0;
    int rc = 0;
    for (DWORD i = 0; rc == 0 && out->count < MAX_PORTS; i++) {
        wchar_t name[256], data[64];
        DWORD nlen = sizeof name / sizeof name[0], dsize = sizeof data - 2, type = 0;
        LONG r = RegEnumValueW(key, i, name, &nlen, NULL, &type, (BYTE *)data, &dsize);
        if (r == ERROR_NO_MORE_ITEMS)
            break;
        if (r != ERROR_SUCCESS || type != REG_SZ)
            continue;
        data[dsize / 2 < 63 ? dsize / 2 : 63] = L'\0';
        esp01_serial_port p;
        memset(&p, 0, sizeof p);
        esp01_win_utf8(data, p.name, sizeof p.name);
        if (!com_name(p.name) || listed(out, p.name))
            continue;
        snprintf(p.path, sizeof p.path, "%s", p.name);
        rc = esp01_serlist_push(out, cap, &p, err);
    }
    RegCloseKey(key);
    return rc;
}

int esp01_serial_ports(const char *sys_root, const char *dev_root, esp01_serial_list *out,
                       esp01_err *err)
{
    (void)sys_root;
    (void)dev_root;
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int rc = 0;
    bool asked = walk(&comport_interface, DIGCF_DEVICEINTERFACE, out, &cap, &rc, err);
    if (rc == 0)
        asked = walk(&ports_class, 0, out, &cap, &rc, err) || asked;
    if (rc == 0 && !asked)
        rc = serialcomm(out, &cap, err);
    return esp01_serlist_finish(out, rc);
}

int esp01_serial_nodes(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    (void)dev_root;
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    return esp01_serlist_finish(out, serialcomm(out, &cap, err));
}

/* Windows has no /dev: the macOS listing is refused, not faked. */
int esp01_serial_ports_cu(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    (void)dev_root;
    memset(out, 0, sizeof *out);
    return esp01_fail(err, ESP01_E_UNSUPPORTED, "the /dev/cu.* listing is macOS's");
}

