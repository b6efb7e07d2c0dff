/*
 * test_retry.c - backoff delays, error classification and the retry loop.
 */
#include <string.h>

#include "fake_server.h"
#include "test.h"

void test_retry_backoff_bounds(void)
{
    pisync_retry_policy policy = {5, 100, 1000, 0};
    uint64_t rng = 42;
    int retry, i;

    for (retry = 1; retry <= 8; retry++) {
        uint32_t ceiling = 100u << (retry - 1);
        uint32_t low = 1000, high = 0;

        if (ceiling > 1000)
            ceiling = 1000;
        for (i = 0; i < 200; i++) {
            uint32_t d = pisync_backoff_delay_ms(&policy, retry, &rng);

            CHECK(d >= ceiling / 2 && d <= ceiling);
            low = d < low ? d : low;
            high = d > high ? d : high;
        }
        CHECK(high > low); /* jitter: not always the same delay */
    }
    /* Huge retry numbers neither overflow nor exceed the cap. */
    CHECK(pisync_backoff_delay_ms(&policy, 1000, &rng) <= 1000);
    /* Defaults: 200 ms first, capped at 30 s. */
    CHECK(pisync_backoff_delay_ms(NULL, 1, &rng) <= 200);
    CHECK(pisync_backoff_delay_ms(NULL, 1, &rng) >= 100);
    CHECK(pisync_backoff_delay_ms(NULL, 60, &rng) <= 30000);
}

void test_retry_backoff_deterministic_with_seed(void)
{
    pisync_retry_policy policy = {5, 100, 10000, 0};
    uint64_t a = 7, b = 7;
    int i;

    for (i = 1; i < 10; i++)
        CHECK(pisync_backoff_delay_ms(&policy, i, &a) == pisync_backoff_delay_ms(&policy, i, &b));
}

static pisync_error server_error(uint32_t code, int notice)
{
    pisync_error e;

    memset(&e, 0, sizeof e);
    e.status = PISYNC_ERR_SERVER;
    e.code = code;
    e.connection_notice = notice;
    return e;
}

void test_retry_classification(void)
{
    pisync_error e;

    memset(&e, 0, sizeof e);
    e.status = PISYNC_ERR_CONNECT;
    CHECK(pisync_error_is_retryable(&e));
    e.status = PISYNC_ERR_IO;
    CHECK(pisync_error_is_retryable(&e));
    e.status = PISYNC_ERR_TIMEOUT;
    CHECK(pisync_error_is_retryable(&e));
    e.status = PISYNC_ERR_ARGUMENT;
    CHECK(!pisync_error_is_retryable(&e));
    e.status = PISYNC_ERR_SPOOL;
    CHECK(!pisync_error_is_retryable(&e));
    e = server_error(14, 0);
    CHECK(pisync_error_is_retryable(&e));
    e = server_error(8, 1);
    CHECK(pisync_error_is_retryable(&e));
    e = server_error(3, 0);
    CHECK(!pisync_error_is_retryable(&e));
    e = server_error(5, 0);
    CHECK(!pisync_error_is_retryable(&e));
    e = server_error(12, 0);
    CHECK(!pisync_error_is_retryable(&e));
    e = server_error(3, 1); /* a notice: about the connection, not the request */
    CHECK(pisync_error_is_retryable(&e));
    e = server_error(8, 0); /* a rate limit */
    e.retry_after_ms = 300;
    CHECK(pisync_error_is_retryable(&e));
    e = server_error(16, 0); /* no token, or a refused one */
    CHECK(!pisync_error_is_retryable(&e));
    e = server_error(7, 0); /* a token that does not allow the call */
    CHECK(!pisync_error_is_retryable(&e));
    CHECK(!pisync_error_is_retryable(NULL));
}

void test_retry_error_format_shows_retry_after(void)
{
    pisync_error e = server_error(8, 0);
    char text[512];

    strcpy(e.field, "device_id");
    strcpy(e.message, "device 'd' is over its rate limit");
    e.retry_after_ms = 250;
    CHECK(strcmp(pisync_error_format(&e, text, sizeof text),
                 "server error: RESOURCE_EXHAUSTED (8) [device_id]: device 'd' is over its rate "
                 "limit (retry after 250 ms)") == 0);
    e = server_error(7, 0);
    CHECK(strstr(pisync_error_format(&e, text, sizeof text), "PERMISSION_DENIED (7)") != NULL);
}

