/*
 * pisync_calls.c - the RPCs: building RecordSync, GetHistory and Ping requests, sending
 * them (pisync_send_*), collecting their results (pisync_wait_*), and both in one call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"

/* ---- RecordSync ---- */

/* A RecordSync request and the arrays its protobuf-c message points into. */
typedef struct {
    Pisync__V1__SyncEvent *messages;
    Pisync__V1__SyncEvent **pointers;
    Pisync__V1__RecordSyncRequest record;
    Pisync__V1__Request request;
} record_request;

static void record_request_free(record_request *r)
{
    free(r->messages);
    free(r->pointers);
}

/* Builds a RecordSync of `events`. The message points into `events` and `device_id`,
   which must outlive it. */
static pisync_status record_request_build(record_request *r, const char *device_id,
                                          const pisync_event *events, size_t count,
                                          pisync_error *err)
{
    int device_at_request_level = device_id != NULL && device_id[0] != '\0';
    size_t i;

    memset(r, 0, sizeof *r);
    if (events == NULL && count > 0)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "events is NULL");
    r->messages = calloc(count + 1, sizeof *r->messages);
    r->pointers = calloc(count + 1, sizeof *r->pointers);
    if (r->messages == NULL || r->pointers == NULL) {
        record_request_free(r);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    pisync__v1__record_sync_request__init(&r->record);
    r->record.device_id = device_at_request_level ? (char *)device_id : (char *)"";
    for (i = 0; i < count; i++) {
        pisync_event_to_message(&events[i], &r->messages[i]);
        /* The request names the device once: don't repeat it in every event. */
        if (device_at_request_level && strcmp(events[i].device_id, device_id) == 0)
            r->messages[i].device_id = (char *)"";
        r->pointers[i] = &r->messages[i];
    }
    r->record.n_events = count;
    r->record.events = r->pointers;
    pisync__v1__request__init(&r->request);
    r->request.call_case = PISYNC__V1__REQUEST__CALL_RECORD_SYNC;
    r->request.record_sync = &r->record;
    return pisync_ok(err);
}

pisync_status pisync_encode_record_request(uint64_t id, const char *device_id,
                                           const pisync_event *events, size_t count,
                                           uint8_t **frame, size_t *frame_len,
                                           pisync_error *err)
{
    record_request r;
    pisync_status rc = record_request_build(&r, device_id, events, count, err);

    *frame = NULL;
    *frame_len = 0;
    if (rc != PISYNC_OK)
        return rc;
    r.request.id = id;
    rc = pisync_frame_encode(&r.request.base, frame, frame_len, err);
    record_request_free(&r);
    return rc;
}

pisync_status pisync_send_record_batch(pisync_client *c, const char *device_id,
                                       const pisync_event *events, size_t count,
                                       uint64_t *request_id, pisync_error *err)
{
    record_request r;
    pisync_status rc = record_request_build(&r, device_id, events, count, err);

    *request_id = 0;
    if (rc != PISYNC_OK)
        return rc;
    rc = pisync_send_request(c, &r.request, request_id, err);
    record_request_free(&r);
    return rc;
}

static pisync_status copy_record_result(const Pisync__V1__RecordSyncResponse *r,
                                        pisync_record_result *result, pisync_error *err)
{
    size_t i;

    result->accepted = r->accepted;
    result->duplicates = r->duplicates;
    if (r->n_rejected == 0)
        return pisync_ok(err);
    result->rejected = calloc(r->n_rejected, sizeof *result->rejected);
    if (result->rejected == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    for (i = 0; i < r->n_rejected; i++) {
        pisync_rejection *out = &result->rejected[i];

        out->index = r->rejected[i]->index;
        out->code = r->rejected[i]->code;
        pisync_copy_string(out->field, sizeof out->field, r->rejected[i]->field);
        pisync_copy_string(out->message, sizeof out->message, r->rejected[i]->message);
    }
    result->rejected_count = r->n_rejected;
    return pisync_ok(err);
}

pisync_status pisync_wait_record(pisync_client *c, uint64_t request_id,
                                 pisync_record_result *result, pisync_error *err)
{
    Pisync__V1__Response *response;
    pisync_record_result ignored;
    pisync_status rc;

    if (result == NULL)
        result = &ignored;
    memset(result, 0, sizeof *result);
    rc = pisync_wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC, &response,
                              err);
    if (rc != PISYNC_OK)
        return rc;
    rc = copy_record_result(response->record_sync, result, err);
    pisync__v1__response__free_unpacked(response, NULL);
    if (rc != PISYNC_OK || result == &ignored)
        pisync_record_result_free(result);
    return rc;
}

