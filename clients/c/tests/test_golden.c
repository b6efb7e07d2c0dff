/*
 * test_golden.c - the golden vectors of clients/testdata/golden: each message is built with
 * protobuf-c, framed by the library and compared byte for byte with the file; and each file
 * is read through the library's frame reader, decoded, and its fields checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"
#include "test.h"

#ifndef PISYNC_GOLDEN_DIR
#define PISYNC_GOLDEN_DIR "../testdata/golden"
#endif

/* Reads a golden file (malloc'd). The directory may be overridden by $PISYNC_GOLDEN_DIR. */
static uint8_t *read_golden(const char *name, size_t *len)
{
    const char *dir = getenv("PISYNC_GOLDEN_DIR");
    char path[4096];
    uint8_t *data = malloc(4096);
    FILE *f;

    *len = 0;
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : PISYNC_GOLDEN_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL || data == NULL) {
        test_note("cannot read %s", path);
        if (f != NULL)
            fclose(f);
        free(data);
        return NULL;
    }
    *len = fread(data, 1, 4096, f);
    fclose(f);
    return data;
}

static void check_same_bytes(const uint8_t *actual, size_t actual_len, const uint8_t *golden,
                             size_t golden_len)
{
    size_t i;

    CHECK(actual_len == golden_len);
    for (i = 0; i < actual_len && i < golden_len; i++) {
        if (actual[i] != golden[i]) {
            test_note("first difference at byte %zu: 0x%02x, golden 0x%02x", i, actual[i],
                      golden[i]);
            CHECK(actual[i] == golden[i]);
            return;
        }
    }
}

/* Frames `message` with the library and compares with the golden file. */
static void check_encoding(const ProtobufCMessage *message, const uint8_t *golden,
                           size_t golden_len)
{
    uint8_t *frame = NULL;
    size_t len = 0;

    CHECK(pisync_frame_encode(message, &frame, &len, NULL) == PISYNC_OK);
    check_same_bytes(frame, len, golden, golden_len);
    free(frame);
}

/* Extracts the single frame of a golden file through the frame reader. Returns the body
   inside `fb`. */
static int single_frame(pisync_framebuf *fb, const uint8_t *golden, size_t len,
                        const uint8_t **body, size_t *body_len)
{
    pisync_framebuf_init(fb);
    if (pisync_framebuf_append(fb, golden, len, NULL) != PISYNC_OK)
        return 0;
    if (pisync_framebuf_next(fb, PISYNC_DEFAULT_MAX_FRAME, body, body_len) != PISYNC_FRAME_READY)
        return 0;
    return pisync_framebuf_buffered(fb) == 0; /* exactly one frame, nothing after it */
}

static Pisync__V1__Request *decode_request(const uint8_t *golden, size_t len)
{
    pisync_framebuf fb;
    const uint8_t *body;
    size_t body_len;
    Pisync__V1__Request *request = NULL;

    if (single_frame(&fb, golden, len, &body, &body_len))
        request = pisync__v1__request__unpack(NULL, body_len, body);
    pisync_framebuf_free(&fb);
    return request;
}

static Pisync__V1__Response *decode_response(const uint8_t *golden, size_t len)
{
    pisync_framebuf fb;
    const uint8_t *body;
    size_t body_len;
    Pisync__V1__Response *response = NULL;

    if (single_frame(&fb, golden, len, &body, &body_len))
        response = pisync__v1__response__unpack(NULL, body_len, body);
    pisync_framebuf_free(&fb);
    return response;
}

/* Decodes a golden Response and checks its id and result case. Returns it (free with
   pisync__v1__response__free_unpacked), or NULL after recording why not. */
static Pisync__V1__Response *decode_response_as(const uint8_t *golden, size_t len, uint64_t id,
                                                Pisync__V1__Response__ResultCase result)
{
    Pisync__V1__Response *decoded = decode_response(golden, len);

    REQUIRE_OR_RETURN(decoded != NULL, NULL);
    CHECK(decoded->id == id);
    if (decoded->result_case != result) {
        test_failure(__FILE__, __LINE__, "decoded->result_case == result");
        pisync__v1__response__free_unpacked(decoded, NULL);
        return NULL;
    }
    return decoded;
}

/* Builds a RecordSync request with the library's own request builder (what pisync_record
   sends) and compares its bytes with the golden file. */
