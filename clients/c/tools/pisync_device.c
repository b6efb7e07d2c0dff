/*
 * pisync-device - report syncs to a PiSync server from a device, with an offline spool.
 *
 *   pisync-device send    --device ID --files N --errors N --speed MBPS [--timestamp MS]
 *                         [--spool PATH] [--spool-max N]
 *   pisync-device flush   --spool PATH [--spool-max N]
 *   pisync-device history --device ID [--page N] [--limit N]
 *   pisync-device ping
 *   pisync-device status  --spool PATH
 *
 * Common options: --server HOST:PORT (default $PISYNC_SERVER, else 127.0.0.1:7878),
 * --timeout MS (connect and response timeout, default 5000), --retries N (extra attempts
 * with exponential backoff on connection failures and UNAVAILABLE, default 0).
 *
 * Exit codes (see usage() and README.md): 0 ok, 1 the server refused, 2 usage,
 * 3 server unreachable (with --spool: the event was spooled), 4 local I/O error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pisync.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,     /* the server answered with an error or rejected the event */
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3, /* not delivered, try again later (spooled with --spool) */
    EXIT_LOCAL_IO = 4     /* the spool could not be read or written */
};

static void usage(FILE *out)
{
    fputs("usage: pisync-device COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  send     --device ID --files N --errors N --speed MBPS [--timestamp MS]\n"
          "           [--spool PATH] [--spool-max N]\n"
          "           record one sync; timestamp defaults to now (Unix ms). With --spool,\n"
          "           an event that cannot be delivered now is appended to the spool.\n"
          "  flush    --spool PATH [--spool-max N]\n"
          "           send the spooled events in batches; delete them once answered\n"
          "  history  --device ID [--page N] [--limit N]\n"
          "           print a device's events, newest first\n"
          "  ping     check that the server answers\n"
          "  status   --spool PATH\n"
          "           print the spool's pending events and counters\n"
          "\n"
          "common options:\n"
          "  --server HOST:PORT  server address (default $PISYNC_SERVER, else 127.0.0.1:7878)\n"
          "  --timeout MS        connect and response timeout (default 5000)\n"
          "  --retries N         extra attempts with backoff when unreachable (default 0)\n"
          "\n"
          "exit codes:\n"
          "  0  ok\n"
          "  1  the server refused the request or rejected the event (code, field and\n"
          "     message are printed); retrying unchanged fails again\n"
          "  2  usage error\n"
          "  3  server unreachable or unavailable: nothing was recorded; try again later.\n"
          "     send --spool: the event is safe in the spool. flush: events remain spooled\n"
          "  4  local I/O error (the spool could not be opened, read or written)\n",
          out);
}

/* ---- command line ---- */

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
} arguments;

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

static int usage_error(const char *fmt, const char *detail)
{
    fputs("pisync-device: ", stderr);
    fprintf(stderr, fmt, detail);
    fputs("\n(see pisync-device --help)\n", stderr);
    return EXIT_USAGE;
}

