/*
 * pisync_device_query.c - pisync-device's history, ping and status commands: they print
 * what the server or the spool holds, and change nothing.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pisync_device.h"

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

int command_history(const arguments *args)
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

int command_ping(const arguments *args)
{
    pisync_ping_result result;
    connection conn;
    pisync_error err;
    int rc = open_connection(args, &conn);

    if (rc != EXIT_OK)
        return rc;
    if (pisync_retry(conn.client, &conn.retry, ping_attempt, &result, &err) == PISYNC_OK) {
        pisync_auth_info auth;

        printf("pisync %s up %llu ms\n", result.version, (unsigned long long)result.uptime_ms);
        pisync_get_auth_info(conn.client, &auth);
        if (auth.authenticated && auth.role[0] != '\0')
            printf("authenticated as %s %s\n", auth.role, auth.name);
        else if (auth.authenticated)
            printf("token not needed: the server has auth off\n");
    } else {
        rc = exit_code_for(&err);
        print_error("ping failed", &err);
    }
    pisync_client_free(conn.client);
    return rc;
}

/* ---- status ---- */

int command_status(const arguments *args)
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

int command_archive(const arguments *args)
{
    pisync_archive *archive;
    pisync_event e;
    pisync_error err;
    unsigned long long count = 0;
    pisync_status status;
    int done = 0, rc;
    char when[40];

    if ((rc = require("--file", args->file)) != EXIT_OK)
        return rc;
    if (pisync_archive_open(args->file, &archive, &err) != PISYNC_OK) {
        print_error("cannot read the archive", &err);
        return EXIT_LOCAL_IO;
    }
    printf("%-20s  %-14s  %-24s  %-7s  %10s  %10s  %10s\n", "DEVICE", "TIMESTAMP_MS", "TIME_UTC",
           "STATUS", "FILES", "ERRORS", "SPEED_MBPS");
    while ((status = pisync_archive_next(archive, &e, &done, &err)) == PISYNC_OK && !done) {
        if (args->device != NULL && strcmp(args->device, e.device_id) != 0)
            continue;
        format_utc(e.timestamp, when, sizeof when);
        printf("%-20s  %-14lld  %-24s  %-7s  %10u  %10u  %10.2f\n", e.device_id, (long long)e.timestamp,
               when, status_name(e.sync_status), (unsigned)e.total_files_synced,
               (unsigned)e.total_errors, (double)e.internet_speed);
        count++;
    }
    pisync_archive_close(archive);
    if (status != PISYNC_OK) {
        print_error("cannot read the archive", &err);
        return EXIT_LOCAL_IO;
    }
    printf("%llu archived events\n", count);
    return EXIT_OK;
}
