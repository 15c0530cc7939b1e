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
    /* images and partitions, offline */
    {"build", cmd_build, "firmware + project folder -> one flash image"},
    {"info", cmd_info, "explain a firmware file or flash dump (version, layout, checks)"},
    {"firmware", cmd_firmware, "list, download and cache MicroPython's official ESP8266 firmware"},
    {"fs", cmd_fs, "list, check, extract or make filesystem partitions"},
    /* the ESP8266 ROM loader */
    {"probe", cmd_probe, "identify the chip and its flash over the ROM loader"},
    {"flash", cmd_flash, "write an image (or build + write a project): only what changed"},
    {"read", cmd_read, "copy flash (the whole chip or a region) into a file"},
    {"verify", cmd_verify, "check that the flash holds an image (MD5 on the chip)"},
    {"erase", cmd_erase, "erase the flash chip, or one region of it"},
    {"ports", cmd_ports, "list USB serial ports, and what answers on each (--probe)"},
    /* files and code over the raw REPL */
    {"ls", cmd_ls, "list a directory on the device"},
    {"tree", cmd_tree, "list every file on the device"},
    {"cat", cmd_cat, "print a device file"},
    {"put", cmd_put, "copy files to the device (atomic, checked)"},
    {"get", cmd_get, "copy files from the device"},
    {"rm", cmd_rm, "remove device files"},
    {"mkdir", cmd_mkdir, "create a device directory"},
    {"rmdir", cmd_rmdir, "remove an empty device directory"},
    {"df", cmd_df, "device filesystem size and free space"},
    {"run", cmd_run, "run a local script on the device, output streamed"},
    {"exec", cmd_exec, "run Python code on the device"},
    {"repl", cmd_repl, "interactive MicroPython prompt (Ctrl-] leaves)"},
    {"reset", cmd_reset, "restart MicroPython on the device"},
    {"sync", cmd_sync, "upload the project files that changed"},
    {"mip", cmd_mip, "install packages (micropython-lib, GitHub) onto the device, all or nothing"},
    {"webrepl", cmd_webrepl, "enable WebREPL on the board (then --port ws://HOST)"},
    {"help", cmd_help, "list commands, or show help for one"},
    {"version", cmd_version, "print the esp01 version"},
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
    /* "esp01 put main.py : + reset": one connection for the whole chain. */
    int start = 1, status = EXIT_OK;
    while (start < argc && status == EXIT_OK) {
        int end = start;
        while (end < argc && strcmp(argv[end], "+") != 0)
            end++;
        if (end == start) {
            status = cli_error("empty command in a '+' chain");
            break;
        }
        const char *cname = argv[start];
        if (start == 1)
            cname = name;
        const struct cli_command *c = find_command(cname);
        if (!c) {
            cli_error("'%s' is not an esp01 command", argv[start]);
            list_commands(stderr);
            status = EXIT_USAGE;
            break;
        }
        char *saved = argv[end < argc ? end : argc];
        argv[end] = NULL;
        status = c->run(end - start, argv + start);
        if (end < argc)
            argv[end] = saved;
        start = end + 1;
    }
    cli_dev_close();
    return status;
}
