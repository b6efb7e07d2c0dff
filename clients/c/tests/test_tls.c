/*
 * test_tls.c - TLS. Built with TLS=1: the client through a TLS proxy (tls_proxy.c) in front
 * of scripted servers, with the throwaway certificates of tls_certs.sh (PISYNC_TEST_CERTS):
 * a round trip with Authenticate first and a reconnect, certificates that do not verify,
 * mutual TLS, files that do not load, and plain servers that do not speak TLS (a clear
 * error, no hang). Built without: asking for TLS is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_server.h"
#include "test.h"

#ifndef PISYNC_TLS

void test_tls_not_built_in(void)
{
    pisync_client_options options;
    pisync_client *client;
    pisync_error err;

    CHECK(!pisync_tls_supported());
    memset(&options, 0, sizeof options);
    options.tls.enabled = 1;
    CHECK(pisync_client_new(&options, &client, &err) == PISYNC_ERR_ARGUMENT);
    CHECK(client == NULL && strstr(err.message, "make TLS=1") != NULL);
}

#else

#include "tls_proxy.h"

#define TOKEN "pisync1.k1.device.ZGV2LTE.dGxzLXRlc3QtdG9rZW4"

/* DIR/name of the test certificates, or NULL (a failure) without PISYNC_TEST_CERTS. */
static const char *cert(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("PISYNC_TEST_CERTS");

    if (dir == NULL || dir[0] == '\0') {
        test_failure(__FILE__, __LINE__, "PISYNC_TEST_CERTS is not set: run make test TLS=1");
        return NULL;
    }
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* The paths of one test's certificates. */
typedef struct {
    char ca[4200], other_ca[4200], server[4200], server_key[4200], client[4200],
        client_key[4200];
} cert_paths;

static int cert_paths_get(cert_paths *p)
{
    return cert("ca.pem", p->ca, sizeof p->ca) &&
                   cert("other-ca.pem", p->other_ca, sizeof p->other_ca) &&
                   cert("server.pem", p->server, sizeof p->server) &&
                   cert("server.key", p->server_key, sizeof p->server_key) &&
                   cert("client.pem", p->client, sizeof p->client) &&
                   cert("client.key", p->client_key, sizeof p->client_key)
               ? 0
               : -1;
}

static pisync_client *tls_client(const char *address, const pisync_tls_options *tls,
                                 const char *token, pisync_error *err)
{
    pisync_client_options options;
    pisync_client *client = NULL;

    memset(&options, 0, sizeof options);
    options.server = address;
    options.connect_timeout_ms = 1000;
    options.io_timeout_ms = 5000;
    options.token = token;
    options.tls = *tls;
    options.tls.enabled = 1;
    if (pisync_client_new(&options, &client, err) != PISYNC_OK)
        return NULL;
    return client;
}

/* ---- backends ---- */

/* Answers pings on `*(int *)context` connections, one after another. */
static int ping_backend(int listen_fd, void *context)
{
    int connections = *(int *)context;
    int i;

    for (i = 0; i < connections; i++) {
        fake_conn conn;
        Pisync__V1__Request *r;
        int ok = 1;

        if (fake_accept(listen_fd, &conn) != 0)
            return 1;
        while (ok && (r = fake_read_request(&conn)) != NULL) {
            ok = r->call_case == PISYNC__V1__REQUEST__CALL_PING &&
                 fake_send_ping(&conn, r->id, "tls-backend") == 0;
            pisync__v1__request__free_unpacked(r, NULL);
        }
        fake_close(&conn);
        if (!ok)
            return 1;
    }
    return 0;
}

/* Reads request `id`, checks its call, answers an Authenticate or a Ping. */
static int answer(fake_conn *conn, uint64_t id, Pisync__V1__Request__CallCase call)
{
    Pisync__V1__Request *r = fake_read_request(conn);
    int ok = r != NULL && r->id == id && r->call_case == call;

    if (r != NULL)
        pisync__v1__request__free_unpacked(r, NULL);
    if (!ok)
        return -1;
    if (call == PISYNC__V1__REQUEST__CALL_AUTHENTICATE)
        return fake_send_authenticate(conn, id, "device", "dev-1", 1);
    return fake_send_ping(conn, id, "tls-backend");
}

/* Two connections, each opened with Authenticate; the first is closed for idleness. */
static int auth_backend(int listen_fd, void *context)
{
    fake_conn conn;
    int ok;

    (void)context;
    ok = fake_accept(listen_fd, &conn) == 0 &&
         answer(&conn, 1, PISYNC__V1__REQUEST__CALL_AUTHENTICATE) == 0 &&
         answer(&conn, 2, PISYNC__V1__REQUEST__CALL_PING) == 0 &&
         fake_send_error(&conn, 0, 14, "", "idle timeout") == 0;
    fake_close(&conn);
    ok = ok && fake_accept(listen_fd, &conn) == 0 &&
         answer(&conn, 3, PISYNC__V1__REQUEST__CALL_AUTHENTICATE) == 0 &&
         answer(&conn, 4, PISYNC__V1__REQUEST__CALL_PING) == 0 && fake_wait_eof(&conn) == 0;
    fake_close(&conn);
    return ok ? 0 : 1;
}

/* A fake backend behind a TLS proxy. Returns 0 when both started. */
static int start_behind_proxy(fake_server *backend, tls_proxy *proxy, fake_script script,
                              void *context, const cert_paths *p, const char *client_ca)
{
    if (fake_server_start(backend, script, context) != 0)
        return -1;
    return tls_proxy_start(proxy, backend->address, p->server, p->server_key, client_ca);
}

/* ---- tests ---- */

void test_tls_round_trip_and_reconnect(void)
{
    cert_paths p;
    fake_server backend;
    tls_proxy proxy;
    pisync_tls_options tls = {0};
    pisync_client *client;
    pisync_ping_result ping;
    pisync_auth_info auth;
    pisync_error err;

    CHECK(pisync_tls_supported());
    REQUIRE(cert_paths_get(&p) == 0);
    REQUIRE(start_behind_proxy(&backend, &proxy, auth_backend, NULL, &p, NULL) == 0);
    tls.ca_file = p.ca;
    client = tls_client(proxy.address, &tls, TOKEN, &err); /* 127.0.0.1: an IP SAN */
    if (client != NULL) {
        CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
        CHECK(strcmp(ping.version, "tls-backend") == 0);
        pisync_get_auth_info(client, &auth);
        CHECK(auth.authenticated && strcmp(auth.name, "dev-1") == 0);
        pisync_sleep_ms(300); /* the idle notice and the close arrive meanwhile */
        CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err); /* a new handshake */
        pisync_client_free(client);
    }
    CHECK(client != NULL);
    CHECK(fake_server_finish(&backend) == 0);
    tls_proxy_stop(&proxy);
}

