/* esp01 reset [--soft|--hard] - restart MicroPython on the device. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 reset [--soft|--hard]\n"
    "Restart the device so that boot.py and main.py run.\n"
    "  --soft             restart MicroPython only (default; keeps the port)\n"
    "  --hard             reset the chip (machine.reset())\n";

int cmd_reset(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool hard = false;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "reset", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!strcmp(argv[i], "--soft"))
            hard = false;
        else if (!strcmp(argv[i], "--hard"))
            hard = true;
        else
            return cli_usage_error("reset", "unexpected argument '%s'", argv[i]);
    }
    esp01_rawrepl *r;
    int rc = cli_dev_repl(&o, &r);
    if (rc)
        return rc;
    esp01_err err = {0};
    if (hard) {
        static const char code[] = "import machine\nmachine.reset()";
        rc = esp01_rawrepl_exec(r, (const uint8_t *)code, sizeof code - 1,
                                NULL, NULL, 1500, &err);
        /* A reset chip never finishes the exec; silence is success. */
        if (rc == ESP01_E_DEVICE)
            return cli_error("hard reset failed on the device: %s", err.msg);
        cli_dev_forget();
        return EXIT_OK;
    }
    rc = esp01_rawrepl_soft_reset(r, true, 3000, &err);
    return rc < 0 ? cli_dev_error(rc, &err) : EXIT_OK;
}
