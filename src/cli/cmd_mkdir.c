/* esp01 mkdir :DIR... */
#include "cli.h"

static const char usage[] =
    "usage: esp01 mkdir :DIR...\n"
    "Create directories on the device.\n";

int cmd_mkdir(int argc, char **argv)
{
    return cli_dev_each_dir("mkdir", usage, argc, argv, esp01_devfs_mkdir);
}
