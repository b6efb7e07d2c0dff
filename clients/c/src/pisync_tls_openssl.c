/*
 * pisync_tls_openssl.c - TLS with OpenSSL, built with `make TLS=1` (pisync_tls_none.c is
 * the default build's stand-in).
 *
 * Each client has an SSL_CTX that holds its CA, its optional client certificate and key,
 * and verification settings: the server's certificate must chain to the CA and carry the
 * expected DNS name or IP address; there is no way to turn that off. Each connection
 * gets an SSL session on the client's non-blocking socket. Its reads and writes go through
 * a small socket BIO of our own that uses send(MSG_NOSIGNAL), so that a closed connection
 * is an error and not a SIGPIPE, as in the plain path; the waiting (poll with a deadline)
 * stays in pisync_connection.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "pisync_internal.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* platforms without it: the application should ignore SIGPIPE */
#endif

/* Our BIO's type: a source/sink with an index that no OpenSSL BIO uses. (A fixed value
   rather than BIO_get_new_index(), which hands out fewer than 128 per process.) */
#define SOCKET_BIO_TYPE (BIO_TYPE_SOURCE_SINK | 0x7f)

struct pisync_tls {
    SSL_CTX *ctx;
    BIO_METHOD *socket_method;
    char name[256];   /* what the server's certificate must name */
    int name_is_ip;
    char server[320]; /* for messages */
    SSL *ssl;         /* the current connection's session, or NULL */
    int healthy;      /* handshake done and no fatal error since: close_notify may be sent */
    int no_cert_sent; /* the server asked for a client certificate, we had none, and it has
                         sent nothing since: its close is probably the refusal */
};

int pisync_tls_supported(void)
{
    return 1;
}

/* ---- errors ---- */

/* The reason of the oldest OpenSSL error queued (usually the root cause), and clears the
   queue. */
static const char *openssl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    if (reason != NULL)
        snprintf(buf, size, "%s", reason);
    else if (e != 0)
        ERR_error_string_n(e, buf, size);
    else
        snprintf(buf, size, "unknown error");
    ERR_clear_error();
    return buf;
}

static pisync_status fail_openssl(pisync_error *err, const char *what, const char *path)
{
    char reason[160];

    return pisync_fail(err, PISYNC_ERR_TLS, 0, "TLS: %s %s: %s", what, path,
                       openssl_reason(reason, sizeof reason));
}

/* ---- the socket BIO ---- */

static int socket_fd(BIO *bio)
{
    return (int)(intptr_t)BIO_get_data(bio);
}

static int socket_write(BIO *bio, const char *data, int len)
{
    ssize_t n;

    BIO_clear_retry_flags(bio);
    do
        n = send(socket_fd(bio), data, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(bio);
    return (int)n;
}

static int socket_read(BIO *bio, char *data, int len)
{
    ssize_t n;

    BIO_clear_retry_flags(bio);
    do
        n = recv(socket_fd(bio), data, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(bio);
    return (int)n;
}

static long socket_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)bio;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing is buffered here */
}

static int socket_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *socket_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(SOCKET_BIO_TYPE, "pisync socket");

    if (m != NULL &&
        (BIO_meth_set_write(m, socket_write) != 1 || BIO_meth_set_read(m, socket_read) != 1 ||
         BIO_meth_set_ctrl(m, socket_ctrl) != 1 || BIO_meth_set_create(m, socket_create) != 1)) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

/* ---- the client's setup ---- */

/* Called during the handshake when the server asks for a client certificate and none is
   set. With TLS 1.3 the server refuses after the handshake: its alert, or a reset that
   overtakes it, comes on the first read, and this tells what it means. */
static int no_client_certificate(SSL *ssl, X509 **cert, EVP_PKEY **key)
{
    pisync_tls *t = SSL_get_app_data(ssl);

    (void)cert;
    (void)key;
    if (t != NULL)
        t->no_cert_sent = 1;
    return 0; /* none */
}

