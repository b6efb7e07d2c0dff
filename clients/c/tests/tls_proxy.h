/*
 * tls_proxy.h - a TLS-terminating proxy for the TLS tests (make test TLS=1): a child
 * process that accepts TLS connections on 127.0.0.1 with a certificate (and, for mutual
 * TLS, requires a client certificate signed by a CA), and relays each one, after its
 * handshake, to a plain backend: a scripted fake server or the real server. Connections
 * are served one after another.
 */
#ifndef PISYNC_TLS_PROXY_H
#define PISYNC_TLS_PROXY_H

#include <sys/types.h>

typedef struct {
    pid_t pid;
    char address[64]; /* "127.0.0.1:PORT" */
} tls_proxy;

/* `backend` is "127.0.0.1:PORT"; `client_ca` is NULL for no client certificates. Returns 0
   once the proxy listens. */
int tls_proxy_start(tls_proxy *proxy, const char *backend, const char *cert, const char *key,
                    const char *client_ca);
void tls_proxy_stop(tls_proxy *proxy);

#endif
