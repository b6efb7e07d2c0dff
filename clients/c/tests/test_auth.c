/*
 * test_auth.c - the client's token against scripted servers: Authenticate is the first
 * request of every connection (after a retry's reconnect and after an idle close too), a
 * refused token fails at once and is not retried, and tokens that cannot be one are
 * refused before anything is sent.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "fake_server.h"
#include "test.h"

#define TOKEN "pisync1.k1.device.ZGV2LTE.bWFjLW9mLXRoZS10ZXN0LXRva2VuLW5vdC1hLXJlYWwtb25l"

static pisync_client *client_with_token(const char *address, const char *token)
{
    pisync_client_options options;
    pisync_client *client = NULL;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = 5000;
    options.token = token;
    if (pisync_client_new(&options, &client, NULL) != PISYNC_OK)
        return NULL;
    return client;
}

/* Reads the next request and checks that it is Authenticate `id` with TOKEN. Returns 0
   when it is. */
static int expect_authenticate(fake_conn *conn, uint64_t id)
{
    Pisync__V1__Request *r = fake_read_request(conn);
    int ok = r != NULL && r->id == id && r->call_case == PISYNC__V1__REQUEST__CALL_AUTHENTICATE &&
             strcmp(r->authenticate->token, TOKEN) == 0;

    if (r != NULL && !ok)
        fprintf(stderr, "    fake server: request %llu (call %d) where Authenticate %llu was "
                        "expected\n",
                (unsigned long long)r->id, (int)r->call_case, (unsigned long long)id);
    if (r != NULL)
        pisync__v1__request__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* Reads the next request and checks its id and call. Returns 0 when they match. */
static int expect_call(fake_conn *conn, uint64_t id, Pisync__V1__Request__CallCase call)
{
    Pisync__V1__Request *r = fake_read_request(conn);
    int ok = r != NULL && r->id == id && r->call_case == call;

    if (r != NULL)
        pisync__v1__request__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* Accepts a connection and answers its Authenticate `id` as a device token for dev-1. */
static int accept_authenticated(int listen_fd, fake_conn *conn, uint64_t id)
{
    if (fake_accept(listen_fd, conn) != 0)
        return -1;
    return expect_authenticate(conn, id) == 0 &&
                   fake_send_authenticate(conn, id, "device", "dev-1", 1) == 0
               ? 0
               : -1;
}

/* Three connections, each opened with Authenticate: the first answers the RecordSync
   with UNAVAILABLE (the retry helper reconnects), the second acknowledges it and then
   closes for idleness, the third answers a ping. */
static int three_connections_script(int listen_fd, void *context)
{
    fake_conn conn;
    int ok;

    (void)context;
    ok = accept_authenticated(listen_fd, &conn, 1) == 0 &&
         expect_call(&conn, 2, PISYNC__V1__REQUEST__CALL_RECORD_SYNC) == 0 &&
         fake_send_error(&conn, 2, 14, "", "log write failed: disk full") == 0 &&
         fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    ok = ok && accept_authenticated(listen_fd, &conn, 3) == 0 &&
         expect_call(&conn, 4, PISYNC__V1__REQUEST__CALL_RECORD_SYNC) == 0 &&
         fake_send_record(&conn, 4, 1, 0, NULL, 0) == 0 &&
         fake_send_error(&conn, 0, 14, "", "idle timeout") == 0;
    fake_close(&conn);
    ok = ok && accept_authenticated(listen_fd, &conn, 5) == 0 &&
         expect_call(&conn, 6, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_ping(&conn, 6, "v") == 0 && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

static pisync_status record_attempt(pisync_client *client, void *context, pisync_error *err)
{
    return pisync_record(client, context, NULL, err);
}

void test_auth_first_on_every_connection(void)
{
    pisync_retry_policy policy = {3, 1, 1, 1};
    fake_server server;
    pisync_client *client;
    pisync_auth_info auth;
    pisync_ping_result ping;
    pisync_event event;
    pisync_error err;

    REQUIRE(fake_server_start(&server, three_connections_script, NULL) == 0);
    client = client_with_token(server.address, TOKEN);
    REQUIRE(client != NULL);
    pisync_get_auth_info(client, &auth);
    CHECK(!auth.authenticated); /* not connected yet */
    pisync_event_init(&event, "dev-1", 1700000000000LL, 1, 0, 1.0f);
    CHECK_STATUS(pisync_retry(client, &policy, record_attempt, &event, &err), PISYNC_OK, &err);
    pisync_get_auth_info(client, &auth);
    CHECK(auth.authenticated && auth.auth_required);
    CHECK(strcmp(auth.role, "device") == 0 && strcmp(auth.name, "dev-1") == 0);
    pisync_sleep_ms(300); /* the idle notice and the close arrive meanwhile */
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    pisync_client_free(client);
    CHECK(fake_server_finish(&server) == 0);
}

/* Refuses the token as the real server does, then checks that no other request came on
   that connection and that the client does not come back. */
static int refusing_script(int listen_fd, void *context)
{
    struct pollfd pfd;
    fake_conn conn;
    int ok;

    (void)context;
    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = expect_authenticate(&conn, 1) == 0 &&
         fake_send_error(&conn, 1, 16, "token", "token refused: bad signature") == 0 &&
         fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    pfd.fd = listen_fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return ok && poll(&pfd, 1, 300) == 0 ? 0 : 1;
}

static pisync_status counting_ping(pisync_client *client, void *context, pisync_error *err)
{
    pisync_ping_result ping;

    (*(int *)context)++;
    return pisync_ping(client, &ping, err);
}

void test_auth_refused_token_is_not_retried(void)
{
    pisync_retry_policy policy = {5, 1, 1, 1};
    fake_server server;
    pisync_client *client;
    pisync_error err;
    int attempts = 0;
    char text[512];

    REQUIRE(fake_server_start(&server, refusing_script, NULL) == 0);
    client = client_with_token(server.address, TOKEN);
    REQUIRE(client != NULL);
    CHECK(pisync_retry(client, &policy, counting_ping, &attempts, &err) == PISYNC_ERR_SERVER);
    CHECK(attempts == 1);
    CHECK(err.code == PISYNC_CODE_UNAUTHENTICATED && strcmp(err.field, "token") == 0);
    CHECK(!err.connection_notice && !pisync_error_is_retryable(&err));
    CHECK(strstr(pisync_error_format(&err, text, sizeof text),
                 "UNAUTHENTICATED (16) [token]: token refused") != NULL);
    CHECK(!pisync_is_connected(client));
    pisync_client_free(client);
    CHECK(fake_server_finish(&server) == 0);
}

void test_auth_bad_tokens_refused_locally(void)
{
    static const char *const bad[] = {"two words", "line\nbreak", "tab\there", "caf\xc3\xa9"};
    pisync_client_options options;
    pisync_client *client;
    pisync_error err;
    char long_token[5000];
    size_t i;

    memset(&options, 0, sizeof options);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        options.token = bad[i];
        CHECK(pisync_client_new(&options, &client, &err) == PISYNC_ERR_ARGUMENT);
        CHECK(client == NULL && strstr(err.message, "not a pisync token") != NULL);
        /* The token may be a secret: the message does not repeat it. */
        CHECK(strstr(err.message, bad[i]) == NULL);
    }
    memset(long_token, 'a', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    options.token = long_token;
    CHECK(pisync_client_new(&options, &client, &err) == PISYNC_ERR_ARGUMENT);
    options.token = ""; /* none: no Authenticate is sent */
    CHECK(pisync_client_new(&options, &client, &err) == PISYNC_OK);
    pisync_client_free(client);
}