/* Accepts "--name value" and "--name=value". Returns EXIT_OK or EXIT_USAGE. */
static int parse_arguments(int argc, char **argv, arguments *args)
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
static int option_u64(const char *name, const char *text, unsigned long long max,
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

static int require(const char *name, const char *value)
{
    if (value == NULL)
        return usage_error("missing %s", name);
    return EXIT_OK;
}

static int check_device(const char *device)
{
    if (!pisync_device_id_valid(device))
        return usage_error("invalid device id '%s' (1-128 of A-Z a-z 0-9 . _ : -)", device);
    return EXIT_OK;
}

/* ---- shared helpers ---- */

static void print_error(const char *what, const pisync_error *err)
{
    char text[512];

    fprintf(stderr, "pisync-device: %s: %s\n", what, pisync_error_format(err, text, sizeof text));
}

static int exit_code_for(const pisync_error *err)
{
    switch (err->status) {
    case PISYNC_OK: return EXIT_OK;
    case PISYNC_ERR_ARGUMENT: return EXIT_USAGE;
    case PISYNC_ERR_SPOOL:
    case PISYNC_ERR_NOMEM: return EXIT_LOCAL_IO;
    default: return pisync_error_is_retryable(err) ? EXIT_UNREACHABLE : EXIT_REFUSED;
    }
}

typedef struct {
    pisync_client *client;
    pisync_retry_policy retry;
} connection;

static int open_connection(const arguments *args, connection *conn)
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

static int open_spool(const arguments *args, pisync_spool **spool)
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

/* ---- send ---- */

typedef struct {
    const pisync_event *event;
    pisync_record_result result;
} send_context;

static pisync_status send_attempt(pisync_client *client, void *context, pisync_error *err)
{
    send_context *ctx = context;

    pisync_record_result_free(&ctx->result);
    return pisync_record(client, ctx->event, &ctx->result, err);
}

static int parse_event(const arguments *args, pisync_event *event)
{
    unsigned long long files = 0, errors = 0;
    long long timestamp;
    char *end;
    float speed;
    int rc;

    if ((rc = require("--device", args->device)) != EXIT_OK ||
        (rc = require("--files", args->files)) != EXIT_OK ||
        (rc = require("--errors", args->errors)) != EXIT_OK ||
        (rc = require("--speed", args->speed)) != EXIT_OK ||
        (rc = check_device(args->device)) != EXIT_OK ||
        (rc = option_u64("--files", args->files, 0xffffffffULL, &files)) != EXIT_OK ||
        (rc = option_u64("--errors", args->errors, 0xffffffffULL, &errors)) != EXIT_OK)
        return rc;
    errno = 0;
    speed = strtof(args->speed, &end);
    if (errno != 0 || *end != '\0' || end == args->speed || !isfinite(speed) || speed < 0)
        return usage_error("--speed must be a finite number >= 0 (Mbps), got '%s'", args->speed);
    timestamp = pisync_now_ms();
    if (args->timestamp != NULL) {
        errno = 0;
        timestamp = strtoll(args->timestamp, &end, 10);
        if (errno != 0 || *end != '\0' || end == args->timestamp || timestamp < 0)
            return usage_error("--timestamp must be Unix milliseconds, got '%s'", args->timestamp);
    }
    pisync_event_init(event, args->device, timestamp, (uint32_t)files, (uint32_t)errors, speed);
    return EXIT_OK;
}

/* The event could not be delivered now: keep it in the spool for `flush`. */
static int spool_event(const arguments *args, const pisync_event *event)
{
    pisync_spool *spool;
    pisync_spool_stats stats;
    pisync_error err;
    int rc = open_spool(args, &spool);

    if (rc != EXIT_OK)
        return rc == EXIT_USAGE ? rc : EXIT_LOCAL_IO;
    if (pisync_spool_append(spool, event, &err) != PISYNC_OK) {
        print_error("event NOT saved: cannot append to the spool", &err);
        pisync_spool_close(spool);
        return EXIT_LOCAL_IO;
    }
    pisync_spool_get_stats(spool, &stats);
    fprintf(stderr, "pisync-device: event spooled to %s (%zu pending)\n", args->spool,
            stats.pending);
    pisync_spool_close(spool);
    return EXIT_UNREACHABLE;
}

static int report_send_result(const pisync_record_result *result)
{
    if (result->rejected_count > 0) {
        const pisync_rejection *r = &result->rejected[0];

        fprintf(stderr, "pisync-device: event rejected: %s (%u)%s%s%s: %s\n",
                pisync_code_name(r->code), (unsigned)r->code, r->field[0] ? " [" : "",
                r->field, r->field[0] ? "]" : "", r->message);
        return EXIT_REFUSED;
    }
    printf("%s\n", result->accepted > 0 ? "accepted" : "duplicate (already recorded)");
    return EXIT_OK;
}

static int command_send(const arguments *args)
{
    pisync_event event;
    connection conn;
    send_context ctx;
    pisync_error err;
    int rc;

    if ((rc = parse_event(args, &event)) != EXIT_OK ||
        (rc = open_connection(args, &conn)) != EXIT_OK)
        return rc;
    memset(&ctx, 0, sizeof ctx);
    ctx.event = &event;
    if (pisync_retry(conn.client, &conn.retry, send_attempt, &ctx, &err) == PISYNC_OK) {
        rc = report_send_result(&ctx.result);
    } else {
        rc = exit_code_for(&err);
        print_error(rc == EXIT_UNREACHABLE ? "not delivered" : "refused", &err);
        if (rc == EXIT_UNREACHABLE && args->spool != NULL)
            rc = spool_event(args, &event);
    }
    pisync_record_result_free(&ctx.result);
    pisync_client_free(conn.client);
    return rc;
}

/* ---- flush ---- */

typedef struct {
    pisync_spool *spool;
    pisync_flush_result total;
} flush_context;

static void print_rejection(void *context, const pisync_event *event,
                            const pisync_rejection *r)
{
    (void)context;
    fprintf(stderr,
            "pisync-device: dropped rejected event %s@%lld: %s (%u)%s%s%s: %s\n",
            event->device_id, (long long)event->timestamp, pisync_code_name(r->code),
            (unsigned)r->code, r->field[0] ? " [" : "", r->field, r->field[0] ? "]" : "",
            r->message);
}

static pisync_status flush_attempt(pisync_client *client, void *context, pisync_error *err)
{
    flush_context *ctx = context;
    pisync_flush_options options;
    pisync_flush_result result;
    pisync_status rc;

    memset(&options, 0, sizeof options);
    options.on_rejected = print_rejection;
    rc = pisync_spool_flush(ctx->spool, client, &options, &result, err);
    /* A retried flush resumes where the last one stopped: add up the attempts. */
    ctx->total.batches += result.batches;
    ctx->total.accepted += result.accepted;
    ctx->total.duplicates += result.duplicates;
    ctx->total.rejected += result.rejected;
    ctx->total.remaining = result.remaining;
    return rc;
}

static int command_flush(const arguments *args)
{
    flush_context ctx;
    connection conn;
    pisync_error err;
    int rc;

    if ((rc = require("--spool", args->spool)) != EXIT_OK)
        return rc;
    memset(&ctx, 0, sizeof ctx);
    if ((rc = open_connection(args, &conn)) != EXIT_OK)
        return rc;
    if ((rc = open_spool(args, &ctx.spool)) != EXIT_OK) {
        pisync_client_free(conn.client);
        return rc;
    }
    if (pisync_retry(conn.client, &conn.retry, flush_attempt, &ctx, &err) != PISYNC_OK) {
        rc = exit_code_for(&err);
        print_error("flush stopped", &err);
    }
    printf("flushed %zu batches: %llu accepted, %llu duplicates, %llu rejected; %zu pending\n",
           ctx.total.batches, (unsigned long long)ctx.total.accepted,
           (unsigned long long)ctx.total.duplicates, (unsigned long long)ctx.total.rejected,
           pisync_spool_pending(ctx.spool));
    pisync_spool_close(ctx.spool);
    pisync_client_free(conn.client);
    return rc;
}

/* ---- history ---- */

typedef struct {
    const char *device;
    uint32_t page;
    uint32_t limit;
    pisync_history history;
} history_context;

static pisync_status history_attempt(pisync_client *client, void *context, pisync_error *err)
{
    history_context *ctx = context;

    pisync_history_free(&ctx->history);
    return pisync_get_history(client, ctx->device, ctx->page, ctx->limit, &ctx->history, err);
}

static const char *status_name(int status)
{
    switch (status) {
    case PISYNC_SYNC_SUCCESS: return "success";
    case PISYNC_SYNC_PARTIAL: return "partial";
    case PISYNC_SYNC_FAILED: return "failed";
    default: return "unknown";
    }
}

static void format_utc(int64_t ms, char *buf, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    size_t len;

    if (gmtime_r(&seconds, &tm) == NULL ||
        (len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
        snprintf(buf, size, "-");
        return;
    }
    snprintf(buf + len, size - len, ".%03dZ", (int)(((ms % 1000) + 1000) % 1000));
}

static void print_history(const char *device, const pisync_history *h)
{
    size_t i;
    uint64_t pages = h->limit ? (h->total + h->limit - 1) / h->limit : 0;

    printf("%-14s  %-24s  %-7s  %10s  %10s  %10s\n", "TIMESTAMP_MS", "TIME_UTC", "STATUS",
           "FILES", "ERRORS", "SPEED_MBPS");
    for (i = 0; i < h->count; i++) {
        const pisync_event *e = &h->events[i];
        char when[40];

        format_utc(e->timestamp, when, sizeof when);
        printf("%-14lld  %-24s  %-7s  %10u  %10u  %10.2f\n", (long long)e->timestamp, when,
               status_name(e->sync_status), (unsigned)e->total_files_synced,
               (unsigned)e->total_errors, (double)e->internet_speed);
    }
    printf("device %s: page %u of %llu, %llu events\n", device, (unsigned)h->page,
           (unsigned long long)pages, (unsigned long long)h->total);
}

static int command_history(const arguments *args)
{
    unsigned long long page = 0, limit = 0;
    history_context ctx;
    connection conn;
    pisync_error err;
    int rc;

    if ((rc = require("--device", args->device)) != EXIT_OK ||
        (rc = option_u64("--page", args->page, 0xffffffffULL, &page)) != EXIT_OK ||
        (rc = option_u64("--limit", args->limit, 0xffffffffULL, &limit)) != EXIT_OK ||
        (rc = open_connection(args, &conn)) != EXIT_OK)
        return rc;
    memset(&ctx, 0, sizeof ctx);
    ctx.device = args->device;
    ctx.page = (uint32_t)page;
    ctx.limit = (uint32_t)limit;
    if (pisync_retry(conn.client, &conn.retry, history_attempt, &ctx, &err) == PISYNC_OK) {
        print_history(args->device, &ctx.history);
    } else {
        rc = exit_code_for(&err);
        print_error("history failed", &err);
    }
    pisync_history_free(&ctx.history);
    pisync_client_free(conn.client);
    return rc;
}

/* ---- ping ---- */

static pisync_status ping_attempt(pisync_client *client, void *context, pisync_error *err)
{
    return pisync_ping(client, context, err);
}

static int command_ping(const arguments *args)
{
    pisync_ping_result result;
    connection conn;
    pisync_error err;
    int rc = open_connection(args, &conn);

    if (rc != EXIT_OK)
        return rc;
    if (pisync_retry(conn.client, &conn.retry, ping_attempt, &result, &err) == PISYNC_OK) {
        printf("pisync %s up %llu ms\n", result.version, (unsigned long long)result.uptime_ms);
    } else {
        rc = exit_code_for(&err);
        print_error("ping failed", &err);
    }
    pisync_client_free(conn.client);
    return rc;
}

/* ---- status ---- */

static int command_status(const arguments *args)
{
    pisync_spool *spool;
    pisync_spool_stats stats;
    int rc;

    if ((rc = require("--spool", args->spool)) != EXIT_OK ||
        (rc = open_spool(args, &spool)) != EXIT_OK)
        return rc;
    pisync_spool_get_stats(spool, &stats);
    printf("pending %zu\ndelivered %llu\nrejected %llu\ndropped_full %llu\n", stats.pending,
           (unsigned long long)stats.delivered, (unsigned long long)stats.rejected,
           (unsigned long long)stats.dropped_full);
    if (stats.discarded_bytes > 0)
        printf("discarded_torn_bytes %llu\n", (unsigned long long)stats.discarded_bytes);
    pisync_spool_close(spool);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    arguments args;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return EXIT_OK;
    }
    if ((rc = parse_arguments(argc, argv, &args)) != EXIT_OK)
        return rc;
    if (strcmp(args.command, "send") == 0)
        return command_send(&args);
    if (strcmp(args.command, "flush") == 0)
        return command_flush(&args);
    if (strcmp(args.command, "history") == 0)
        return command_history(&args);
    if (strcmp(args.command, "ping") == 0)
        return command_ping(&args);
    if (strcmp(args.command, "status") == 0)
        return command_status(&args);
    return usage_error("unknown command '%s'", args.command);
}