/* An encrypted key would make OpenSSL prompt on the terminal; a device has nobody there. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

static int is_ip_address(const char *name)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static pisync_status load_files(SSL_CTX *ctx, const pisync_tls_options *o, pisync_error *err)
{
    const char *key = o->key_file != NULL ? o->key_file : o->cert_file;

    if (o->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
            return fail_openssl(err, "cannot load the CA file", o->ca_file);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return fail_openssl(err, "cannot load the system's CA store", "");
    }
    if (o->cert_file == NULL) {
        if (o->key_file != NULL)
            return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                               "TLS: a key file without a certificate file");
        return pisync_ok(err);
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
        return fail_openssl(err, "cannot load the certificate file", o->cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        return fail_openssl(err, "cannot use the key file (PEM, unencrypted)", key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail_openssl(err, "the key does not match the certificate in", o->cert_file);
    return pisync_ok(err);
}

pisync_status pisync_tls_new(const pisync_tls_options *o, const char *host, pisync_tls **tls,
                             pisync_error *err)
{
    const char *name = o->server_name != NULL && o->server_name[0] ? o->server_name : host;
    pisync_tls *t;
    pisync_status rc;

    *tls = NULL;
    if (!o->enabled)
        return pisync_ok(err);
    if (strlen(name) >= sizeof t->name)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "TLS: the server name is too long");
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    pisync_copy_string(t->name, sizeof t->name, name);
    t->name_is_ip = is_ip_address(name);
    ERR_clear_error();
    t->ctx = SSL_CTX_new(TLS_client_method());
    t->socket_method = socket_method_new();
    if (t->ctx == NULL || t->socket_method == NULL) {
        pisync_tls_free(t);
        return fail_openssl(err, "cannot set up", "OpenSSL");
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_client_cert_cb(t->ctx, no_client_certificate);
    /* send_all retries a blocked write with the rest of its buffer, wherever it is. */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* A server that closes without close_notify ends the stream like a plain one; the
       framing still tells a cut frame. */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    rc = load_files(t->ctx, o, err);
    if (rc != PISYNC_OK) {
        pisync_tls_free(t);
        return rc;
    }
    *tls = t;
    return pisync_ok(err);
}

void pisync_tls_free(pisync_tls *t)
{
    if (t == NULL)
        return;
    pisync_tls_close(t);
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->socket_method);
    free(t);
}

/* ---- a connection's session ---- */

void pisync_tls_close(pisync_tls *t)
{
    if (t->ssl == NULL)
        return;
    if (t->healthy) {
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl); /* one try; the socket is closed next either way */
    }
    SSL_free(t->ssl); /* frees the BIO too */
    t->ssl = NULL;
    t->healthy = 0;
    t->no_cert_sent = 0;
    ERR_clear_error();
}

/* A new session on `fd`, set to verify the server's name. */
static pisync_status session_new(pisync_tls *t, int fd, pisync_error *err)
{
    BIO *bio;
    int named;

    t->ssl = SSL_new(t->ctx);
    bio = t->ssl != NULL ? BIO_new(t->socket_method) : NULL;
    if (bio == NULL)
        return fail_openssl(err, "cannot start a session with", t->server);
    BIO_set_data(bio, (void *)(intptr_t)fd);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, t);
    if (t->name_is_ip) {
        named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->name);
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        named = SSL_set1_host(t->ssl, t->name) == 1 &&
                SSL_set_tlsext_host_name(t->ssl, t->name) == 1;
    }
    if (named != 1)
        return fail_openssl(err, "cannot verify for the name", t->name);
    SSL_set_connect_state(t->ssl);
    return pisync_ok(err);
}

/* Why SSL_connect failed, as a status: a connection that ended is retryable, a
   certificate that does not verify or a peer that does not speak TLS is not. */
static pisync_status handshake_failure(pisync_tls *t, int error, int saved_errno,
                                       pisync_error *err)
{
    long verify = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_error();
    char reason[160];

    if (error == SSL_ERROR_SYSCALL && saved_errno != 0) {
        ERR_clear_error();
        return pisync_fail(err, PISYNC_ERR_CONNECT, saved_errno,
                           "TLS handshake with %s failed: %s", t->server, strerror(saved_errno));
    }
    if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN ||
        ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return pisync_fail(err, PISYNC_ERR_CONNECT, 0,
                           "%s closed the connection during the TLS handshake", t->server);
    }
    if (verify != X509_V_OK) {
        ERR_clear_error();
        return pisync_fail(err, PISYNC_ERR_TLS, 0,
                           "TLS: the certificate of %s does not verify for %s: %s", t->server,
                           t->name, X509_verify_cert_error_string(verify));
    }
    openssl_reason(reason, sizeof reason);
    return pisync_fail(err, PISYNC_ERR_TLS, 0, "TLS handshake with %s failed: %s%s", t->server,
                       reason,
                       ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
                               ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG
                           ? " (is the server serving TLS?)"
                           : "");
}