static void check_library_request(uint64_t id, const char *device, const pisync_event *events,
                                  size_t count, const uint8_t *golden, size_t golden_len)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;

    CHECK(pisync_encode_record_request(id, device, events, count, &frame, &frame_len, NULL) ==
          PISYNC_OK);
    check_same_bytes(frame, frame_len, golden, golden_len);
    free(frame);
}

static int event_is(const Pisync__V1__SyncEvent *e, const char *device, int64_t timestamp,
                    uint32_t files, uint32_t errors, float speed)
{
    return strcmp(e->device_id, device) == 0 && e->timestamp == timestamp &&
           e->total_files_synced == files && e->total_errors == errors &&
           e->internet_speed == speed && e->sync_status == 0;
}

void test_golden_record_sync_single(void)
{
    size_t len;
    uint8_t *golden = read_golden("record_sync_single.bin", &len);
    Pisync__V1__SyncEvent event = PISYNC__V1__SYNC_EVENT__INIT;
    Pisync__V1__SyncEvent *events[1] = {&event};
    Pisync__V1__RecordSyncRequest record = PISYNC__V1__RECORD_SYNC_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;
    pisync_event lib_event;
    Pisync__V1__Request *decoded;

    REQUIRE(golden != NULL);
    event.device_id = (char *)"pibook-001";
    event.timestamp = 1700000000000LL;
    event.total_files_synced = 12;
    event.total_errors = 0;
    event.internet_speed = 8.5f;
    record.n_events = 1;
    record.events = events;
    request.id = 1;
    request.call_case = PISYNC__V1__REQUEST__CALL_RECORD_SYNC;
    request.record_sync = &record;
    check_encoding(&request.base, golden, len);

    /* The library's own request builder (what pisync_record sends) gives the same bytes. */
    pisync_event_init(&lib_event, "pibook-001", 1700000000000LL, 12, 0, 8.5f);
    check_library_request(1, NULL, &lib_event, 1, golden, len);

    decoded = decode_request(golden, len);
    CHECK(decoded != NULL);
    if (decoded != NULL) {
        CHECK(decoded->id == 1);
        CHECK(decoded->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC);
        if (decoded->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC) {
            CHECK(strcmp(decoded->record_sync->device_id, "") == 0);
            CHECK(decoded->record_sync->n_events == 1);
            if (decoded->record_sync->n_events == 1)
                CHECK(event_is(decoded->record_sync->events[0], "pibook-001", 1700000000000LL,
                               12, 0, 8.5f));
        }
        pisync__v1__request__free_unpacked(decoded, NULL);
    }
    free(golden);
}

void test_golden_record_sync_batch(void)
{
    size_t len;
    uint8_t *golden = read_golden("record_sync_batch.bin", &len);
    Pisync__V1__SyncEvent e[3] = {PISYNC__V1__SYNC_EVENT__INIT, PISYNC__V1__SYNC_EVENT__INIT,
                                  PISYNC__V1__SYNC_EVENT__INIT};
    Pisync__V1__SyncEvent *events[3] = {&e[0], &e[1], &e[2]};
    Pisync__V1__RecordSyncRequest record = PISYNC__V1__RECORD_SYNC_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;
    pisync_event lib[3];
    Pisync__V1__Request *decoded;

    REQUIRE(golden != NULL);
    /* The device is named once, at request level; the events leave device_id empty. */
    e[0].timestamp = 1700000000000LL;
    e[0].total_errors = 3;
    e[0].internet_speed = 0.25f;
    e[1].timestamp = 1700000060000LL;
    e[1].total_files_synced = 5;
    e[1].total_errors = 1;
    e[1].internet_speed = 2.0f;
    e[2].timestamp = 1700000120000LL;
    e[2].total_files_synced = 20;
    e[2].internet_speed = 12.5f;
    record.device_id = (char *)"pibox-042";
    record.n_events = 3;
    record.events = events;
    request.id = 2;
    request.call_case = PISYNC__V1__REQUEST__CALL_RECORD_SYNC;
    request.record_sync = &record;
    check_encoding(&request.base, golden, len);

    /* The library drops each event's device_id when it equals the request-level one. */
    pisync_event_init(&lib[0], "pibox-042", 1700000000000LL, 0, 3, 0.25f);
    pisync_event_init(&lib[1], "pibox-042", 1700000060000LL, 5, 1, 2.0f);
    pisync_event_init(&lib[2], "", 1700000120000LL, 20, 0, 12.5f);
    check_library_request(2, "pibox-042", lib, 3, golden, len);

    decoded = decode_request(golden, len);
    CHECK(decoded != NULL);
    if (decoded != NULL) {
        Pisync__V1__RecordSyncRequest *r = decoded->record_sync;

        CHECK(decoded->id == 2);
        REQUIRE(decoded->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC);
        CHECK(strcmp(r->device_id, "pibox-042") == 0);
        CHECK(r->n_events == 3);
        if (r->n_events == 3) {
            CHECK(event_is(r->events[0], "", 1700000000000LL, 0, 3, 0.25f));
            CHECK(event_is(r->events[1], "", 1700000060000LL, 5, 1, 2.0f));
            CHECK(event_is(r->events[2], "", 1700000120000LL, 20, 0, 12.5f));
        }
        pisync__v1__request__free_unpacked(decoded, NULL);
    }
    free(golden);
}

