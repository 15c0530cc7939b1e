/* esp01 rmdir :DIR... */
#include "cli.h"

static const char usage[] =
    "usage: esp01 rmdir :DIR...\n"
    "Remove empty directories from the device.\n";

int cmd_rmdir(int argc, char **argv)
{
    return cli_dev_each_dir("rmdir", usage, argc, argv, esp01_devfs_rmdir);
}
