/*
 * fuzz_response.c - libFuzzer target: how the client handles what a server sends back.
 *
 * Each input names a few calls the client makes, pipelined, and the bytes a server answers
 * with. The client sends the calls over one end of a socketpair; the other end then carries
 * the input's bytes and is shut. The library, unchanged, reads them as it would from a real
 * server: its framing, protobuf-c's unpack, matching by id, id 0 notices, and the conversion
 * into results and errors.
 *
 * Input: byte 0, the calls (two bits each, from the lowest: 0 record one event, 1 record a
 * batch of three, 2 history, 3 ping); byte 1, bits 0-1: one to four calls, bit 2: collect them
 * last to first, bits 4-5: the client's max_frame (default, 16, 64, 300 bytes); then the
 * server's bytes.
 *
 * Beyond ASan, UBSan and LeakSanitizer, it checks that every call ends with a status the API
 * names, that an error's strings are terminated, and that results are consistent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "pisync_internal.h"

enum { CALL_RECORD, CALL_BATCH, CALL_HISTORY, CALL_PING };

static const size_t max_frames[4] = {0, 16, 64, 300};

static void check_error(const pisync_error *err, pisync_status status)
{
    char text[700];

    FUZZ_CHECK(status >= PISYNC_OK && status <= PISYNC_ERR_SPOOL);
    FUZZ_CHECK(err->status == status);
    FUZZ_CHECK(memchr(err->field, '\0', sizeof err->field) != NULL);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL);
    pisync_error_format(err, text, sizeof text);
    FUZZ_CHECK(memchr(text, '\0', sizeof text) != NULL);
    (void)pisync_error_is_retryable(err);
    (void)pisync_code_name(err->code);
}

static void collect(pisync_client *client, int call, uint64_t id)
{
    pisync_error err;
    pisync_status rc;
    size_t i;

    switch (call) {
    case CALL_RECORD:
    case CALL_BATCH: {
        pisync_record_result result;

        rc = pisync_wait_record(client, id, &result, &err);
        FUZZ_CHECK(rc == PISYNC_OK || (result.rejected == NULL && result.rejected_count == 0));
        FUZZ_CHECK((result.rejected == NULL) == (result.rejected_count == 0));
        for (i = 0; i < result.rejected_count; i++) {
            FUZZ_CHECK(memchr(result.rejected[i].field, '\0', sizeof result.rejected[i].field));
            FUZZ_CHECK(memchr(result.rejected[i].message, '\0', sizeof result.rejected[i].message));
        }
        pisync_record_result_free(&result);
        break;
    }
    case CALL_HISTORY: {
        pisync_history history;

        rc = pisync_wait_history(client, id, &history, &err);
        FUZZ_CHECK(rc == PISYNC_OK || (history.events == NULL && history.count == 0));
        for (i = 0; i < history.count; i++)
            FUZZ_CHECK(strlen(history.events[i].device_id) <= PISYNC_DEVICE_ID_MAX);
        pisync_history_free(&history);
        break;
    }
    default: {
        pisync_ping_result ping;

        rc = pisync_wait_ping(client, id, &ping, &err);
        FUZZ_CHECK(memchr(ping.version, '\0', sizeof ping.version) != NULL);
        break;
    }
    }
    check_error(&err, rc);
}

/* Sends call `call` as the client would; returns its id, or 0 when it could not be sent. */
static uint64_t send_call(pisync_client *client, int call)
{
    pisync_event events[3];
    uint64_t id = 0;
    int i;

    for (i = 0; i < 3; i++)
        pisync_event_init(&events[i], "pibox-042", 1700000000000LL + i * 60000, (uint32_t)i,
                          (uint32_t)(i % 2), 2.5f);
    switch (call) {
    case CALL_RECORD:
        pisync_send_record_batch(client, NULL, events, 1, &id, NULL);
        break;
    case CALL_BATCH:
        pisync_send_record_batch(client, "pibox-042", events, 3, &id, NULL);
        break;
    case CALL_HISTORY:
        pisync_send_get_history(client, "pibox-042", 1, 10, &id, NULL);
        break;
    default:
        pisync_send_ping(client, &id, NULL);
        break;
    }
    return id;
}

static int write_all(int fd, const uint8_t *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);

        if (n <= 0)
            return -1;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pisync_client_options options;
    pisync_client *client = NULL;
    uint64_t ids[4] = {0, 0, 0, 0};
    int calls[4];
    int sv[2];
    int count, i;

    if (size < 2)
        return 0;
    count = 1 + (data[1] & 3);
    memset(&options, 0, sizeof options);
    /* Never dialled: the client is handed a connected socket, and nothing makes it reconnect
       (the answers arrive after the last call is sent). Port 1, should that change. */
    options.server = "127.0.0.1:1";
    options.io_timeout_ms = 2000;      /* never waited out: the server side ends in EOF */
    options.max_frame = max_frames[(data[1] >> 4) & 3];
    FUZZ_CHECK(pisync_client_new(&options, &client, NULL) == PISYNC_OK);
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    FUZZ_CHECK(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) == 0);
    client->fd = sv[0]; /* as pisync_connect leaves it */
    for (i = 0; i < count; i++) {
        calls[i] = (data[0] >> (2 * i)) & 3;
        ids[i] = send_call(client, calls[i]);
        FUZZ_CHECK(ids[i] == (uint64_t)i + 1);
    }
    /* What the server answers (the requests stay unread in sv[1]: a few hundred bytes). */
    FUZZ_CHECK(write_all(sv[1], data + 2, size - 2) == 0);
    shutdown(sv[1], SHUT_WR);
    for (i = 0; i < count; i++) {
        int k = (data[1] & 4) ? count - 1 - i : i;

        collect(client, calls[k], ids[k]);
    }
    pisync_client_free(client); /* closes sv[0] */
    close(sv[1]);
    return 0;
}