void test_tls_certificate_must_verify(void)
{
    int connections = 1; /* only the verified client gets through to the backend */
    cert_paths p;
    fake_server backend;
    tls_proxy proxy;
    pisync_tls_options tls = {0};
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;
    char localhost[80];

    REQUIRE(cert_paths_get(&p) == 0);
    REQUIRE(start_behind_proxy(&backend, &proxy, ping_backend, &connections, &p, NULL) == 0);

    tls.ca_file = p.other_ca; /* a CA that did not sign the server's certificate */
    client = tls_client(proxy.address, &tls, NULL, &err);
    CHECK(client != NULL && pisync_ping(client, &ping, &err) == PISYNC_ERR_TLS);
    CHECK(strstr(err.message, "does not verify") != NULL && !pisync_error_is_retryable(&err));
    test_note("other CA: %s", err.message);
    pisync_client_free(client);

    tls.ca_file = p.ca;
    tls.server_name = "pisync.example.org"; /* not the name in the certificate */
    client = tls_client(proxy.address, &tls, NULL, &err);
    CHECK(client != NULL && pisync_ping(client, &ping, &err) == PISYNC_ERR_TLS);
    CHECK(strstr(err.message, "hostname mismatch") != NULL);
    pisync_client_free(client);

    tls.server_name = NULL; /* the host, here a DNS name, also sent as SNI */
    snprintf(localhost, sizeof localhost, "localhost:%s", strrchr(proxy.address, ':') + 1);
    client = tls_client(localhost, &tls, NULL, &err);
    CHECK(client != NULL);
    if (client != NULL)
        CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    pisync_client_free(client);
    CHECK(fake_server_finish(&backend) == 0);
    tls_proxy_stop(&proxy);
}

