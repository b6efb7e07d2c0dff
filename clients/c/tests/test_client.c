/*
 * test_client.c - the client against scripted fake servers: pipelining and id matching,
 * connection notices, reconnecting, limits and timeouts.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_server.h"
#include "test.h"

static pisync_client *new_client(const char *address, int io_timeout_ms, size_t max_frame)
{
    pisync_client_options options;
    pisync_client *client = NULL;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = io_timeout_ms;
    options.max_frame = max_frame;
    if (pisync_client_new(&options, &client, NULL) != PISYNC_OK)
        return NULL;
    return client;
}

/* Starts a fake server running `script` and returns a client for it, or NULL when the
   client cannot be made (a server that cannot start is recorded as a failure). */
static pisync_client *start_scripted(fake_server *server, fake_script script, int io_timeout_ms,
                                     size_t max_frame)
{
    REQUIRE_OR_RETURN(fake_server_start(server, script, NULL) == 0, NULL);
    return new_client(server->address, io_timeout_ms, max_frame);
}

/* Frees the client (which closes its connection) and checks that the script passed. */
static void finish_scripted(fake_server *server, pisync_client *client)
{
    pisync_client_free(client);
    CHECK(fake_server_finish(server) == 0);
}

/* Reads one request and checks its id and call. Returns the request (or NULL). */
static Pisync__V1__Request *expect_request(fake_conn *conn, uint64_t id,
                                           Pisync__V1__Request__CallCase call)
{
    Pisync__V1__Request *request = fake_read_request(conn);

    if (request != NULL && (request->id != id || request->call_case != call)) {
        pisync__v1__request__free_unpacked(request, NULL);
        return NULL;
    }
    return request;
}

/* Reads one request, checks it, and frees it. Returns 0 when it matched. */
static int skip_request(fake_conn *conn, uint64_t id, Pisync__V1__Request__CallCase call)
{
    Pisync__V1__Request *request = expect_request(conn, id, call);

    if (request == NULL)
        return -1;
    pisync__v1__request__free_unpacked(request, NULL);
    return 0;
}

/* Accepts a connection, answers its ping `id` with `version` and waits for the client to
   close it. Returns 0 when it went so. */
