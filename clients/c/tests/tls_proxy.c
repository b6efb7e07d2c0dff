/*
 * tls_proxy.c - see tls_proxy.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fake_server.h"
#include "tls_proxy.h"

#define IDLE_LIMIT_MS 10000

static SSL_CTX *server_context(const char *cert, const char *key, const char *client_ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return NULL;
    if (client_ca != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
            return NULL;
        SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(client_ca));
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
}

static int connect_backend(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copies bytes both ways until either side closes or both are quiet too long. */
static void pump(SSL *ssl, int client_fd, int backend_fd)
{
    char buf[4096];

    for (;;) {
        struct pollfd fds[2];
        int n;

        fds[0].fd = client_fd;
        fds[1].fd = backend_fd;
        fds[0].events = fds[1].events = POLLIN;
        fds[0].revents = fds[1].revents = 0;
        if (SSL_pending(ssl) == 0 && poll(fds, 2, IDLE_LIMIT_MS) <= 0)
            return;
        if (SSL_pending(ssl) > 0 || fds[0].revents != 0) {
            n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0 || write_all(backend_fd, buf, (size_t)n) != 0)
                return;
        }
        if (fds[1].revents != 0) {
            ssize_t got = read(backend_fd, buf, sizeof buf);

            if (got <= 0 || SSL_write(ssl, buf, (int)got) <= 0)
                return;
        }
    }
}

/* Serves one connection after another until it is killed. */
static void run_proxy(int listen_fd, SSL_CTX *ctx, int backend_port)
{
    for (;;) {
        struct timeval limit = {5, 0};
        int fd = accept(listen_fd, NULL, NULL);
        SSL *ssl;

        if (fd < 0)
            continue;
        /* A client that stops halfway through the handshake does not stall the proxy. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        ssl = SSL_new(ctx);
        if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1) {
            int backend = connect_backend(backend_port);

            if (backend >= 0) {
                pump(ssl, fd, backend);
                close(backend);
            }
            SSL_shutdown(ssl);
        }
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
    }
}

int tls_proxy_start(tls_proxy *proxy, const char *backend, const char *cert, const char *key,
                    const char *client_ca)
{
    const char *colon = strrchr(backend, ':');
    SSL_CTX *ctx;
    int port = 0;
    int listen_fd;

    memset(proxy, 0, sizeof *proxy);
    proxy->pid = -1;
    ctx = server_context(cert, key, client_ca);
    listen_fd = fake_listen(&port);
    if (ctx == NULL || listen_fd < 0 || colon == NULL) {
        SSL_CTX_free(ctx);
        if (listen_fd >= 0)
            close(listen_fd);
        return -1;
    }
    snprintf(proxy->address, sizeof proxy->address, "127.0.0.1:%d", port);
    fflush(NULL);
    proxy->pid = fork();
    if (proxy->pid == 0) {
        run_proxy(listen_fd, ctx, atoi(colon + 1));
        _exit(0);
    }
    SSL_CTX_free(ctx);
    close(listen_fd);
    return proxy->pid > 0 ? 0 : -1;
}

void tls_proxy_stop(tls_proxy *proxy)
{
    int status;

    if (proxy->pid <= 0)
        return;
    kill(proxy->pid, SIGKILL);
    waitpid(proxy->pid, &status, 0);
    proxy->pid = -1;
}
