/*
 * test_integration.c - the library against a real pisync server (PISYNC_SERVER_BIN).
 * Skipped when PISYNC_SERVER_BIN is unset, unless CI=true (then they fail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_server.h"
#include "server_process.h"
#include "test.h"

static pisync_client *connect_to(const char *address)
{
    pisync_client_options options;
    pisync_client *client = NULL;
    pisync_error err;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = 10000;
    if (pisync_client_new(&options, &client, &err) != PISYNC_OK)
        return NULL;
    return client;
}

/* A device id no other run uses. */
static void unique_device(char *buf, size_t size, const char *prefix)
{
    snprintf(buf, size, "%s-%ld-%lld", prefix, (long)getpid(), (long long)pisync_now_ms());
}

void test_integration_record_history_ping_errors(void)
{
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *client;
    pisync_event events[3], mixed[2], bad;
    pisync_record_result result;
    pisync_history history;
    pisync_ping_result ping;
    pisync_error err;
    char device[64];
    int64_t base = pisync_now_ms() - 3600 * 1000;

    if (bin == NULL)
        return;
    REQUIRE(server_start(&server, bin, NULL) == 0);
    client = connect_to(server.address);
    REQUIRE(client != NULL);
    unique_device(device, sizeof device, "c-int");

    /* A batch with the device named at request level. */
    pisync_event_init(&events[0], device, base, 12, 0, 8.5f);      /* success */
    pisync_event_init(&events[1], device, base + 1000, 0, 3, 0.25f); /* failed */
    pisync_event_init(&events[2], device, base + 2000, 5, 1, 2.0f);  /* partial */
    CHECK_STATUS(pisync_record_batch(client, device, events, 3, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 3 && result.duplicates == 0 && result.rejected_count == 0);
    pisync_record_result_free(&result);

    /* Sent again: acknowledged as duplicates, not stored twice. */
    CHECK_STATUS(pisync_record_batch(client, device, events, 3, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 0 && result.duplicates == 3);
    pisync_record_result_free(&result);

    /* One valid and one invalid event: the valid one is stored. */
    pisync_event_init(&mixed[0], device, base + 3000, 1, 0, 1.0f);
    pisync_event_init(&mixed[1], device, base + 4000, 1, 0, -1.0f);
    CHECK_STATUS(pisync_record_batch(client, device, mixed, 2, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 1 && result.rejected_count == 1);
    if (result.rejected_count == 1) {
        CHECK(result.rejected[0].index == 1 && result.rejected[0].code == 3);
        CHECK(strcmp(result.rejected[0].field, "internet_speed") == 0);
        CHECK(result.rejected[0].message[0] != '\0');
    }
    pisync_record_result_free(&result);

    /* Every event invalid: the whole request fails with the server's code and field. */
    pisync_event_init(&bad, device, 946684799999LL, 1, 0, 1.0f);
    CHECK(pisync_record(client, &bad, &result, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 3 && strcmp(err.field, "timestamp") == 0 && err.message[0] != '\0');
    CHECK(!pisync_error_is_retryable(&err) && !err.connection_notice);

    /* History, newest first, with the derived statuses. */
    CHECK_STATUS(pisync_get_history(client, device, 0, 0, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 4 && history.count == 4 && history.page == 1 && history.limit == 10);
    if (history.count == 4) {
        CHECK(history.events[0].timestamp == base + 3000);
        CHECK(history.events[1].timestamp == base + 2000);
        CHECK(history.events[1].sync_status == PISYNC_SYNC_PARTIAL);
        CHECK(history.events[2].sync_status == PISYNC_SYNC_FAILED);
        CHECK(history.events[3].sync_status == PISYNC_SYNC_SUCCESS);
        CHECK(strcmp(history.events[3].device_id, device) == 0);
        CHECK(history.events[3].total_files_synced == 12 &&
              history.events[3].internet_speed == 8.5f);
    }
    pisync_history_free(&history);
    CHECK_STATUS(pisync_get_history(client, device, 2, 3, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 4 && history.count == 1 && history.page == 2 && history.limit == 3);
    pisync_history_free(&history);

    /* limit 101 is an error, not clamped. */
    CHECK(pisync_get_history(client, device, 1, 101, &history, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 3 && strcmp(err.field, "limit") == 0);
    CHECK(history.events == NULL);
    /* An unknown device. */
    CHECK(pisync_get_history(client, "c-int-nobody", 1, 10, &history, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 5 && strcmp(err.field, "device_id") == 0);

    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    CHECK(ping.version[0] != '\0');
    test_note("server version %s, up %llu ms", ping.version, (unsigned long long)ping.uptime_ms);
    CHECK(pisync_is_connected(client)); /* one connection, reused by every call above */

    pisync_client_free(client);
    server_cleanup(&server);
}

void test_integration_pipelining_and_reuse(void)
{
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *client;
    pisync_event events[2];
    pisync_record_result result;
    pisync_history history;
    pisync_ping_result ping;
    pisync_error err;
    uint64_t record_id, history_id, ping_id, bad_id;
    char device[64], other[64];
    int64_t base = pisync_now_ms() - 60000;

    if (bin == NULL)
        return;
    REQUIRE(server_start(&server, bin, NULL) == 0);
    client = connect_to(server.address);
    REQUIRE(client != NULL);
    unique_device(device, sizeof device, "c-pipe");
    unique_device(other, sizeof other, "c-pipe-other");
    pisync_event_init(&events[0], other, base, 1, 0, 1.0f);
    CHECK_STATUS(pisync_record(client, &events[0], NULL, &err), PISYNC_OK, &err);

    pisync_event_init(&events[0], device, base, 1, 0, 1.0f);
    pisync_event_init(&events[1], device, base + 1, 2, 0, 1.0f);
    CHECK_STATUS(pisync_send_record_batch(client, device, events, 2, &record_id, &err), PISYNC_OK,
                 &err);
    CHECK_STATUS(pisync_send_get_history(client, other, 1, 5, &history_id, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_send_ping(client, &ping_id, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_send_get_history(client, other, 1, 101, &bad_id, &err), PISYNC_OK, &err);

    /* Collected in reverse order. */
    CHECK(pisync_wait_history(client, bad_id, &history, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 3 && strcmp(err.field, "limit") == 0);
    CHECK_STATUS(pisync_wait_ping(client, ping_id, &ping, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_wait_history(client, history_id, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 1 && history.count == 1);
    pisync_history_free(&history);
    CHECK_STATUS(pisync_wait_record(client, record_id, &result, &err), PISYNC_OK, &err);
    CHECK(result.accepted == 2);
    pisync_record_result_free(&result);
    CHECK(pisync_is_connected(client));
    pisync_client_free(client);
    server_cleanup(&server);
}

/* Records one event the way a device does: send, and spool it when the server cannot be
   reached. Returns 1 when it was spooled. */
static int send_or_spool(pisync_client *client, pisync_spool *spool, const pisync_event *e)
{
    pisync_error err;

    if (pisync_record(client, e, NULL, &err) == PISYNC_OK)
        return 0;
    if (!pisync_error_is_retryable(&err))
        return -1;
    return pisync_spool_append(spool, e, NULL) == PISYNC_OK ? 1 : -1;
}

void test_integration_offline_spool_then_flush(void)
{
    enum { EVENTS = 25 };
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *offline, *online;
    pisync_spool *spool = NULL;
    pisync_spool_options spool_options = {0};
    pisync_flush_options flush_options;
    pisync_flush_result result;
    pisync_history history;
    pisync_error err;
    char address[64], device[64];
    char *dir;
    char path[4200];
    int64_t base = pisync_now_ms() - 3600 * 1000;
    int i, spooled = 0;

    if (bin == NULL)
        return;
    dir = test_temp_dir();
    REQUIRE(dir != NULL);
    snprintf(path, sizeof path, "%s/offline.spool", dir);
    unique_device(device, sizeof device, "c-offline");

    /* Offline: nothing listens, every event goes to the spool. */
    unused_address(address, sizeof address);
    offline = connect_to(address);
    REQUIRE(offline != NULL);
    REQUIRE(pisync_spool_open(path, &spool_options, &spool, NULL) == PISYNC_OK);
    for (i = 0; i < EVENTS; i++) {
        pisync_event e;

        pisync_event_init(&e, device, base + i * 60000, (uint32_t)i, (uint32_t)(i % 2), 3.5f);
        spooled += send_or_spool(offline, spool, &e) == 1;
    }
    CHECK(spooled == EVENTS && pisync_spool_pending(spool) == EVENTS);
    pisync_client_free(offline);
    pisync_spool_close(spool); /* the device reboots in between */

    /* The server comes up; flush in batches of 10. */
    REQUIRE(server_start(&server, bin, NULL) == 0);
    online = connect_to(server.address);
    REQUIRE(online != NULL);
    REQUIRE(pisync_spool_open(path, &spool_options, &spool, NULL) == PISYNC_OK);
    CHECK(pisync_spool_pending(spool) == EVENTS);
    memset(&flush_options, 0, sizeof flush_options);
    flush_options.max_batch = 10;
    CHECK_STATUS(pisync_spool_flush(spool, online, &flush_options, &result, &err), PISYNC_OK,
                 &err);
    CHECK(result.batches == 3 && result.accepted == EVENTS && result.duplicates == 0 &&
          result.rejected == 0 && result.remaining == 0);

    /* Every event arrived exactly once. */
    CHECK_STATUS(pisync_get_history(online, device, 1, 100, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == EVENTS && history.count == EVENTS);
    for (i = 0; i < (int)history.count; i++) {
        /* newest first: position i holds event EVENTS-1-i */
        CHECK(history.events[i].timestamp == base + (int64_t)(EVENTS - 1 - i) * 60000);
        CHECK(history.events[i].total_files_synced == (uint32_t)(EVENTS - 1 - i));
    }
    pisync_history_free(&history);

    /* Flushing again is a no-op. */
    CHECK_STATUS(pisync_spool_flush(spool, online, &flush_options, &result, &err), PISYNC_OK,
                 &err);
    CHECK(result.batches == 0 && result.accepted == 0 && result.remaining == 0);

    /* An acknowledgement lost to a power cut means the same events are sent again: the
       server counts them as duplicates, and the history still holds each once. */
    for (i = 0; i < 5; i++) {
        pisync_event e;

        pisync_event_init(&e, device, base + i * 60000, (uint32_t)i, (uint32_t)(i % 2), 3.5f);
        CHECK(pisync_spool_append(spool, &e, NULL) == PISYNC_OK);
    }
    CHECK_STATUS(pisync_spool_flush(spool, online, &flush_options, &result, &err), PISYNC_OK,
                 &err);
    CHECK(result.accepted == 0 && result.duplicates == 5 && result.remaining == 0);
    CHECK_STATUS(pisync_get_history(online, device, 1, 100, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == EVENTS);
    pisync_history_free(&history);

    pisync_spool_close(spool);
    pisync_client_free(online);
    server_cleanup(&server);
    test_remove_dir(dir);
}

void test_integration_shutdown_notice(void)
{
    static const char *const idle_args[] = {"--idle-timeout", "1", NULL};
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    if (bin == NULL)
        return;
    /* The idle timeout: the server closes the quiet connection, and the next call reconnects
       without failing. */
    REQUIRE(server_start(&server, bin, idle_args) == 0);
    client = connect_to(server.address);
    REQUIRE(client != NULL);
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    pisync_sleep_ms(2500);
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);

    /* Shutdown: the server's id 0 UNAVAILABLE notice closes the connection; with the
       server gone, the next call cannot connect, and that is retryable. */
    server_stop(&server);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_CONNECT);
    CHECK(pisync_error_is_retryable(&err));
    pisync_client_free(client);
    server_cleanup(&server);
}
