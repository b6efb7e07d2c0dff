/*
 * pisync_flush.c - sending the spool's backlog to the server.
 *
 * Batches are taken from the oldest end: the longest run of consecutive events of one
 * device, up to the batch size, sent with that device named once at request level. A
 * batch leaves the spool only after the server answered it: accepted and duplicate events
 * are acknowledged, rejected ones are dropped (sending them again would fail again). If
 * the answer never comes, the batch stays and is sent again later; the server's dedup on
 * (device_id, timestamp) turns that at-least-once delivery into exactly-once storage.
 */
#include <string.h>

#include "pisync_internal.h"

/* Length of the run of events of the oldest event's device, at most `max`. */
static size_t batch_length(const pisync_event *events, size_t pending, size_t max)
{
    size_t n = 1;

    while (n < pending && n < max && strcmp(events[n].device_id, events[0].device_id) == 0)
        n++;
    return n;
}

static void report_rejections(const pisync_flush_options *options, const pisync_event *batch,
                              size_t n, const pisync_record_result *result)
{
    size_t i;

    if (options == NULL || options->on_rejected == NULL)
        return;
    for (i = 0; i < result->rejected_count; i++) {
        const pisync_rejection *r = &result->rejected[i];

        if (r->index >= n)
            continue; /* an index outside the batch would be a server bug */
        options->on_rejected(options->context, &batch[r->index], r);
    }
}

/* The server refused the whole batch (every event invalid, or a bad device id): report
   each event with the request's error. */
static void report_whole_batch(const pisync_flush_options *options, const pisync_event *batch,
                               size_t n, const pisync_error *e)
{
    pisync_rejection r;
    size_t i;

    if (options == NULL || options->on_rejected == NULL)
        return;
    memset(&r, 0, sizeof r);
    r.code = e->code;
    pisync_copy_string(r.field, sizeof r.field, e->field);
    pisync_copy_string(r.message, sizeof r.message, e->message);
    for (i = 0; i < n; i++) {
        r.index = (uint32_t)i;
        options->on_rejected(options->context, &batch[i], &r);
    }
}

/* Whether a failed RecordSync was a verdict on the batch's events themselves, so that
   sending them again cannot succeed. Connection notices (id 0) never are. */
static int is_rejection_of_batch(const pisync_error *e)
{
    return e->status == PISYNC_ERR_SERVER && !e->connection_notice &&
           e->code == PISYNC_CODE_INVALID_ARGUMENT;
}

static int is_batch_too_large(const pisync_error *e)
{
    return is_rejection_of_batch(e) && strcmp(e->field, "events") == 0;
}

/* Sends one batch and removes it from the spool once answered. `*max_batch` shrinks when
   the server's batch limit turns out lower than ours. */
static pisync_status flush_batch(pisync_spool *spool, pisync_client *client,
                                 const pisync_flush_options *options, size_t *max_batch,
                                 pisync_flush_result *result, pisync_error *err)
{
    const pisync_event *batch = pisync_spool_peek(spool, 0);
    size_t n = batch_length(batch, pisync_spool_pending(spool), *max_batch);
    pisync_record_result answer;
    pisync_error e;
    pisync_status rc;

    rc = pisync_record_batch(client, batch[0].device_id, batch, n, &answer, &e);
    if (rc == PISYNC_OK) {
        size_t rejected = answer.rejected_count;

        report_rejections(options, batch, n, &answer);
        result->batches++;
        result->accepted += answer.accepted;
        result->duplicates += answer.duplicates;
        result->rejected += rejected;
        pisync_record_result_free(&answer);
        return pisync_spool_ack(spool, n, rejected, err);
    }
    if (is_batch_too_large(&e) && n > 1) {
        *max_batch = n / 2; /* a server configured with a lower limit: try smaller batches */
        return pisync_ok(err);
    }
    if (is_rejection_of_batch(&e) && !is_batch_too_large(&e)) {
        report_whole_batch(options, batch, n, &e);
        result->batches++;
        result->rejected += n;
        return pisync_spool_ack(spool, n, n, err);
    }
    if (err != NULL)
        *err = e;
    return rc;
}

pisync_status pisync_spool_flush(pisync_spool *spool, pisync_client *client,
                                 const pisync_flush_options *options,
                                 pisync_flush_result *result, pisync_error *err)
{
    pisync_flush_result ignored;
    size_t max_batch = PISYNC_MAX_BATCH;
    pisync_status rc = PISYNC_OK;

    if (result == NULL)
        result = &ignored;
    memset(result, 0, sizeof *result);
    if (options != NULL && options->max_batch > 0 && options->max_batch < PISYNC_MAX_BATCH)
        max_batch = options->max_batch;
    pisync_ok(err);
    while (rc == PISYNC_OK && pisync_spool_pending(spool) > 0)
        rc = flush_batch(spool, client, options, &max_batch, result, err);
    result->remaining = pisync_spool_pending(spool);
    return rc;
}
