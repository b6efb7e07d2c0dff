/*
 * test_integration_tls.c - TLS against the real server (PISYNC_SERVER_BIN serve --tls-cert
 * --tls-key [--tls-client-ca]), with the certificates of tls_certs.sh (PISYNC_TEST_CERTS):
 * records and reads over TLS by address and by name, mutual TLS (the certificate names the
 * device), and the TLS client against the plain server. Compiled with TLS=1 only; skipped
 * like the other integration tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pisync_internal.h"
#include "server_process.h"
#include "test.h"

/* The CN and DNS SAN of tls_certs.sh's client certificate. */
#define CERT_DEVICE "c-tls-device"

typedef struct {
    char ca[4200], server[4200], server_key[4200], client[4200], client_key[4200];
} tls_files;

static int tls_files_get(tls_files *f)
{
    const char *dir = getenv("PISYNC_TEST_CERTS");

    if (dir == NULL || dir[0] == '\0') {
        test_failure(__FILE__, __LINE__, "PISYNC_TEST_CERTS is not set: run make test TLS=1");
        return -1;
    }
    snprintf(f->ca, sizeof f->ca, "%s/ca.pem", dir);
    snprintf(f->server, sizeof f->server, "%s/server.pem", dir);
    snprintf(f->server_key, sizeof f->server_key, "%s/server.key", dir);
    snprintf(f->client, sizeof f->client, "%s/client.pem", dir);
    snprintf(f->client_key, sizeof f->client_key, "%s/client.key", dir);
    return 0;
}

/* A TLS client verifying against the test CA, with the client certificate when
   `with_cert`. */
static pisync_client *tls_client(const char *address, const tls_files *f, int with_cert)
{
    pisync_client_options options;
    pisync_client *client = NULL;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = 10000;
    options.tls.enabled = 1;
    options.tls.ca_file = f->ca;
    if (with_cert) {
        options.tls.cert_file = f->client;
        options.tls.key_file = f->client_key;
    }
    if (pisync_client_new(&options, &client, NULL) != PISYNC_OK)
        return NULL;
    return client;
}

/* "localhost:PORT" for "127.0.0.1:PORT". */
static void by_name(const char *address, char *out, size_t size)
{
    snprintf(out, size, "localhost:%s", strrchr(address, ':') + 1);
}

/* Records two events over TLS, one connection by address and one by name, and reads them
   back. */
static void check_round_trip(const char *address, const tls_files *f)
{
    pisync_client *client = tls_client(address, f, 0);
    pisync_history history;
    pisync_ping_result ping;
    pisync_event event;
    pisync_error err;
    char device[64], named[80];

    REQUIRE(client != NULL);
    snprintf(device, sizeof device, "c-tls-%ld", (long)getpid());
    pisync_event_init(&event, device, pisync_now_ms() - 60000, 5, 0, 4.0f);
    CHECK_STATUS(pisync_record(client, &event, NULL, &err), PISYNC_OK, &err);
    pisync_client_free(client);

    by_name(address, named, sizeof named);
    client = tls_client(named, f, 0);
    REQUIRE(client != NULL);
    pisync_event_init(&event, device, pisync_now_ms() - 30000, 6, 1, 4.0f);
    CHECK_STATUS(pisync_record(client, &event, NULL, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_get_history(client, device, 1, 10, &history, &err), PISYNC_OK, &err);
    CHECK(history.total == 2);
    pisync_history_free(&history);
    CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    pisync_client_free(client);
}

/* A plain client at the TLS port: refused at once, not left waiting. */
static void check_plain_client_refused(const char *address)
{
    pisync_client_options options;
    pisync_client *client = NULL;
    pisync_ping_result ping;
    pisync_error err;
    int64_t started;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.io_timeout_ms = 5000;
    REQUIRE(pisync_client_new(&options, &client, NULL) == PISYNC_OK);
    started = pisync_monotonic_ms();
    CHECK(pisync_ping(client, &ping, &err) != PISYNC_OK);
    CHECK(pisync_monotonic_ms() - started < 4000);
    test_note("a plain client at the TLS port: %s", err.message);
    pisync_client_free(client);
}

void test_integration_tls_round_trip(void)
{
    const char *bin = test_server_bin();
    const char *args[] = {"--tls-cert", NULL, "--tls-key", NULL, NULL};
    server_process server;
    tls_files f;

    if (bin == NULL || tls_files_get(&f) != 0)
        return;
    args[1] = f.server;
    args[3] = f.server_key;
    REQUIRE(server_start(&server, bin, args) == 0);
    check_round_trip(server.address, &f);
    check_plain_client_refused(server.address);
    server_cleanup(&server);
}

void test_integration_tls_mutual(void)
{
    const char *bin = test_server_bin();
    const char *args[] = {"--tls-cert", NULL, "--tls-key", NULL, "--tls-client-ca", NULL, NULL};
    server_process server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_event event;
    pisync_error err;
    tls_files f;

    if (bin == NULL || tls_files_get(&f) != 0)
        return;
    args[1] = f.server;
    args[3] = f.server_key;
    args[5] = f.ca;
    REQUIRE(server_start(&server, bin, args) == 0);

    /* The certificate names the device: it records that device's events, no other's. */
    client = tls_client(server.address, &f, 1);
    if (client != NULL) {
        pisync_event_init(&event, CERT_DEVICE, pisync_now_ms() - 60000, 1, 0, 1.0f);
        CHECK_STATUS(pisync_record(client, &event, NULL, &err), PISYNC_OK, &err);
        pisync_event_init(&event, "c-tls-someone-else", pisync_now_ms() - 60000, 1, 0, 1.0f);
        CHECK(pisync_record(client, &event, NULL, &err) == PISYNC_ERR_SERVER);
        CHECK(err.code == PISYNC_CODE_PERMISSION_DENIED);
        pisync_client_free(client);
    }
    CHECK(client != NULL);

    /* Without a certificate (and without a token) the server has nothing to go by. */
    client = tls_client(server.address, &f, 0);
    if (client != NULL) {
        CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_SERVER);
        CHECK(err.code == PISYNC_CODE_UNAUTHENTICATED && !pisync_error_is_retryable(&err));
        pisync_client_free(client);
    }
    CHECK(client != NULL);
    server_cleanup(&server);
}

void test_integration_tls_client_against_plain_server(void)
{
    const char *bin = test_server_bin();
    server_process server;
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;
    tls_files f;
    int64_t started;

    if (bin == NULL || tls_files_get(&f) != 0)
        return;
    REQUIRE(server_start(&server, bin, NULL) == 0);
    client = tls_client(server.address, &f, 0);
    if (client != NULL) {
        started = pisync_monotonic_ms();
        CHECK(pisync_ping(client, &ping, &err) == PISYNC_ERR_TLS);
        CHECK(pisync_monotonic_ms() - started < 1500 && !pisync_error_is_retryable(&err));
        test_note("TLS client, plain server: %s", err.message);
        pisync_client_free(client);
    }
    CHECK(client != NULL);
    server_cleanup(&server);
}
