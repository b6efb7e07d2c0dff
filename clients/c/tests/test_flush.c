/*
 * test_flush.c - flushing the spool against scripted servers: which events leave the
 * spool for which answers, and a flush retried with backoff while the server's disk fails.
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

/* ---- UNAVAILABLE from a server whose log write failed, retried with backoff ---- */

#define DISK_FULL_EVENTS 5
#define DISK_FULL_FAILURES 3
#define MAX_FLUSH_ATTEMPTS 8

/* Events in the spool file at `context` (its path), as a process opening it now would
   find them: read without taking the lock (the test holds it) and replayed. -1 when the
   file cannot be read. Runs in the fake server's process. */
static long spool_file_pending(void *context)
{
    const char *path = context;
    FILE *file = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0, cap = 0;
    pisync_spool replayed;
    long pending = -1;

    if (file == NULL)
        return -1;
    for (;;) {
        if (size == cap) {
            uint8_t *grown = realloc(data, cap = cap ? cap * 2 : 4096);

            if (grown == NULL)
                break;
            data = grown;
        }
        size += fread(data + size, 1, cap - size, file);
        if (size < cap)
            break;
    }
    fclose(file);
    memset(&replayed, 0, sizeof replayed);
    /* The file starts with the magic "PISPOOL1" (pisync_spool_file.c). */
    if (data != NULL && size >= 8 && memcmp(data, "PISPOOL1", 8) == 0 &&
        pisync_spool_replay(&replayed, data + 8, size - 8) >= 0)
        pending = (long)replayed.count;
    free(replayed.events);
    free(data);
    return pending;
}

/* A flush retried with pisync_retry, as `pisync-device flush --retries N` does, recording
   each attempt. */
typedef struct {
    pisync_spool *spool;
    int attempts;
    int64_t started_ms[MAX_FLUSH_ATTEMPTS];
    int64_t ended_ms[MAX_FLUSH_ATTEMPTS];
    pisync_error error[MAX_FLUSH_ATTEMPTS];
    pisync_spool_stats after[MAX_FLUSH_ATTEMPTS]; /* the spool when the attempt ended */
    uint64_t accepted;
    uint64_t duplicates;
} retried_flush;

static pisync_status retried_flush_attempt(pisync_client *client, void *context,
                                           pisync_error *err)
{
    retried_flush *r = context;
    pisync_flush_result result;
    pisync_status rc;
    int i = r->attempts;

    if (i == MAX_FLUSH_ATTEMPTS)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "more flush attempts than expected");
    r->attempts++;
    r->started_ms[i] = pisync_monotonic_ms();
    rc = pisync_spool_flush(r->spool, client, NULL, &result, err);
    r->ended_ms[i] = pisync_monotonic_ms();
    r->error[i] = *err;
    pisync_spool_get_stats(r->spool, &r->after[i]);
    r->accepted += result.accepted;
    r->duplicates += result.duplicates;
    return rc;
}

/* The least delay the policy allows before retry number `retry` (1 for the first): d/2,
   where d = min(max_delay_ms, base_delay_ms * 2^(retry-1)). */
static int64_t least_backoff_ms(const pisync_retry_policy *policy, int retry)
{
    int64_t d = policy->base_delay_ms;
    int i;

    for (i = 1; i < retry && d < policy->max_delay_ms; i++)
        d *= 2;
    if (d > policy->max_delay_ms)
        d = policy->max_delay_ms;
    return d / 2;
}

static void check_backoff(const char *clock, int retry, int64_t gap, int64_t least)
{
    if (gap < least) {
        test_failure(__FILE__, __LINE__, "the wait before a retry is at least the least backoff");
        test_note("  %s: %lld ms before retry %d, the policy's least backoff is %lld ms", clock,
                  (long long)gap, retry, (long long)least);
    }
}

/* The checks of test_flush_retries_unavailable_with_backoff on what the device and the
   server saw. */