pisync_status pisync_tls_handshake(pisync_tls *t, int fd, const char *server, int64_t deadline,
                                   pisync_error *err)
{
    pisync_status rc;

    pisync_tls_close(t);
    pisync_copy_string(t->server, sizeof t->server, server);
    ERR_clear_error();
    rc = session_new(t, fd, err);
    if (rc != PISYNC_OK) {
        pisync_tls_close(t);
        return rc;
    }
    for (;;) {
        int r, error, ready, saved;

        ERR_clear_error();
        errno = 0;
        r = SSL_connect(t->ssl);
        saved = errno;
        if (r == 1) {
            t->healthy = 1;
            return pisync_ok(err);
        }
        error = SSL_get_error(t->ssl, r);
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
            return handshake_failure(t, error, saved, err);
        ready = pisync_wait_fd(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (ready == 0)
            return pisync_fail(err, PISYNC_ERR_TIMEOUT, ETIMEDOUT,
                               "TLS handshake with %s: no answer within the connect timeout",
                               t->server);
        if (ready < 0)
            return pisync_fail(err, PISYNC_ERR_IO, errno, "poll: %s", strerror(errno));
    }
}

/* The connection ended before the server sent anything, after it asked for a client
   certificate that we did not have: say so rather than "reset" or "closed". */
static pisync_status refused_without_certificate(pisync_tls *t, const char *what,
                                                 pisync_error *err)
{
    t->healthy = 0;
    ERR_clear_error();
    return pisync_fail(err, PISYNC_ERR_TLS, 0,
                       "TLS: %s asks for a client certificate (mutual TLS) and none is set; it "
                       "ended the connection (%s)",
                       t->server, what);
}

/* What a read or write that returned `r` <= 0 means (see pisync_internal.h). */
static pisync_status session_result(pisync_tls *t, int r, int saved_errno, short *wait,
                                    pisync_error *err)
{
    char reason[160];
    int error = SSL_get_error(t->ssl, r);

    if (t->no_cert_sent && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
        return refused_without_certificate(
            t,
            error == SSL_ERROR_SSL ? openssl_reason(reason, sizeof reason)
            : saved_errno != 0     ? strerror(saved_errno)
                                   : "closed",
            err);
    switch (error) {
    case SSL_ERROR_WANT_READ:
        *wait = POLLIN;
        return pisync_ok(err);
    case SSL_ERROR_WANT_WRITE:
        *wait = POLLOUT;
        return pisync_ok(err);
    case SSL_ERROR_ZERO_RETURN: /* close_notify: the end of the stream */
        return pisync_ok(err);
    case SSL_ERROR_SYSCALL:
        t->healthy = 0;
        ERR_clear_error();
        if (saved_errno == 0) /* end of file */
            return pisync_ok(err);
        return pisync_fail(err, PISYNC_ERR_IO, saved_errno, "connection to %s failed: %s",
                           t->server, strerror(saved_errno));
    default:
        /* Among others, the server's alert that it refused our client certificate, which
           TLS 1.3 delivers after the handshake. */
        t->healthy = 0;
        return pisync_fail(err, PISYNC_ERR_TLS, 0, "TLS error on the connection to %s: %s",
                           t->server, openssl_reason(reason, sizeof reason));
    }
}

pisync_status pisync_tls_read(pisync_tls *t, uint8_t *bytes, size_t len, size_t *moved,
                              short *wait, pisync_error *err)
{
    int r;

    *moved = 0;
    *wait = 0;
    ERR_clear_error();
    errno = 0;
    r = SSL_read_ex(t->ssl, bytes, len, moved);
    if (r == 1) {
        t->no_cert_sent = 0; /* the server answers: it accepted us without one */
        return pisync_ok(err);
    }
    *moved = 0;
    return session_result(t, r, errno, wait, err);
}

pisync_status pisync_tls_write(pisync_tls *t, const uint8_t *bytes, size_t len, size_t *moved,
                               short *wait, pisync_error *err)
{
    int r;

    *moved = 0;
    *wait = 0;
    ERR_clear_error();
    errno = 0;
    r = SSL_write_ex(t->ssl, bytes, len, moved);
    if (r == 1)
        return pisync_ok(err);
    *moved = 0;
    return session_result(t, r, errno, wait, err);
}

int pisync_tls_has_buffered(const pisync_tls *t)
{
    return t->ssl != NULL && SSL_has_pending(t->ssl);
}