/* A fake operation: fails with `failure` for the first `failures` attempts. */
typedef struct {
    int attempts;
    int failures;
    pisync_error failure;
} flaky;

static pisync_status flaky_attempt(pisync_client *client, void *context, pisync_error *err)
{
    flaky *f = context;

    (void)client;
    f->attempts++;
    if (f->attempts <= f->failures) {
        *err = f->failure;
        return f->failure.status;
    }
    memset(err, 0, sizeof *err);
    return PISYNC_OK;
}

static flaky flaky_failing(int failures, pisync_error failure)
{
    flaky f;

    memset(&f, 0, sizeof f);
    f.failures = failures;
    f.failure = failure;
    return f;
}

/* A local failure (no server involved) with `status`. */
static pisync_error local_error(pisync_status status)
{
    pisync_error e;

    memset(&e, 0, sizeof e);
    e.status = status;
    return e;
}

static pisync_client *offline_client(void)
{
    char address[64];
    pisync_client_options options;
    pisync_client *client = NULL;

    unused_address(address, sizeof address);
    memset(&options, 0, sizeof options);
    options.server = address;
    pisync_client_new(&options, &client, NULL);
    return client;
}

void test_retry_until_success(void)
{
    pisync_retry_policy policy = {5, 2, 10, 1};
    pisync_client *client = offline_client();
    flaky f;
    pisync_error err;

    REQUIRE(client != NULL);
    f = flaky_failing(2, server_error(14, 0));
    CHECK(pisync_retry(client, &policy, flaky_attempt, &f, &err) == PISYNC_OK);
    CHECK(f.attempts == 3);
    CHECK(err.status == PISYNC_OK);
    pisync_client_free(client);
}

/* A real call: pings, counting the attempts. */
static pisync_status counting_ping(pisync_client *client, void *context, pisync_error *err)
{
    pisync_ping_result ping;

    (*(int *)context)++;
    return pisync_ping(client, &ping, err);
}

void test_retry_gives_up_after_max_attempts(void)
{
    pisync_retry_policy policy = {3, 2, 10, 1};
    pisync_client *client = offline_client();
    int64_t started;
    pisync_error err;
    int attempts = 0;
    flaky f;

    REQUIRE(client != NULL);
    f = flaky_failing(100, local_error(PISYNC_ERR_CONNECT));
    CHECK(pisync_retry(client, &policy, flaky_attempt, &f, &err) == PISYNC_ERR_CONNECT);
    CHECK(f.attempts == 3);
    CHECK(err.status == PISYNC_ERR_CONNECT);
    /* Real connection failures (nothing listens), with real short sleeps in between. */
    started = pisync_monotonic_ms();
    CHECK(pisync_retry(client, &policy, counting_ping, &attempts, &err) == PISYNC_ERR_CONNECT);
    CHECK(attempts == 3);
    CHECK(err.status == PISYNC_ERR_CONNECT && strstr(err.message, "cannot connect") != NULL);
    CHECK(pisync_monotonic_ms() - started >= 2); /* at least the two minimal delays */
    CHECK(pisync_monotonic_ms() - started < 2000);
    pisync_client_free(client);
}

void test_retry_stops_on_rejection(void)
{
    pisync_retry_policy policy = {5, 2, 10, 1};
    pisync_client *client = offline_client();
    flaky f;
    pisync_error err;

    REQUIRE(client != NULL);
    f = flaky_failing(100, server_error(3, 0));
    strcpy(f.failure.field, "limit");
    CHECK(pisync_retry(client, &policy, flaky_attempt, &f, &err) == PISYNC_ERR_SERVER);
    CHECK(f.attempts == 1);
    CHECK(err.code == 3 && strcmp(err.field, "limit") == 0);
    pisync_client_free(client);
}

/* ---- retry_after_ms ---- */

#define RETRY_AFTER_MS 300

