/*
 * test_integration_auth.c - tokens against the real server (PISYNC_SERVER_BIN) with auth
 * on: what a device token may do, a tampered token, a client without one, reconnecting,
 * and a token given to a server with auth off. Skipped like the other integration tests.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pisync_internal.h"
#include "server_process.h"
#include "test.h"

static pisync_client *client_for(const char *address, const char *token)
{
    pisync_client_options options;
    pisync_client *client = NULL;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = 10000;
    options.token = token;
    if (pisync_client_new(&options, &client, NULL) != PISYNC_OK)
        return NULL;
    return client;
}

/* What a device token may do: record its own device, and nothing else but Ping. It
   authenticates again on every new connection. */
static void check_device_token(const char *address, const char *device, const char *token)
{
    pisync_client *client = client_for(address, token);
    pisync_auth_info auth;
    pisync_ping_result ping;
    pisync_history history;
    pisync_event event;
    pisync_error err;
    int64_t base = pisync_now_ms() - 60000;

    REQUIRE(client != NULL);
    CHECK_STATUS(pisync_connect(client, &err), PISYNC_OK, &err);
    pisync_get_auth_info(client, &auth);
    CHECK(auth.authenticated && auth.auth_required);
    CHECK(strcmp(auth.role, "device") == 0 && strcmp(auth.name, device) == 0);
    pisync_event_init(&event, device, base, 3, 0, 2.5f);
    CHECK_STATUS(pisync_record(client, &event, NULL, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    CHECK(ping.auth_required);

    pisync_event_init(&event, "c-auth-someone-else", base, 3, 0, 2.5f);
    CHECK(pisync_record(client, &event, NULL, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_PERMISSION_DENIED && strcmp(err.field, "device_id") == 0);
    CHECK(!pisync_error_is_retryable(&err));
    CHECK(pisync_get_history(client, device, 1, 10, &history, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_PERMISSION_DENIED);

    /* A new connection is authenticated again before the record goes out. */
    pisync_disconnect(client);
    pisync_event_init(&event, device, base + 1000, 4, 0, 2.5f);
    CHECK_STATUS(pisync_record(client, &event, NULL, &err), PISYNC_OK, &err);
    pisync_client_free(client);
}

/* No token, and a tampered one: both are UNAUTHENTICATED and not retryable. */
static void check_refusals(const char *address, const char *token)
{
    pisync_client *client = client_for(address, NULL);
    pisync_ping_result ping;
    pisync_error err;
    char tampered[512];
    size_t len = strlen(token);

    REQUIRE(client != NULL);
    CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_UNAUTHENTICATED && !pisync_error_is_retryable(&err));
    pisync_client_free(client);

    REQUIRE(len > 10 && len < sizeof tampered);
    memcpy(tampered, token, len + 1);
    /* One character in the middle of the MAC, where all its 6 bits count. */
    tampered[len - 10] = tampered[len - 10] == 'A' ? 'g' : 'A';
    client = client_for(address, tampered);
    REQUIRE(client != NULL);
    CHECK(pisync_connect(client, &err) == PISYNC_ERR_SERVER);
    CHECK(err.code == PISYNC_CODE_UNAUTHENTICATED && strcmp(err.field, "token") == 0);
    CHECK(!pisync_error_is_retryable(&err) && !pisync_is_connected(client));
    pisync_client_free(client);
}

/* An operator token reads the device's history: both records arrived. */
static void check_operator_reads(const char *address, const char *device, const char *token)
{
    pisync_client *client = client_for(address, token);
    pisync_auth_info auth;
    pisync_history history;
    pisync_error err;

    REQUIRE(client != NULL);
    CHECK_STATUS(pisync_get_history(client, device, 1, 10, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 2);
    pisync_history_free(&history);
    pisync_get_auth_info(client, &auth);
    CHECK(strcmp(auth.role, "operator") == 0 && strcmp(auth.name, "c-test-operator") == 0);
    pisync_client_free(client);
}

void test_integration_auth_tokens(void)
{
    const char *bin = test_server_bin();
    const char *args[] = {"--auth-secret-file", NULL, NULL};
    server_process server;
    char device[64], device_token[512], operator_token[512], secret[4200];
    char *dir;

    if (bin == NULL)
        return;
    dir = test_temp_dir();
    REQUIRE(dir != NULL);
    snprintf(device, sizeof device, "c-auth-%ld", (long)getpid());
    CHECK(server_write_secret(dir, secret, sizeof secret) == 0);
    CHECK(server_mint_token(bin, dir, "--device", device, device_token,
                            sizeof device_token) == 0);
    CHECK(server_mint_token(bin, dir, "--operator", "c-test-operator", operator_token,
                            sizeof operator_token) == 0);
    args[1] = secret;
    if (server_start(&server, bin, args) == 0) {
        check_device_token(server.address, device, device_token);
        check_refusals(server.address, device_token);
        check_operator_reads(server.address, device, operator_token);
        server_cleanup(&server);
    } else {
        CHECK(!"the server with auth on did not start");
    }
    test_remove_dir(dir);
}

void test_integration_auth_off_accepts_token(void)
{
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *client;
    pisync_auth_info auth;
    pisync_ping_result ping;
    pisync_error err;

    if (bin == NULL)
        return;
    REQUIRE(server_start(&server, bin, NULL) == 0);
    client = client_for(server.address, "pisync1.k1.device.ZGV2.not-checked-when-auth-is-off");
    if (client != NULL) {
        CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
        CHECK(!ping.auth_required);
        pisync_get_auth_info(client, &auth);
        CHECK(auth.authenticated && !auth.auth_required && auth.role[0] == '\0');
        pisync_client_free(client);
    }
    CHECK(client != NULL);
    server_cleanup(&server);
}
