/*
 * test_flush.c - flushing the spool against scripted servers: which events leave the
 * spool for which answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_server.h"
#include "test.h"

#define BASE_TS 1700000000000LL

typedef struct {
    char *dir;
    char path[4200];
    pisync_spool *spool;
    pisync_client *client;
    fake_server server;
    int rejected_calls; /* on_rejected calls */
} flush_fixture;

static void on_rejected(void *context, const pisync_event *event, const pisync_rejection *r)
{
    flush_fixture *f = context;

    (void)event;
    (void)r;
    f->rejected_calls++;
}

/* A spool holding one event per device name in `devices` ("aab" = a, a, b). */
static int fixture_open(flush_fixture *f, const char *devices)
{
    pisync_spool_options options = {0};
    size_t i;

    memset(f, 0, sizeof *f);
    f->dir = test_temp_dir();
    if (f->dir == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/s.spool", f->dir);
    if (pisync_spool_open(f->path, &options, &f->spool, NULL) != PISYNC_OK)
        return -1;
    for (i = 0; devices[i]; i++) {
        char device[16];
        pisync_event e;

        snprintf(device, sizeof device, "dev-%c", devices[i]);
        pisync_event_init(&e, device, BASE_TS + (int64_t)i, 1, 0, 1.0f);
        if (pisync_spool_append(f->spool, &e, NULL) != PISYNC_OK)
            return -1;
    }
    return 0;
}

static int fixture_connect(flush_fixture *f, const char *address)
{
    pisync_client_options options;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.io_timeout_ms = 5000;
    return pisync_client_new(&options, &f->client, NULL) == PISYNC_OK ? 0 : -1;
}

/* A spool holding `devices` (as for fixture_open), a fake server running `script` and a
   client for it. Records which step failed. */
static int fixture_start(flush_fixture *f, const char *devices, fake_script script)
{
    REQUIRE_OR_RETURN(fixture_open(f, devices) == 0, -1);
    REQUIRE_OR_RETURN(fake_server_start(&f->server, script, NULL) == 0, -1);
    REQUIRE_OR_RETURN(fixture_connect(f, f->server.address) == 0, -1);
    return 0;
}

/* Frees the client (which closes its connection) and checks that the script passed. */
static void fixture_finish_server(flush_fixture *f)
{
    pisync_client_free(f->client);
    f->client = NULL;
    CHECK(fake_server_finish(&f->server) == 0);
}

static void fixture_close(flush_fixture *f)
{
    pisync_client_free(f->client);
    pisync_spool_close(f->spool);
    test_remove_dir(f->dir);
}

static pisync_status flush(flush_fixture *f, size_t max_batch, pisync_flush_result *result,
                           pisync_error *err)
{
    pisync_flush_options options;

    memset(&options, 0, sizeof options);
    options.max_batch = max_batch;
    options.on_rejected = on_rejected;
    options.context = f;
    return pisync_spool_flush(f->spool, f->client, &options, result, err);
}

/* Reads a RecordSync and checks that it names `device` at request level only, with
   `count` events. Returns its id, or 0 when it is not as expected. */
static uint64_t expect_batch(fake_conn *conn, const char *device, size_t count)
{
    Pisync__V1__Request *r = fake_read_request(conn);
    uint64_t id = 0;
    size_t i;

    if (r == NULL)
        return 0;
    if (r->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC &&
        strcmp(r->record_sync->device_id, device) == 0 && r->record_sync->n_events == count) {
        id = r->id;
        for (i = 0; i < count; i++) {
            if (strcmp(r->record_sync->events[i]->device_id, "") != 0)
                id = 0;
        }
    }
    pisync__v1__request__free_unpacked(r, NULL);
    return id;
}

/* Reads a batch as expect_batch does and accepts all of its events. Returns 0 when it was as
   expected. */
static int accept_batch(fake_conn *conn, const char *device, size_t count)
{
    uint64_t id = expect_batch(conn, device, count);

    return id != 0 && fake_send_record(conn, id, (uint32_t)count, 0, NULL, 0) == 0 ? 0 : -1;
}

void test_flush_empty_spool_is_noop(void)
{
    flush_fixture f;
    char address[64];
    pisync_flush_result result;
    pisync_error err;

    REQUIRE(fixture_open(&f, "") == 0);
    unused_address(address, sizeof address);
    REQUIRE(fixture_connect(&f, address) == 0);
    CHECK_STATUS(flush(&f, 0, &result, &err), PISYNC_OK, &err);
    CHECK(result.batches == 0 && result.accepted == 0 && result.remaining == 0);
    CHECK(!pisync_is_connected(f.client)); /* never even connected */
    fixture_close(&f);
}

static int answered_script(int listen_fd, void *context)
{
    static const uint32_t rejected_index[] = {1};
    fake_conn conn;
    uint64_t id;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = (id = expect_batch(&conn, "dev-a", 2)) != 0 &&
         fake_send_record(&conn, id, 1, 1, NULL, 0) == 0 &&
         (id = expect_batch(&conn, "dev-a", 2)) != 0 &&
         fake_send_record(&conn, id, 1, 0, rejected_index, 1) == 0 &&
         /* The third batch arrives, and the connection breaks before the answer. */
         expect_batch(&conn, "dev-a", 1) != 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_flush_acks_only_answered_batches(void)
{
    flush_fixture f;
    pisync_flush_result result;
    pisync_spool_stats stats;
    pisync_error err;

    REQUIRE(fixture_start(&f, "aaaaa", answered_script) == 0);
    CHECK(flush(&f, 2, &result, &err) == PISYNC_ERR_IO);
    CHECK(pisync_error_is_retryable(&err));
    CHECK(result.batches == 2 && result.accepted == 2 && result.duplicates == 1 &&
          result.rejected == 1 && result.remaining == 1);
    CHECK(f.rejected_calls == 1);
    /* Only the unanswered fifth event is left, also after reopening. */
    CHECK(pisync_spool_pending(f.spool) == 1);
    CHECK(pisync_spool_peek(f.spool, 0)->timestamp == BASE_TS + 4);
    pisync_spool_close(f.spool);
    f.spool = NULL;
    CHECK(pisync_spool_open(f.path, NULL, &f.spool, NULL) == PISYNC_OK);
    REQUIRE(f.spool != NULL);
    pisync_spool_get_stats(f.spool, &stats);
    CHECK(stats.pending == 1 && stats.delivered == 3 && stats.rejected == 1);
    CHECK(fake_server_finish(&f.server) == 0);
    fixture_close(&f);
}

static int by_device_script(int listen_fd, void *context)
{
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = accept_batch(&conn, "dev-a", 2) == 0 && accept_batch(&conn, "dev-b", 1) == 0 &&
         accept_batch(&conn, "dev-a", 1) == 0 && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_flush_batches_by_device(void)
{
    flush_fixture f;
    pisync_flush_result result;
    pisync_error err;

    REQUIRE(fixture_start(&f, "aaba", by_device_script) == 0);
    CHECK_STATUS(flush(&f, 0, &result, &err), PISYNC_OK, &err);
    CHECK(result.batches == 3 && result.accepted == 4 && result.remaining == 0);
    fixture_finish_server(&f);
    fixture_close(&f);
}

static int reject_all_script(int listen_fd, void *context)
{
    fake_conn conn;
    uint64_t id;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = (id = expect_batch(&conn, "dev-a", 3)) != 0 &&
         fake_send_error(&conn, id, 3, "timestamp", "event 0: timestamp is in the future") == 0 &&
         fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_flush_drops_whole_rejected_batch(void)
{
    flush_fixture f;
    pisync_flush_result result;
    pisync_spool_stats stats;
    pisync_error err;

    REQUIRE(fixture_start(&f, "aaa", reject_all_script) == 0);
    CHECK_STATUS(flush(&f, 0, &result, &err), PISYNC_OK, &err);
    CHECK(result.rejected == 3 && result.accepted == 0 && result.remaining == 0);
    CHECK(f.rejected_calls == 3);
    pisync_spool_get_stats(f.spool, &stats);
    CHECK(stats.rejected == 3 && stats.delivered == 0);
    fixture_finish_server(&f);
    fixture_close(&f);
}

/* A server whose batch limit is 2. */
static int small_limit_script(int listen_fd, void *context)
{
    fake_conn conn;
    int ok = 1;
    int answered = 0;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    while (ok && answered < 5) {
        Pisync__V1__Request *r = fake_read_request(&conn);
        size_t n;

        if (r == NULL || r->call_case != PISYNC__V1__REQUEST__CALL_RECORD_SYNC) {
            ok = 0;
        } else if ((n = r->record_sync->n_events) > 2) {
            ok = fake_send_error(&conn, r->id, 3, "events", "at most 2 events per request") == 0;
        } else {
            ok = fake_send_record(&conn, r->id, (uint32_t)n, 0, NULL, 0) == 0;
            answered += (int)n;
        }
        if (r != NULL)
            pisync__v1__request__free_unpacked(r, NULL);
    }
    ok = ok && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_flush_shrinks_batches_for_low_server_limit(void)
{
    flush_fixture f;
    pisync_flush_result result;
    pisync_error err;

    REQUIRE(fixture_start(&f, "aaaaa", small_limit_script) == 0);
    CHECK_STATUS(flush(&f, 0, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 5 && result.rejected == 0 && result.remaining == 0);
    CHECK(f.rejected_calls == 0);
    fixture_finish_server(&f);
    fixture_close(&f);
}

static int unavailable_script(int listen_fd, void *context)
{
    fake_conn conn;
    uint64_t id;
    int ok;

    (void)context;
    /* 1: UNAVAILABLE on the request's own id (shutting down). */
    ok = fake_accept(listen_fd, &conn) == 0 && (id = expect_batch(&conn, "dev-a", 3)) != 0 &&
         fake_send_error(&conn, id, 14, "", "server is shutting down") == 0;
    fake_close(&conn);
    /* 2: an id 0 INVALID_ARGUMENT notice: about the connection, not these events. */
    ok = ok && fake_accept(listen_fd, &conn) == 0 && expect_batch(&conn, "dev-a", 3) != 0 &&
         fake_send_error(&conn, 0, 3, "", "frame body is not a Request") == 0;
    fake_close(&conn);
    /* 3: accepted. */
    ok = ok && fake_accept(listen_fd, &conn) == 0 && accept_batch(&conn, "dev-a", 3) == 0 &&
         fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_flush_keeps_events_on_unavailable_and_notices(void)
{
    flush_fixture f;
    pisync_flush_result result;
    pisync_error err;

    REQUIRE(fixture_start(&f, "aaa", unavailable_script) == 0);

    CHECK(flush(&f, 0, &result, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 14 && !err.connection_notice && pisync_error_is_retryable(&err));
    CHECK(result.remaining == 3 && pisync_spool_pending(f.spool) == 3);
    pisync_disconnect(f.client);

    CHECK(flush(&f, 0, &result, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 3 && err.connection_notice && pisync_error_is_retryable(&err));
    CHECK(result.remaining == 3 && result.rejected == 0 && f.rejected_calls == 0);
    pisync_disconnect(f.client);

    CHECK_STATUS(flush(&f, 0, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 3 && result.remaining == 0);
    fixture_finish_server(&f);
    fixture_close(&f);
}