void test_golden_response_error(void)
{
    static const char message[] =
        "timestamp 946684799999 is before the earliest accepted 946684800000 (Unix ms)";
    size_t len;
    uint8_t *golden = read_golden("response_error.bin", &len);
    Pisync__V1__Error error = PISYNC__V1__ERROR__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    Pisync__V1__Response *decoded;
    pisync_error err;

    REQUIRE(golden != NULL);
    error.code = 3;
    error.message = (char *)message;
    error.field = (char *)"timestamp";
    response.id = 3;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_ERROR;
    response.error = &error;
    check_encoding(&response.base, golden, len);

    decoded = decode_response_as(golden, len, 3, PISYNC__V1__RESPONSE__RESULT_ERROR);
    REQUIRE(decoded != NULL);
    CHECK(decoded->error->code == 3);
    CHECK(strcmp(decoded->error->field, "timestamp") == 0);
    CHECK(strcmp(decoded->error->message, message) == 0);
    /* ... and as the library reports it to applications. */
    CHECK(pisync_fail_server(&err, decoded->error, 0) == PISYNC_ERR_SERVER);
    CHECK(err.code == 3 && strcmp(err.field, "timestamp") == 0 &&
          strcmp(err.message, message) == 0 && !pisync_error_is_retryable(&err));
    pisync__v1__response__free_unpacked(decoded, NULL);
    free(golden);
}

void test_golden_response_alert(void)
{
    size_t len;
    uint8_t *golden = read_golden("response_alert.bin", &len);
    Pisync__V1__FailureAlert alert = PISYNC__V1__FAILURE_ALERT__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    Pisync__V1__Response *decoded;

    REQUIRE(golden != NULL);
    alert.sequence = 7;
    alert.device_id = (char *)"pibox-042";
    alert.consecutive_failures = 3;
    alert.first_failure_timestamp = 1700000000000LL;
    alert.last_failure_timestamp = 1700000120000LL;
    response.id = 4;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_FAILURE_ALERT;
    response.failure_alert = &alert;
    check_encoding(&response.base, golden, len);

    decoded = decode_response_as(golden, len, 4, PISYNC__V1__RESPONSE__RESULT_FAILURE_ALERT);
    REQUIRE(decoded != NULL);
    CHECK(decoded->failure_alert->sequence == 7);
    CHECK(strcmp(decoded->failure_alert->device_id, "pibox-042") == 0);
    CHECK(decoded->failure_alert->consecutive_failures == 3);
    CHECK(decoded->failure_alert->first_failure_timestamp == 1700000000000LL);
    CHECK(decoded->failure_alert->last_failure_timestamp == 1700000120000LL);
    pisync__v1__response__free_unpacked(decoded, NULL);
    free(golden);
}

void test_golden_response_record_sync(void)
{
    size_t len;
    uint8_t *golden = read_golden("response_record_sync.bin", &len);
    Pisync__V1__RecordSyncResponse record = PISYNC__V1__RECORD_SYNC_RESPONSE__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    Pisync__V1__Response *decoded;

    REQUIRE(golden != NULL);
    record.accepted = 1;
    response.id = 1;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC;
    response.record_sync = &record;
    check_encoding(&response.base, golden, len);

    decoded = decode_response_as(golden, len, 1, PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC);
    REQUIRE(decoded != NULL);
    CHECK(decoded->record_sync->accepted == 1);
    CHECK(decoded->record_sync->duplicates == 0);
    CHECK(decoded->record_sync->n_rejected == 0);
    pisync__v1__response__free_unpacked(decoded, NULL);
    free(golden);
}