/* ---- the seeds ---- */

static size_t pack_response(const Pisync__V1__Response *response, uint8_t *out)
{
    uint8_t *frame;
    size_t len;

    FUZZ_CHECK(pisync_frame_encode(&response->base, &frame, &len, NULL) == PISYNC_OK);
    memcpy(out, frame, len);
    free(frame);
    return len;
}

/* The answers a server gives the four calls (record, batch, history, ping), in order. */
static size_t answers(uint8_t *out)
{
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    Pisync__V1__RecordSyncResponse record = PISYNC__V1__RECORD_SYNC_RESPONSE__INIT;
    Pisync__V1__RejectedEvent rejected = PISYNC__V1__REJECTED_EVENT__INIT;
    Pisync__V1__RejectedEvent *rejected_list[1] = {&rejected};
    Pisync__V1__GetHistoryResponse history = PISYNC__V1__GET_HISTORY_RESPONSE__INIT;
    Pisync__V1__SyncEvent event = PISYNC__V1__SYNC_EVENT__INIT;
    Pisync__V1__SyncEvent *events[2] = {&event, &event};
    Pisync__V1__PingResponse ping = PISYNC__V1__PING_RESPONSE__INIT;
    size_t len = 0;

    response.id = 1;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC;
    record.accepted = 1;
    response.record_sync = &record;
    len += pack_response(&response, out + len);

    response.id = 2;
    record.accepted = 2;
    rejected.index = 1;
    rejected.code = 3;
    rejected.field = "timestamp";
    rejected.message = "timestamp is in the future";
    record.n_rejected = 1;
    record.rejected = rejected_list;
    len += pack_response(&response, out + len);

    response.id = 3;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_GET_HISTORY;
    event.device_id = "pibox-042";
    event.timestamp = 1700000000000LL;
    event.total_files_synced = 5;
    event.sync_status = PISYNC__V1__SYNC_STATUS__SYNC_STATUS_SUCCESS;
    history.n_events = 2;
    history.events = events;
    history.total = 2;
    history.page = 1;
    history.limit = 10;
    response.get_history = &history;
    len += pack_response(&response, out + len);

    response.id = 4;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_PING;
    ping.version = "0.1.0";
    ping.uptime_ms = 1234;
    response.ping = &ping;
    len += pack_response(&response, out + len);
    return len;
}

/* An id 0 notice, as the server sends before closing. */
static size_t notice(uint8_t *out)
{
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    Pisync__V1__Error error = PISYNC__V1__ERROR__INIT;

    response.result_case = PISYNC__V1__RESPONSE__RESULT_ERROR;
    error.code = 14;
    error.message = "server is shutting down";
    response.error = &error;
    return pack_response(&response, out);
}

void fuzz_write_seeds(const char *dir, const char *golden)
{
    static const char *const golden_files[] = {"response_record_sync.bin", "response_error.bin",
                                               "response_alert.bin"};
    /* All four calls (record, batch, history, ping), in order and last to first, and one
       record call with a small max_frame. */
    static const uint8_t headers[][2] = {{0xE4, 0x03}, {0xE4, 0x07}, {0x00, 0x10}};
    uint8_t stream[4096];
    size_t len, g;
    int h;

    for (h = 0; h < 3; h++) {
        uint8_t seed[4096 + 2];

        seed[0] = headers[h][0];
        seed[1] = headers[h][1];
        len = answers(stream);
        memcpy(seed + 2, stream, len);
        fuzz_write_seed(dir, "answers", h, seed, len + 2);
        len = notice(stream);
        memcpy(seed + 2, stream, len);
        fuzz_write_seed(dir, "notice", h, seed, len + 2);
        /* The answers, then a notice, then a frame cut short. */
        len = answers(stream);
        len += notice(stream + len);
        memcpy(seed + 2, stream, len);
        seed[len + 2] = 0x20;
        fuzz_write_seed(dir, "answers-notice-torn", h, seed, len + 3);
        for (g = 0; g < sizeof golden_files / sizeof golden_files[0]; g++) {
            len = fuzz_read_file(golden, golden_files[g], stream, sizeof stream);
            memcpy(seed + 2, stream, len);
            fuzz_write_seed(dir, golden_files[g], h, seed, len + 2);
        }
    }
}