pisync_status pisync_record_batch(pisync_client *c, const char *device_id,
                                  const pisync_event *events, size_t count,
                                  pisync_record_result *result, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = pisync_send_record_batch(c, device_id, events, count, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_record(c, id, result, err);
}

pisync_status pisync_record(pisync_client *c, const pisync_event *event,
                            pisync_record_result *result, pisync_error *err)
{
    return pisync_record_batch(c, NULL, event, 1, result, err);
}

/* ---- GetHistory ---- */

pisync_status pisync_send_get_history(pisync_client *c, const char *device_id, uint32_t page,
                                      uint32_t limit, uint64_t *request_id, pisync_error *err)
{
    Pisync__V1__GetHistoryRequest history = PISYNC__V1__GET_HISTORY_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;

    history.device_id = (char *)(device_id ? device_id : "");
    history.page = page;
    history.limit = limit;
    request.call_case = PISYNC__V1__REQUEST__CALL_GET_HISTORY;
    request.get_history = &history;
    return pisync_send_request(c, &request, request_id, err);
}

pisync_status pisync_wait_history(pisync_client *c, uint64_t request_id,
                                  pisync_history *history, pisync_error *err)
{
    Pisync__V1__Response *response;
    const Pisync__V1__GetHistoryResponse *h;
    pisync_status rc;
    size_t i;

    memset(history, 0, sizeof *history);
    rc = pisync_wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_GET_HISTORY, &response,
                              err);
    if (rc != PISYNC_OK)
        return rc;
    h = response->get_history;
    history->events = calloc(h->n_events + 1, sizeof *history->events);
    if (history->events == NULL) {
        pisync__v1__response__free_unpacked(response, NULL);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    for (i = 0; i < h->n_events; i++)
        pisync_event_from_message(h->events[i], &history->events[i]);
    history->count = h->n_events;
    history->total = h->total;
    history->page = h->page;
    history->limit = h->limit;
    pisync__v1__response__free_unpacked(response, NULL);
    return pisync_ok(err);
}

pisync_status pisync_get_history(pisync_client *c, const char *device_id, uint32_t page,
                                 uint32_t limit, pisync_history *history, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    memset(history, 0, sizeof *history);
    rc = pisync_send_get_history(c, device_id, page, limit, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_history(c, id, history, err);
}

/* ---- Ping ---- */

pisync_status pisync_send_ping(pisync_client *c, uint64_t *request_id, pisync_error *err)
{
    Pisync__V1__PingRequest ping = PISYNC__V1__PING_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;

    request.call_case = PISYNC__V1__REQUEST__CALL_PING;
    request.ping = &ping;
    return pisync_send_request(c, &request, request_id, err);
}

pisync_status pisync_wait_ping(pisync_client *c, uint64_t request_id,
                               pisync_ping_result *result, pisync_error *err)
{
    Pisync__V1__Response *response;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = pisync_wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_PING, &response, err);
    if (rc != PISYNC_OK)
        return rc;
    if (result != NULL) {
        pisync_copy_string(result->version, sizeof result->version, response->ping->version);
        result->uptime_ms = response->ping->uptime_ms;
        result->auth_required = response->ping->auth_required != 0;
    }
    pisync__v1__response__free_unpacked(response, NULL);
    return pisync_ok(err);
}

pisync_status pisync_ping(pisync_client *c, pisync_ping_result *result, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = pisync_send_ping(c, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_ping(c, id, result, err);
}