static void check_retried_flush(const retried_flush *r, const fake_disk_report *report,
                                const pisync_retry_policy *policy)
{
    size_t i;
    int n;

    /* Three UNAVAILABLE answers, then the acknowledgement: four attempts, each sending the
       whole spool. */
    CHECK(report->completed);
    CHECK(r->attempts == DISK_FULL_FAILURES + 1);
    CHECK(report->request_count == DISK_FULL_FAILURES + 1);
    for (n = 0; n < r->attempts && (size_t)n < report->request_count; n++) {
        const fake_disk_request *q = &report->requests[n];
        const pisync_error *e = &r->error[n];

        CHECK(q->events == DISK_FULL_EVENTS);
        CHECK(q->code == (n < DISK_FULL_FAILURES ? 14u : 0u));
        if (n < DISK_FULL_FAILURES) {
            /* The device took the UNAVAILABLE as a retryable answer to its request... */
            CHECK(e->status == PISYNC_ERR_SERVER && e->code == 14 && !e->connection_notice &&
                  pisync_error_is_retryable(e));
            CHECK(strcmp(e->message, FAKE_DISK_FULL_MESSAGE) == 0);
            /* ...and (b) kept every event: none acknowledged, none removed. */
            CHECK(r->after[n].pending == DISK_FULL_EVENTS && r->after[n].delivered == 0 &&
                  r->after[n].rejected == 0);
        } else {
            CHECK(e->status == PISYNC_OK);
            CHECK(r->after[n].pending == 0 && r->after[n].delivered == DISK_FULL_EVENTS);
        }
        /* (b) on disk: as each request arrived, before its answer, the spool file held every
           event, also after the UNAVAILABLE answers that came before it. */
        CHECK(q->observed == DISK_FULL_EVENTS);
        /* (a) backoff: from an UNAVAILABLE answer to the next attempt, at least the policy's
           least delay for that retry, on the device's clock and on the server's. */
        if (n > 0) {
            check_backoff("device", n, r->started_ms[n] - r->ended_ms[n - 1],
                          least_backoff_ms(policy, n));
            check_backoff("server", n, q->arrived_ms - report->requests[n - 1].answered_ms,
                          least_backoff_ms(policy, n));
        }
    }
    /* (c) each event was sent in every attempt and acknowledged exactly once. */
    CHECK(r->accepted == DISK_FULL_EVENTS && r->duplicates == 0);
    CHECK(report->event_count == DISK_FULL_EVENTS);
    for (i = 0; i < report->event_count; i++) {
        const fake_disk_event *e = &report->events[i];

        CHECK(strcmp(e->device, "dev-a") == 0 && e->timestamp == BASE_TS + (int64_t)i);
        CHECK(e->sent == DISK_FULL_FAILURES + 1);
        CHECK(e->acked == 1);
    }
}

/* A server whose log write fails (disk full) answers UNAVAILABLE three times, then
   acknowledges. A flush retried with pisync_retry backs off between attempts, keeps the
   events in the spool until the acknowledgement, and delivers each one once. */
void test_flush_retries_unavailable_with_backoff(void)
{
    pisync_retry_policy policy = {DISK_FULL_FAILURES + 2, 80, 1000, 2024};
    flush_fixture f;
    fake_disk_plan plan;
    fake_disk_report report;
    retried_flush r;
    pisync_spool_stats stats;
    pisync_error err;
    int finished;

    REQUIRE(fixture_open(&f, "aaaaa") == 0);
    memset(&plan, 0, sizeof plan);
    plan.fail_first = DISK_FULL_FAILURES;
    plan.expect_events = DISK_FULL_EVENTS;
    plan.observe = spool_file_pending;
    plan.observe_context = f.path;
    memset(&r, 0, sizeof r);
    r.spool = f.spool;
    if (fake_disk_start(&f.server, &plan) != 0) {
        test_failure(__FILE__, __LINE__, "fake_disk_start(&f.server, &plan) == 0");
        fixture_close(&f);
        return;
    }
    if (fixture_connect(&f, f.server.address) != 0) {
        test_failure(__FILE__, __LINE__, "fixture_connect(&f, f.server.address) == 0");
        (void)fake_disk_finish(&f.server, &plan, &report);
        fixture_close(&f);
        return;
    }

    CHECK_STATUS(pisync_retry(f.client, &policy, retried_flush_attempt, &r, &err), PISYNC_OK,
                 &err);
    pisync_client_free(f.client); /* the server ends once the connection closes */
    f.client = NULL;
    finished = fake_disk_finish(&f.server, &plan, &report);
    CHECK(finished == 0);
    if (finished >= 0) /* the report arrived */
        check_retried_flush(&r, &report, &policy);

    /* After success the spool is empty: in memory, in the file, and when reopened. */
    CHECK(pisync_spool_pending(f.spool) == 0);
    CHECK(spool_file_pending(f.path) == 0);
    pisync_spool_close(f.spool);
    f.spool = NULL;
    CHECK(pisync_spool_open(f.path, NULL, &f.spool, NULL) == PISYNC_OK);
    if (f.spool != NULL) {
        pisync_spool_get_stats(f.spool, &stats);
        CHECK(stats.pending == 0 && stats.delivered == DISK_FULL_EVENTS && stats.rejected == 0);
    }
    fixture_close(&f);
}