static int serve_one_ping(int listen_fd, uint64_t id, const char *version)
{
    fake_conn conn;
    int ok;

    if (fake_accept(listen_fd, &conn) != 0)
        return -1;
    ok = skip_request(&conn, id, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_ping(&conn, id, version) == 0 && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : -1;
}

/* A one-connection script: reads ping 1, sends `reply` as raw bytes (nothing when `len` is
   0) and, when `wait_eof`, waits for the client to close. Returns 0 when it went so. */
static int reply_raw_to_first_ping(int listen_fd, const uint8_t *reply, size_t len, int wait_eof)
{
    fake_conn conn;
    int ok;

    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = skip_request(&conn, 1, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         (len == 0 || fake_send_bytes(&conn, reply, len) == 0) &&
         (!wait_eof || fake_wait_eof(&conn) == 0);
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_client_bad_server_address(void)
{
    static const char *const bad[] = {"nohost", "host:", ":80", "h:99999", "h:0", "h:8x",
                                      "[::1]80", "[::1"};
    pisync_client_options options;
    pisync_client *client;
    pisync_error err;
    size_t i;

    memset(&options, 0, sizeof options);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        options.server = bad[i];
        CHECK(pisync_client_new(&options, &client, &err) == PISYNC_ERR_ARGUMENT);
        CHECK(client == NULL && err.status == PISYNC_ERR_ARGUMENT);
    }
    options.server = "[::1]:7878";
    CHECK(pisync_client_new(&options, &client, &err) == PISYNC_OK);
    pisync_client_free(client);
    CHECK(pisync_client_new(NULL, &client, &err) == PISYNC_OK); /* the default address */
    CHECK(client != NULL && !pisync_is_connected(client));
    pisync_client_free(client);
}

void test_client_connect_refused(void)
{
    char address[64];
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    unused_address(address, sizeof address);
    client = new_client(address, 1000, 0);
    REQUIRE(client != NULL);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_CONNECT);
    CHECK(err.status == PISYNC_ERR_CONNECT && err.sys_errno != 0);
    CHECK(strstr(err.message, "cannot connect") != NULL);
    CHECK(pisync_error_is_retryable(&err));
    CHECK(!pisync_is_connected(client));
    pisync_client_free(client);
}

/* ---- pipelining ---- */

static int pipelined_script(int listen_fd, void *context)
{
    fake_conn conn;
    Pisync__V1__Request *history, *record;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = skip_request(&conn, 1, PISYNC__V1__REQUEST__CALL_PING) == 0;
    history = expect_request(&conn, 2, PISYNC__V1__REQUEST__CALL_GET_HISTORY);
    record = expect_request(&conn, 3, PISYNC__V1__REQUEST__CALL_RECORD_SYNC);
    ok = ok && history != NULL && record != NULL &&
         strcmp(history->get_history->device_id, "dev-1") == 0 &&
         history->get_history->page == 2 && history->get_history->limit == 5 &&
         strcmp(record->record_sync->device_id, "dev-1") == 0 &&
         record->record_sync->n_events == 2 &&
         strcmp(record->record_sync->events[0]->device_id, "") == 0;
    if (history != NULL)
        pisync__v1__request__free_unpacked(history, NULL);
    if (record != NULL)
        pisync__v1__request__free_unpacked(record, NULL);
    /* Answers in another order, with a response for an id nobody asked about. */
    ok = ok && fake_send_ping(&conn, 77, "stray") == 0 &&
         fake_send_record(&conn, 3, 1, 1, NULL, 0) == 0 && fake_send_ping(&conn, 1, "fake-1.0") == 0 &&
         fake_send_error(&conn, 2, 5, "device_id", "device dev-1 has no events") == 0 &&
         fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_client_pipelined_out_of_order(void)
{
    fake_server server;
    pisync_client *client;
    pisync_event events[2];
    uint64_t ping_id, history_id, record_id;
    pisync_ping_result ping;
    pisync_history history;
    pisync_record_result record;
    pisync_error err;

    client = start_scripted(&server, pipelined_script, 5000, 0);
    REQUIRE(client != NULL);
    pisync_event_init(&events[0], "dev-1", 1700000000000LL, 1, 0, 1.0f);
    pisync_event_init(&events[1], "dev-1", 1700000000001LL, 1, 0, 1.0f);
    CHECK_STATUS(pisync_send_ping(client, &ping_id, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_send_get_history(client, "dev-1", 2, 5, &history_id, &err), PISYNC_OK,
                 &err);
    CHECK_STATUS(pisync_send_record_batch(client, "dev-1", events, 2, &record_id, &err),
                 PISYNC_OK, &err);
    CHECK(ping_id == 1 && history_id == 2 && record_id == 3);

    /* Collected in yet another order. */
    CHECK(pisync_wait_history(client, history_id, &history, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 5 && strcmp(err.field, "device_id") == 0 && !err.connection_notice);
    CHECK(strcmp(err.message, "device dev-1 has no events") == 0);
    CHECK(history.events == NULL && history.count == 0);
    CHECK_STATUS(pisync_wait_ping(client, ping_id, &ping, &err), PISYNC_OK, &err);
    CHECK(strcmp(ping.version, "fake-1.0") == 0 && ping.uptime_ms == 1234);
    CHECK_STATUS(pisync_wait_record(client, record_id, &record, &err), PISYNC_OK, &err);
    CHECK(record.accepted == 1 && record.duplicates == 1 && record.rejected_count == 0);
    pisync_record_result_free(&record);
    /* Collected ids are gone; unknown ids are refused. */
    CHECK(pisync_wait_ping(client, ping_id, &ping, &err) == PISYNC_ERR_ARGUMENT);
    CHECK(pisync_is_connected(client));
    finish_scripted(&server, client);
}

/* ---- connection notices and reconnecting ---- */

static int notice_script(int listen_fd, void *context)
{
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = skip_request(&conn, 1, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         skip_request(&conn, 2, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_error(&conn, 0, 14, "", "server is shutting down") == 0;
    fake_close(&conn);
    /* The client comes back on a new connection; ids go on from 3. */
    ok = ok && serve_one_ping(listen_fd, 3, "again") == 0;
    return ok ? 0 : 1;
}

void test_client_id0_notice_fails_all_pending(void)
{
    fake_server server;
    pisync_client *client;
    uint64_t a, b;
    pisync_ping_result ping;
    pisync_error err;

    client = start_scripted(&server, notice_script, 5000, 0);
    REQUIRE(client != NULL);
    CHECK_STATUS(pisync_send_ping(client, &a, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_send_ping(client, &b, &err), PISYNC_OK, &err);
    CHECK(pisync_wait_ping(client, b, &ping, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 14 && err.connection_notice && pisync_error_is_retryable(&err));
    CHECK(strcmp(err.message, "server is shutting down") == 0);
    CHECK(pisync_wait_ping(client, a, &ping, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == 14 && err.connection_notice);
    CHECK(!pisync_is_connected(client));
    /* The next call reconnects by itself. */
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    CHECK(strcmp(ping.version, "again") == 0);
    finish_scripted(&server, client);
}

static int idle_script(int listen_fd, void *context)
{
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    /* What the server does after its idle timeout. */
    ok = fake_send_error(&conn, 0, 14, "", "idle timeout") == 0;
    fake_close(&conn);
    ok = ok && serve_one_ping(listen_fd, 1, "fresh") == 0;
    return ok ? 0 : 1;
}

void test_client_reconnects_after_idle_close(void)
{
    fake_server server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    client = start_scripted(&server, idle_script, 5000, 0);
    REQUIRE(client != NULL);
    CHECK_STATUS(pisync_connect(client, &err), PISYNC_OK, &err);
    pisync_sleep_ms(300); /* the notice and the close arrive while the client is idle */
    /* No call was waiting, so nothing fails: the client notices the closed connection
       before sending and reconnects. */
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    CHECK(strcmp(ping.version, "fresh") == 0);
    finish_scripted(&server, client);
}

static int unknown_result_script(int listen_fd, void *context)
{
    /* Response{id: 1, <field 99>: {}} - a result from a newer protocol version. */
    static const uint8_t future[] = {0x05, 0x08, 0x01, 0x9a, 0x06, 0x00};
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = skip_request(&conn, 1, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_bytes(&conn, future, sizeof future) == 0 &&
         skip_request(&conn, 2, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_ping(&conn, 2, "v") == 0 && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_client_unknown_result_fails_only_that_call(void)
{
    fake_server server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    client = start_scripted(&server, unknown_result_script, 5000, 0);
    REQUIRE(client != NULL);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_PROTOCOL);
    CHECK(pisync_is_connected(client)); /* the connection itself is fine */
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    finish_scripted(&server, client);
}

static int oversized_script(int listen_fd, void *context)
{
    /* A length prefix of 1000 for a client that accepts 64, then a few body bytes. */
    static const uint8_t big[] = {0xe8, 0x07, 0x08, 0x01};

    (void)context;
    return reply_raw_to_first_ping(listen_fd, big, sizeof big, 1);
}

void test_client_response_over_limit(void)
{
    fake_server server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    client = start_scripted(&server, oversized_script, 5000, 64);
    REQUIRE(client != NULL);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_PROTOCOL);
    CHECK(strstr(err.message, "limit") != NULL);
    CHECK(!pisync_is_connected(client)); /* frame boundaries are lost: connection dropped */
    finish_scripted(&server, client);
}

static int silent_script(int listen_fd, void *context)
{
    (void)context;
    return reply_raw_to_first_ping(listen_fd, NULL, 0, 1);
}

void test_client_timeout(void)
{
    fake_server server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;
    int64_t started;
    int64_t elapsed;

    client = start_scripted(&server, silent_script, 300, 0);
    REQUIRE(client != NULL);
    started = pisync_monotonic_ms();
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_TIMEOUT);
    elapsed = pisync_monotonic_ms() - started;
    CHECK(elapsed >= 250 && elapsed < 5000);
    CHECK(pisync_error_is_retryable(&err));
    CHECK(!pisync_is_connected(client));
    finish_scripted(&server, client);
}

static int half_frame_script(int listen_fd, void *context)
{
    static const uint8_t half[] = {0x06, 0x08, 0x01, 0x1a};

    (void)context;
    /* Closes without waiting: the client is left with half a frame. */
    return reply_raw_to_first_ping(listen_fd, half, sizeof half, 0);
}

void test_client_server_closes_mid_frame(void)
{
    fake_server server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    client = start_scripted(&server, half_frame_script, 5000, 0);
    REQUIRE(client != NULL);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_IO);
    CHECK(strstr(err.message, "closed the connection") != NULL);
    CHECK(!pisync_is_connected(client));
    finish_scripted(&server, client);
}
