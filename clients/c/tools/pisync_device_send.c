/*
 * pisync_device_send.c - pisync-device's send and flush commands: recording a sync
 * (spooling it when it cannot be delivered) and sending the spool's backlog.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_device.h"

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

int command_send(const arguments *args)
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
        /* Refused credentials are no verdict on the event: keep it for a flush with a
           good token, and still exit 1, since retrying as is fails again. */
        if (args->spool != NULL && worth_spooling(&err)) {
            int spooled = spool_event(args, &event);

            rc = spooled == EXIT_UNREACHABLE ? rc : spooled;
        }
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

int command_flush(const arguments *args)
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
