/*
 * serialports_macos.c - on a Mac the port list is the /dev/cu.* listing
 * (serialports_cu.c); there is no sysfs, so sys_root means nothing.
 */
#include "esp01/serialports.h"

int esp01_serial_ports(const char *sys_root, const char *dev_root, esp01_serial_list *out,
                       esp01_err *err)
{
    (void)sys_root;
    return esp01_serial_ports_cu(dev_root, out, err);
}

/* Every listed node already carries its access_errno. */
int esp01_serial_nodes(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    return esp01_serial_ports_cu(dev_root, out, err);
}