void test_tls_mutual(void)
{
    int connections = 1;
    cert_paths p;
    fake_server backend;
    tls_proxy proxy;
    pisync_tls_options tls = {0};
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;

    REQUIRE(cert_paths_get(&p) == 0);
    REQUIRE(start_behind_proxy(&backend, &proxy, ping_backend, &connections, &p, p.ca) == 0);
    tls.ca_file = p.ca;
    client = tls_client(proxy.address, &tls, NULL, &err); /* no client certificate */
    CHECK(client != NULL && pisync_ping(client, &ping, &err) == PISYNC_ERR_TLS);
    CHECK(!pisync_error_is_retryable(&err) && !pisync_is_connected(client));
    CHECK(strstr(err.message, "asks for a client certificate") != NULL);
    test_note("without a client certificate: %s", err.message);
    pisync_client_free(client);

    tls.cert_file = p.client;
    tls.key_file = p.client_key;
    client = tls_client(proxy.address, &tls, NULL, &err);
    CHECK(client != NULL);
    if (client != NULL)
        CHECK_STATUS(pisync_ping(client, &ping, &err), PISYNC_OK, &err);
    pisync_client_free(client);
    CHECK(fake_server_finish(&backend) == 0);
    tls_proxy_stop(&proxy);
}

void test_tls_setup_files_must_load(void)
{
    cert_paths p;
    pisync_tls_options tls = {0};
    pisync_error err;

    REQUIRE(cert_paths_get(&p) == 0);
    tls.ca_file = "/nonexistent/ca.pem";
    CHECK(tls_client("127.0.0.1:1", &tls, NULL, &err) == NULL);
    CHECK(err.status == PISYNC_ERR_TLS && strstr(err.message, "cannot load the CA file") != NULL);
    tls.ca_file = p.ca;
    tls.cert_file = p.client;
    tls.key_file = p.server_key; /* another certificate's key */
    CHECK(tls_client("127.0.0.1:1", &tls, NULL, &err) == NULL);
    CHECK(err.status == PISYNC_ERR_TLS && strstr(err.message, "mismatch") != NULL);
    test_note("another certificate's key: %s", err.message);
    tls.cert_file = NULL;
    CHECK(tls_client("127.0.0.1:1", &tls, NULL, &err) == NULL);
    CHECK(err.status == PISYNC_ERR_ARGUMENT);
}

/* A plain server: answers what it cannot read as a Request with an id 0 error, as the
   real one does, and keeps the connection open (context NULL), or says nothing at all. */
static int plain_backend(int listen_fd, void *context)
{
    fake_conn conn;
    uint8_t buf[512];
    int ok;

    if (fake_accept(listen_fd, &conn) != 0)
        return 1;
    ok = read(conn.fd, buf, sizeof buf) > 0 &&
         (context != NULL ||
          fake_send_error(&conn, 0, 3, "", "the frame is not a pisync.v1.Request") == 0);
    /* The client closes with our answer unread, which may reset the connection. */
    (void)fake_wait_eof(&conn);
    fake_close(&conn);
    return ok ? 0 : 1;
}

void test_tls_against_plain_server_fails_cleanly(void)
{
    static int silent = 1;
    cert_paths p;
    fake_server server;
    pisync_tls_options tls = {0};
    pisync_client *client;
    pisync_ping_result ping;
    pisync_error err;
    int64_t started, elapsed;

    REQUIRE(cert_paths_get(&p) == 0);
    tls.ca_file = p.ca;
    REQUIRE(fake_server_start(&server, plain_backend, NULL) == 0);
    client = tls_client(server.address, &tls, NULL, &err);
    started = pisync_monotonic_ms();
    CHECK(client != NULL && pisync_ping(client, &ping, &err) == PISYNC_ERR_TLS);
    elapsed = pisync_monotonic_ms() - started;
    test_note("answered in plain: %s (%lld ms)", err.message, (long long)elapsed);
    CHECK(strstr(err.message, "TLS handshake") != NULL && elapsed < 1500);
    CHECK(!pisync_error_is_retryable(&err));
    pisync_client_free(client);
    CHECK(fake_server_finish(&server) == 0);

    /* A server that says nothing: the handshake gives up at the connect timeout. */
    REQUIRE(fake_server_start(&server, plain_backend, &silent) == 0);
    client = tls_client(server.address, &tls, NULL, &err);
    started = pisync_monotonic_ms();
    CHECK(client != NULL && pisync_ping(client, &ping, &err) == PISYNC_ERR_TIMEOUT);
    elapsed = pisync_monotonic_ms() - started;
    test_note("silent: %s (%lld ms)", err.message, (long long)elapsed);
    CHECK(elapsed >= 900 && elapsed < 3000 && strstr(err.message, "TLS handshake") != NULL);
    pisync_client_free(client);
    CHECK(fake_server_finish(&server) == 0);
}

#endif /* PISYNC_TLS */
