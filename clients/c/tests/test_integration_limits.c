/*
 * test_integration_limits.c - the server's per-device rate limit (PISYNC_SERVER_BIN
 * serve --device-rate 2 --device-burst 2): the refusal carries retry_after_ms, nothing of
 * the refused batch is stored, and pisync_retry waits at least that long before the
 * attempt that succeeds. Skipped like the other integration tests.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pisync_internal.h"
#include "server_process.h"
#include "test.h"

#define MAX_ATTEMPTS 4

/* Records one event per attempt, noting when each attempt began and ended, and why it
   failed. */
typedef struct {
    const pisync_event *event;
    int attempts;
    int64_t began[MAX_ATTEMPTS];
    int64_t ended[MAX_ATTEMPTS];
    uint32_t retry_after[MAX_ATTEMPTS];
} timed_attempts;

static pisync_status record_attempt(pisync_client *client, void *context, pisync_error *err)
{
    timed_attempts *t = context;
    int i = t->attempts < MAX_ATTEMPTS ? t->attempts : MAX_ATTEMPTS - 1;
    pisync_status rc;

    t->attempts++;
    t->began[i] = pisync_monotonic_ms();
    rc = pisync_record(client, t->event, NULL, err);
    t->ended[i] = pisync_monotonic_ms();
    t->retry_after[i] = rc == PISYNC_OK ? 0 : err->retry_after_ms;
    return rc;
}

/* Every wait between attempts lasted at least the retry_after_ms of the failure before. */
static void check_waits(const timed_attempts *t)
{
    int i;

    for (i = 1; i < t->attempts && i < MAX_ATTEMPTS; i++) {
        int64_t waited = t->began[i] - t->ended[i - 1];

        test_note("attempt %d refused with retry_after_ms %u; waited %lld ms", i,
                  (unsigned)t->retry_after[i - 1], (long long)waited);
        CHECK(t->retry_after[i - 1] > 0);
        CHECK(waited >= (int64_t)t->retry_after[i - 1]);
    }
}

void test_integration_rate_limit_retry_after(void)
{
    static const char *const args[] = {"--device-rate", "2", "--device-burst", "2", NULL};
    pisync_retry_policy policy = {MAX_ATTEMPTS, 1, 5000, 1};
    const char *bin = test_server_bin();
    server_process server;
    pisync_client_options options;
    pisync_client *client = NULL;
    pisync_event events[4];
    pisync_history history;
    pisync_error err;
    timed_attempts t;
    char device[64];
    int64_t base = pisync_now_ms() - 60000;
    int i;

    if (bin == NULL)
        return;
    REQUIRE(server_start(&server, bin, args) == 0);
    memset(&options, 0, sizeof options);
    options.server = server.address;
    if (pisync_client_new(&options, &client, &err) != PISYNC_OK) {
        CHECK(client != NULL);
        server_cleanup(&server);
        return;
    }
    snprintf(device, sizeof device, "c-rate-%ld", (long)getpid());
    for (i = 0; i < 4; i++)
        pisync_event_init(&events[i], device, base + i, 1, 0, 1.0f);

    /* The burst of 2, then the third is refused with retry_after_ms. */
    CHECK_STATUS(pisync_record_batch(client, device, events, 2, NULL, &err), PISYNC_OK, &err);
    CHECK(pisync_record(client, &events[2], NULL, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_RESOURCE_EXHAUSTED && strcmp(err.field, "device_id") == 0);
    CHECK(err.retry_after_ms > 0 && err.retry_after_ms <= 500);
    CHECK(pisync_error_is_retryable(&err));

    /* Retried at once: each attempt waits for the server's retry_after_ms (the backoff
       alone is about 1 ms), and one of them gets through. */
    memset(&t, 0, sizeof t);
    t.event = &events[2];
    CHECK_STATUS(pisync_retry(client, &policy, record_attempt, &t, &err), PISYNC_OK, &err);
    CHECK(t.attempts >= 2);
    check_waits(&t);

    /* The bucket is empty again: a fourth event is refused, and nothing of it stored. */
    CHECK(pisync_record(client, &events[3], NULL, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_RESOURCE_EXHAUSTED && err.retry_after_ms > 0);
    CHECK_STATUS(pisync_get_history(client, device, 1, 10, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 3);
    pisync_history_free(&history);

    pisync_client_free(client);
    server_cleanup(&server);
}
