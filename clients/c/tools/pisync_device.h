/*
 * pisync_device.h - what the parts of pisync-device share: exit codes, the parsed command
 * line, the helpers in pisync_device_args.c, and the commands.
 *
 *   pisync_device.c         usage and main: picks the command
 *   pisync_device_args.c    command line parsing and the helpers the commands share
 *   pisync_device_send.c    send and flush
 *   pisync_device_query.c   history, ping and status
 */
#ifndef PISYNC_DEVICE_H
#define PISYNC_DEVICE_H

#include "pisync.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,     /* the server answered with an error or rejected the event */
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3, /* not delivered, try again later (spooled with --spool) */
    EXIT_LOCAL_IO = 4     /* the spool could not be read or written */
};

typedef struct {
    const char *command;
    const char *server;
    const char *device;
    const char *files;
    const char *errors;
    const char *speed;
    const char *timestamp;
    const char *spool;
    const char *spool_max;
    const char *page;
    const char *limit;
    const char *timeout;
    const char *retries;
    const char *token_file;
    const char *tls; /* "1" when --tls is given */
    const char *tls_ca;
    const char *tls_server_name;
    const char *tls_cert;
    const char *tls_key;
    const char *file;
} arguments;

typedef struct {
    pisync_client *client;
    pisync_retry_policy retry;
} connection;

/* ---- pisync_device_args.c ---- */

/* Prints "pisync-device: " + fmt (with `detail`) and a hint to stderr. Returns EXIT_USAGE. */
int usage_error(const char *fmt, const char *detail);
/* Accepts "--name value" and "--name=value". Returns EXIT_OK or EXIT_USAGE. */
int parse_arguments(int argc, char **argv, arguments *args);
/* Parses an optional unsigned option (absent keeps *out). Returns EXIT_OK or EXIT_USAGE. */
int option_u64(const char *name, const char *text, unsigned long long max,
               unsigned long long *out);
/* EXIT_USAGE (with a message) when the option is missing. */
int require(const char *name, const char *value);
/* EXIT_USAGE (with a message) when the device id is not valid. */
int check_device(const char *device);
/* Prints "pisync-device: WHAT: the error" to stderr. */
void print_error(const char *what, const pisync_error *err);
/* The exit code for a failed call (see the exit codes above). */
int exit_code_for(const pisync_error *err);
/* Whether an event that was not delivered is worth keeping in the spool: the server was
   unreachable, or the device's credentials or TLS setup failed rather than the event. */
int worth_spooling(const pisync_error *err);
/* Creates the client from --server, --timeout, --retries, --token-file (else
   $PISYNC_TOKEN_FILE) and the --tls options. Returns an exit code. */
int open_connection(const arguments *args, connection *conn);
/* Opens the spool at --spool, bounded by --spool-max. Returns an exit code. */
int open_spool(const arguments *args, pisync_spool **spool);

/* ---- the commands; each returns the exit code ---- */

int command_send(const arguments *args);    /* pisync_device_send.c */
int command_flush(const arguments *args);   /* pisync_device_send.c */
int command_history(const arguments *args); /* pisync_device_query.c */
int command_ping(const arguments *args);    /* pisync_device_query.c */
int command_archive(const arguments *args);
int command_status(const arguments *args);  /* pisync_device_query.c */

#endif /* PISYNC_DEVICE_H */
