/*
 * pisync_device_args.c - pisync-device's command line: the options table, parsing and
 * validating option values, and the helpers the commands share (error messages, exit
 * codes, opening the client and the spool from the options).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_device.h"

/* ---- command line ---- */

typedef struct {
    const char *name;
    size_t offset;
} option_spec;

#define OPTION(name, member) {name, offsetof(arguments, member)}

static const option_spec options_table[] = {
    OPTION("--server", server),       OPTION("--device", device),
    OPTION("--files", files),         OPTION("--errors", errors),
    OPTION("--speed", speed),         OPTION("--timestamp", timestamp),
    OPTION("--spool", spool),         OPTION("--spool-max", spool_max),
    OPTION("--page", page),           OPTION("--limit", limit),
    OPTION("--timeout", timeout),     OPTION("--retries", retries),
};

int usage_error(const char *fmt, const char *detail)
{
    fputs("pisync-device: ", stderr);
    fprintf(stderr, fmt, detail);
    fputs("\n(see pisync-device --help)\n", stderr);
    return EXIT_USAGE;
}

/* Accepts "--name value" and "--name=value". Returns EXIT_OK or EXIT_USAGE. */
int parse_arguments(int argc, char **argv, arguments *args)
{
    int i;

    memset(args, 0, sizeof *args);
    if (argc < 2)
        return usage_error("%s", "missing command");
    args->command = argv[1];
    for (i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *value = NULL;
        size_t k;

        for (k = 0; k < sizeof options_table / sizeof options_table[0]; k++) {
            if (strlen(options_table[k].name) == name_len &&
                strncmp(options_table[k].name, arg, name_len) == 0)
                break;
        }
        if (k == sizeof options_table / sizeof options_table[0])
            return usage_error("unknown option '%s'", arg);
        if (eq != NULL)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return usage_error("option '%s' needs a value", arg);
        *(const char **)((char *)args + options_table[k].offset) = value;
    }
    return EXIT_OK;
}

static int parse_u64(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (text == NULL || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses an optional unsigned option (absent keeps *out). Returns EXIT_OK or EXIT_USAGE. */
int option_u64(const char *name, const char *text, unsigned long long max,
                      unsigned long long *out)
{
    if (text == NULL)
        return EXIT_OK;
    if (parse_u64(text, max, out) != 0) {
        fprintf(stderr, "pisync-device: %s must be a whole number from 0 to %llu, got '%s'\n",
                name, max, text);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int require(const char *name, const char *value)
{
    if (value == NULL)
        return usage_error("missing %s", name);
    return EXIT_OK;
}

int check_device(const char *device)
{
    if (!pisync_device_id_valid(device))
        return usage_error("invalid device id '%s' (1-128 of A-Z a-z 0-9 . _ : -)", device);
    return EXIT_OK;
}

/* ---- shared helpers ---- */

void print_error(const char *what, const pisync_error *err)
{
    char text[512];

    fprintf(stderr, "pisync-device: %s: %s\n", what, pisync_error_format(err, text, sizeof text));
}

int exit_code_for(const pisync_error *err)
{
    switch (err->status) {
    case PISYNC_OK: return EXIT_OK;
    case PISYNC_ERR_ARGUMENT: return EXIT_USAGE;
    case PISYNC_ERR_SPOOL:
    case PISYNC_ERR_NOMEM: return EXIT_LOCAL_IO;
    default: return pisync_error_is_retryable(err) ? EXIT_UNREACHABLE : EXIT_REFUSED;
    }
}

int open_connection(const arguments *args, connection *conn)
{
    pisync_client_options options;
    unsigned long long timeout = 5000;
    unsigned long long retries = 0;
    pisync_error err;
    int rc;

    memset(conn, 0, sizeof *conn);
    if ((rc = option_u64("--timeout", args->timeout, 3600000, &timeout)) != EXIT_OK ||
        (rc = option_u64("--retries", args->retries, 100, &retries)) != EXIT_OK)
        return rc;
    memset(&options, 0, sizeof options);
    options.server = args->server ? args->server : getenv("PISYNC_SERVER");
    if (options.server != NULL && options.server[0] == '\0')
        options.server = NULL;
    options.connect_timeout_ms = timeout > 0 ? (int)timeout : 1;
    options.io_timeout_ms = timeout > 0 ? (int)timeout : 1;
    if (pisync_client_new(&options, &conn->client, &err) != PISYNC_OK) {
        print_error("bad --server", &err);
        return EXIT_USAGE;
    }
    conn->retry.max_attempts = (int)retries + 1;
    return EXIT_OK;
}

int open_spool(const arguments *args, pisync_spool **spool)
{
    pisync_spool_options options;
    unsigned long long max = 0;
    pisync_error err;
    int rc = option_u64("--spool-max", args->spool_max, 100000000, &max);

    *spool = NULL;
    if (rc != EXIT_OK)
        return rc;
    memset(&options, 0, sizeof options);
    options.max_events = (size_t)max;
    if (pisync_spool_open(args->spool, &options, spool, &err) != PISYNC_OK) {
        print_error("cannot open the spool", &err);
        return exit_code_for(&err);
    }
    return EXIT_OK;
}
