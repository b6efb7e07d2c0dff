/*
 * pisync_tls_none.c - the TLS functions of a library built without TLS (the default; see
 * pisync_tls_openssl.c for `make TLS=1`). Nothing of OpenSSL is compiled or linked: a
 * client that asks for TLS is refused when it is created, so the others are never called
 * with a session.
 */
#include "pisync_internal.h"

int pisync_tls_supported(void)
{
    return 0;
}

pisync_status pisync_tls_new(const pisync_tls_options *options, const char *host,
                             pisync_tls **tls, pisync_error *err)
{
    (void)host;
    *tls = NULL;
    if (options->enabled)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                           "TLS was asked for, but this libpisync was built without it "
                           "(build with make TLS=1)");
    return pisync_ok(err);
}

void pisync_tls_free(pisync_tls *tls)
{
    (void)tls;
}

pisync_status pisync_tls_handshake(pisync_tls *tls, int fd, const char *server,
                                   int64_t deadline, pisync_error *err)
{
    (void)tls;
    (void)fd;
    (void)deadline;
    return pisync_fail(err, PISYNC_ERR_TLS, 0, "no TLS for %s: built without it", server);
}

void pisync_tls_close(pisync_tls *tls)
{
    (void)tls;
}

pisync_status pisync_tls_read(pisync_tls *tls, uint8_t *bytes, size_t len, size_t *moved,
                              short *wait, pisync_error *err)
{
    (void)tls;
    (void)bytes;
    (void)len;
    *moved = 0;
    *wait = 0;
    return pisync_fail(err, PISYNC_ERR_TLS, 0, "built without TLS");
}

pisync_status pisync_tls_write(pisync_tls *tls, const uint8_t *bytes, size_t len,
                               size_t *moved, short *wait, pisync_error *err)
{
    (void)tls;
    (void)bytes;
    (void)len;
    *moved = 0;
    *wait = 0;
    return pisync_fail(err, PISYNC_ERR_TLS, 0, "built without TLS");
}

int pisync_tls_has_buffered(const pisync_tls *tls)
{
    (void)tls;
    return 0;
}