/* Answers the first RecordSync as a device over its rate limit, and the one on the next
   connection (the retry helper reconnects) as accepted. */
static int rate_limited_script(int listen_fd, void *context)
{
    Pisync__V1__Request *r;
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    r = fake_read_request(&conn);
    ok = r != NULL && r->id == 1 && r->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC &&
         fake_send_error_retry_after(&conn, 1, 8, "device_id",
                                     "device 'dev-1' is over its rate limit", RETRY_AFTER_MS) == 0;
    if (r != NULL)
        pisync__v1__request__free_unpacked(r, NULL);
    fake_close(&conn);
    if (!ok || fake_accept(listen_fd, &conn) != 0)
        return 1;
    r = fake_read_request(&conn);
    ok = r != NULL && r->id == 2 && r->call_case == PISYNC__V1__REQUEST__CALL_RECORD_SYNC &&
         fake_send_record(&conn, 2, 1, 0, NULL, 0) == 0 && fake_wait_eof(&conn) == 0;
    if (r != NULL)
        pisync__v1__request__free_unpacked(r, NULL);
    fake_close(&conn);
    return ok ? 0 : 1;
}

/* A RecordSync attempt that notes when each attempt began and ended, and its error. */
typedef struct {
    const pisync_event *event;
    int attempts;
    int64_t began[4];
    int64_t ended[4];
    pisync_error errors[4];
} timed_record;

static pisync_status timed_record_attempt(pisync_client *client, void *context,
                                          pisync_error *err)
{
    timed_record *t = context;
    int i = t->attempts < 4 ? t->attempts : 3;
    pisync_status rc;

    t->attempts++;
    t->began[i] = pisync_monotonic_ms();
    rc = pisync_record(client, t->event, NULL, err);
    t->ended[i] = pisync_monotonic_ms();
    t->errors[i] = *err;
    return rc;
}

void test_retry_waits_for_retry_after(void)
{
    /* The backoff alone would wait about 1 ms: the wait comes from the server. */
    pisync_retry_policy policy = {3, 1, 1000, 1};
    fake_server server;
    pisync_client_options options;
    pisync_client *client = NULL;
    pisync_event event;
    pisync_error err;
    timed_record t;
    int64_t waited;

    REQUIRE(fake_server_start(&server, rate_limited_script, NULL) == 0);
    memset(&options, 0, sizeof options);
    options.server = server.address;
    REQUIRE(pisync_client_new(&options, &client, NULL) == PISYNC_OK);
    memset(&t, 0, sizeof t);
    pisync_event_init(&event, "dev-1", 1700000000000LL, 1, 0, 1.0f);
    t.event = &event;
    CHECK_STATUS(pisync_retry(client, &policy, timed_record_attempt, &t, &err), PISYNC_OK, &err);
    CHECK(t.attempts == 2);
    CHECK(t.errors[0].code == 8 && t.errors[0].retry_after_ms == RETRY_AFTER_MS);
    waited = t.began[1] - t.ended[0];
    test_note("retry_after_ms %d, waited %lld ms", RETRY_AFTER_MS, (long long)waited);
    CHECK(waited >= RETRY_AFTER_MS);
    CHECK(waited < RETRY_AFTER_MS + 2000);
    pisync_client_free(client);
    CHECK(fake_server_finish(&server) == 0);
}

void test_retry_gives_up_when_retry_after_is_over_max_delay(void)
{
    pisync_retry_policy policy = {5, 1, 100, 1};
    pisync_client *client = offline_client();
    int64_t started = pisync_monotonic_ms();
    pisync_error err;
    flaky f;

    REQUIRE(client != NULL);
    f = flaky_failing(100, server_error(8, 0));
    f.failure.retry_after_ms = 60000;
    CHECK(pisync_retry(client, &policy, flaky_attempt, &f, &err) == PISYNC_ERR_SERVER);
    CHECK(f.attempts == 1); /* not slept for a minute, nor retried sooner */
    CHECK(err.retry_after_ms == 60000 && pisync_error_is_retryable(&err));
    CHECK(pisync_monotonic_ms() - started < 1000);
    pisync_client_free(client);
}
