/*
 * esp01 - get MicroPython programs onto ESP-01 (ESP8266) modules.
 *
 * The tool is a table of subcommands, each implemented in its own
 * cmd_*.c on top of libesp01.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"build", cmd_build, "firmware + project folder -> one flash image"},
    {"help", cmd_help, "list commands, or show help for one"},
    {"version", cmd_version, "print the esp01 version"},
    {"info", cmd_info, "explain a firmware file or flash dump (version, layout, checks)"},
    {"fs", cmd_fs, "list, check, extract or make filesystem partitions"},
    {"probe", cmd_probe, "identify the chip and its flash over the ROM loader"},
    {"flash", cmd_flash, "write an image (or build + write a project) over the ROM loader"},
    {"erase", cmd_erase, "erase the flash chip, or one region of it"},
};

static const size_t command_count = sizeof commands / sizeof commands[0];

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < command_count; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void list_commands(FILE *out)
{
    fputs("usage: esp01 <command> [options] [args]\n\ncommands:\n", out);
    for (size_t i = 0; i < command_count; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'esp01 <command> --help' shows a command's options.\n", out);
}

int cmd_help(int argc, char **argv)
{
    if (argc >= 2) {
        const struct cli_command *c = find_command(argv[1]);
        if (!c)
            return cli_error("no such command '%s'", argv[1]);
        char help[] = "--help";
        char *args[] = {argv[1], help, NULL};
        return c->run(2, args);
    }
    list_commands(stdout);
    return EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("esp01 %s\n", ESP01_VERSION);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        list_commands(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    else if (strcmp(name, "--version") == 0)
        name = "version";
    const struct cli_command *c = find_command(name);
    if (!c) {
        cli_error("'%s' is not an esp01 command", argv[1]);
        list_commands(stderr);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
