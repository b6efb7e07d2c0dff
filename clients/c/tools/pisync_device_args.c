/*
 * pisync_device_args.c - pisync-device's command line: the options table, parsing and
 * validating option values, and the helpers the commands share (error messages, exit
 * codes, opening the client and the spool from the options).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pisync_device.h"

/* A token is about 100 bytes; a bigger file is not a token file. */
#define TOKEN_FILE_MAX 8192

/* ---- command line ---- */

typedef struct {
    const char *name;
    size_t offset;
    int flag; /* takes no value: set to "1" when given */
} option_spec;

#define OPTION(name, member) {name, offsetof(arguments, member), 0}
#define FLAG(name, member) {name, offsetof(arguments, member), 1}

static const option_spec options_table[] = {
    OPTION("--server", server),       OPTION("--device", device),
    OPTION("--files", files),         OPTION("--errors", errors),
    OPTION("--speed", speed),         OPTION("--timestamp", timestamp),
    OPTION("--spool", spool),         OPTION("--spool-max", spool_max),
    OPTION("--page", page),           OPTION("--limit", limit),
    OPTION("--timeout", timeout),     OPTION("--retries", retries),
    OPTION("--token-file", token_file),
    FLAG("--tls", tls),               OPTION("--tls-ca", tls_ca),
    OPTION("--tls-server-name", tls_server_name),
    OPTION("--tls-cert", tls_cert),   OPTION("--tls-key", tls_key),
    OPTION("--file", file),
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
        if (options_table[k].flag && eq != NULL)
            return usage_error("option '%s' takes no value", arg);
        if (options_table[k].flag)
            value = "1";
        else if (eq != NULL)
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
    if (err->status != PISYNC_ERR_SERVER || err->connection_notice)
        return;
    if (err->code == PISYNC_CODE_UNAUTHENTICATED && strcmp(err->field, "token") == 0)
        fputs("pisync-device: the server refused the token: mint a new one with "
              "`pisync token --device ID`\n", stderr);
    else if (err->code == PISYNC_CODE_UNAUTHENTICATED)
        fputs("pisync-device: this server has auth on: give --token-file PATH or set "
              "PISYNC_TOKEN_FILE\n", stderr);
    else if (err->code == PISYNC_CODE_PERMISSION_DENIED)
        fputs("pisync-device: the token does not allow this: a device token records its own "
              "device's events only\n", stderr);
}

int worth_spooling(const pisync_error *err)
{
    if (pisync_error_is_retryable(err))
        return 1;
    if (err->status == PISYNC_ERR_TLS)
        return 1;
    return err->status == PISYNC_ERR_SERVER && !err->connection_notice &&
           (err->code == PISYNC_CODE_UNAUTHENTICATED || err->code == PISYNC_CODE_PERMISSION_DENIED);
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

/* Reads the token file into `token` (NUL-terminated, surrounding whitespace removed).
   Returns an exit code. */
static int read_token_file(const char *path, char token[TOKEN_FILE_MAX + 1])
{
    size_t len = 0, start = 0;
    ssize_t n = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "pisync-device: cannot read the token file %s: %s\n", path,
                strerror(errno));
        return EXIT_USAGE;
    }
    while (len < TOKEN_FILE_MAX + 1 && n > 0) {
        n = read(fd, token + len, TOKEN_FILE_MAX + 1 - len);
        if (n > 0)
            len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            n = 1;
    }
    close(fd);
    if (n < 0 || len > TOKEN_FILE_MAX) {
        fprintf(stderr, "pisync-device: cannot read the token file %s: %s\n", path,
                n < 0 ? strerror(errno) : "too big for a token");
        return EXIT_USAGE;
    }
    while (len > 0 && strchr(" \t\r\n", token[len - 1]) != NULL)
        len--;
    while (start < len && strchr(" \t\r\n", token[start]) != NULL)
        start++;
    memmove(token, token + start, len - start);
    token[len - start] = '\0';
    if (token[0] == '\0') {
        fprintf(stderr, "pisync-device: the token file %s is empty\n", path);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Overwrites the tool's copy of the token (the client keeps its own). */
static void wipe_token(char *token, size_t size)
{
    volatile char *p = token;

    while (size-- > 0)
        *p++ = '\0';
}

static int new_client(const pisync_client_options *options, pisync_client **client)
{
    pisync_error err;

    if (pisync_client_new(options, client, &err) == PISYNC_OK)
        return EXIT_OK;
    print_error("cannot set up the connection", &err);
    return EXIT_USAGE;
}

/* An option's value, else the environment variable's; NULL when neither is set or it is
   empty. */
static const char *setting(const char *option, const char *variable)
{
    const char *value = option != NULL ? option : getenv(variable);

    return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Whether the environment variable says true, 1 or yes (as the pisync CLI reads it). */
static int env_true(const char *variable)
{
    const char *value = getenv(variable);

    return value != NULL && (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
                             strcasecmp(value, "yes") == 0);
}

int open_connection(const arguments *args, connection *conn)
{
    pisync_client_options options;
    unsigned long long timeout = 5000;
    unsigned long long retries = 0;
    const char *token_file = args->token_file ? args->token_file : getenv("PISYNC_TOKEN_FILE");
    char token[TOKEN_FILE_MAX + 1];
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
    options.tls.ca_file = setting(args->tls_ca, "PISYNC_TLS_CA");
    options.tls.server_name = args->tls_server_name;
    options.tls.cert_file = setting(args->tls_cert, "PISYNC_TLS_CERT");
    options.tls.key_file = setting(args->tls_key, "PISYNC_TLS_KEY");
    options.tls.enabled = args->tls != NULL || env_true("PISYNC_TLS") ||
                          options.tls.ca_file != NULL || options.tls.cert_file != NULL;
    if (options.tls.key_file != NULL && options.tls.cert_file == NULL)
        return usage_error("%s", "--tls-key needs --tls-cert");
    if (token_file != NULL && token_file[0] != '\0') {
        if ((rc = read_token_file(token_file, token)) != EXIT_OK)
            return rc;
        options.token = token;
    }
    rc = new_client(&options, &conn->client);
    wipe_token(token, sizeof token);
    conn->retry.max_attempts = (int)retries + 1;
    return rc;
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
