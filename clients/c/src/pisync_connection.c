/*
 * pisync_connection.c - the client object and its socket: parsing the server address,
 * creating and freeing the client, connecting with a timeout, and the socket I/O
 * (sending whole frames, reading what arrives) with a deadline. A new connection is
 * authenticated (pisync_auth.c) before it is used.
 *
 * The socket is non-blocking and every wait goes through poll() with a deadline, so no
 * call blocks longer than its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "pisync_internal.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_IO_TIMEOUT_MS 10000
#define READ_CHUNK 4096

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* platforms without it: the application should ignore SIGPIPE */
#endif

/* ---- address parsing ---- */

static int parse_port(const char *text)
{
    long port = 0;
    const char *p;

    if (*text == '\0' || strlen(text) > 5)
        return -1;
    for (p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535 ? (int)port : -1;
}

/* Splits "host:port" or "[v6addr]:port". */
static pisync_status parse_server(pisync_client *c, const char *server, pisync_error *err)
{
    const char *host = server;
    const char *host_end;
    const char *port;

    if (server[0] == '[') {
        host = server + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL || host_end[1] != ':')
            return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "bad server address '%s'", server);
        port = host_end + 2;
    } else {
        host_end = strrchr(server, ':');
        if (host_end == NULL)
            return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                               "bad server address '%s': expected host:port", server);
        port = host_end + 1;
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof c->host || parse_port(port) < 0)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                           "bad server address '%s': expected host:port", server);
    memcpy(c->host, host, (size_t)(host_end - host));
    c->host[host_end - host] = '\0';
    pisync_copy_string(c->port, sizeof c->port, port);
    pisync_copy_string(c->server, sizeof c->server, server);
    return pisync_ok(err);
}

/* ---- lifecycle ---- */

pisync_status pisync_client_new(const pisync_client_options *options, pisync_client **client,
                                pisync_error *err)
{
    pisync_client_options defaults;
    pisync_client *c;
    pisync_status rc;

    *client = NULL;
    if (options == NULL) {
        memset(&defaults, 0, sizeof defaults);
        options = &defaults;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    rc = parse_server(c, options->server ? options->server : PISYNC_DEFAULT_SERVER, err);
    if (rc != PISYNC_OK) {
        free(c);
        return rc;
    }
    c->connect_timeout_ms =
        options->connect_timeout_ms > 0 ? options->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->io_timeout_ms = options->io_timeout_ms > 0 ? options->io_timeout_ms : DEFAULT_IO_TIMEOUT_MS;
    c->max_frame = options->max_frame > 0 ? options->max_frame : PISYNC_DEFAULT_MAX_FRAME;
    c->fd = -1;
    c->next_id = 1; /* id 0 is what the server uses for its connection notices */
    pisync_framebuf_init(&c->rx);
    rc = pisync_set_token(c, options->token, err);
    if (rc == PISYNC_OK)
        rc = pisync_tls_new(&options->tls, c->host, &c->tls, err);
    if (rc != PISYNC_OK) {
        pisync_client_free(c);
        return rc;
    }
    *client = c;
    return pisync_ok(err);
}

void pisync_close_socket(pisync_client *c)
{
    if (c->tls != NULL)
        pisync_tls_close(c->tls);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    pisync_framebuf_clear(&c->rx);
    memset(&c->auth, 0, sizeof c->auth);
}

void pisync_client_free(pisync_client *c)
{
    size_t i;

    if (c == NULL)
        return;
    pisync_close_socket(c);
    for (i = 0; i < c->pending_count; i++) {
        if (c->pending[i].response != NULL)
            pisync__v1__response__free_unpacked(c->pending[i].response, NULL);
    }
    free(c->pending);
    pisync_framebuf_free(&c->rx);
    pisync_forget_token(c);
    pisync_tls_free(c->tls);
    free(c);
}

int pisync_is_connected(const pisync_client *c)
{
    return c->fd >= 0;
}

/* ---- waiting on the socket ---- */

/* Waits until `fd` is ready for `events` or the deadline (monotonic ms) passes.
   Returns 1 when ready, 0 on timeout, -1 on error (errno set). */
int pisync_wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd;
        int64_t left = deadline - pisync_monotonic_ms();
        int n;

        if (left < 0)
            left = 0;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* ---- connecting ---- */

/* Tries one address. Returns the connected socket, or -1 with errno set. */
static int connect_address(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int so_error = 0;
    socklen_t len = sizeof so_error;
    int one = 1;
    int saved;

    if (fd < 0)
        return -1;
    if (set_nonblocking(fd) < 0)
        goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int ready;

        if (errno != EINPROGRESS && errno != EINTR)
            goto fail;
        ready = pisync_wait_fd(fd, POLLOUT, deadline);
        if (ready == 0)
            errno = ETIMEDOUT;
        if (ready <= 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
            goto fail;
        if (so_error != 0) {
            errno = so_error;
            goto fail;
        }
    }
    /* Requests are small and answered one by one: don't let Nagle delay them. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

pisync_status pisync_connect(pisync_client *c, pisync_error *err)
{
    struct addrinfo hints;
    struct addrinfo *addresses = NULL;
    const struct addrinfo *ai;
    int64_t deadline = pisync_monotonic_ms() + c->connect_timeout_ms;
    int gai;
    int last_errno = ECONNREFUSED;

    if (c->fd >= 0)
        return pisync_ok(err);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(c->host, c->port, &hints, &addresses);
    if (gai != 0)
        return pisync_fail(err, PISYNC_ERR_CONNECT, 0, "cannot resolve %s: %s", c->host,
                           gai_strerror(gai));
    for (ai = addresses; ai != NULL && c->fd < 0; ai = ai->ai_next) {
        c->fd = connect_address(ai, deadline);
        if (c->fd < 0)
            last_errno = errno;
    }
    freeaddrinfo(addresses);
    if (c->fd < 0)
        return pisync_fail(err, PISYNC_ERR_CONNECT, last_errno, "cannot connect to %s: %s",
                           c->server, strerror(last_errno));
    pisync_framebuf_clear(&c->rx);
    if (c->tls != NULL) {
        pisync_status rc = pisync_tls_handshake(c->tls, c->fd, c->server, deadline, err);

        if (rc != PISYNC_OK) {
            pisync_close_socket(c);
            return rc;
        }
    }
    /* With a token, Authenticate goes first: nothing else is sent before it is answered. */
    return pisync_authenticate(c, err);
}

/* ---- the byte stream: the socket, or the TLS session on it ---- */

/* One write (see pisync_tls_write for what the results mean). */
static pisync_status stream_write(pisync_client *c, const uint8_t *bytes, size_t len,
                                  size_t *moved, short *wait, pisync_error *err)
{
    ssize_t n;

    if (c->tls != NULL)
        return pisync_tls_write(c->tls, bytes, len, moved, wait, err);
    *moved = 0;
    *wait = 0;
    do
        n = send(c->fd, bytes, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        *moved = (size_t)n;
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        *wait = POLLOUT;
    else
        return pisync_fail(err, PISYNC_ERR_IO, errno, "send to %s failed: %s", c->server,
                           strerror(errno));
    return pisync_ok(err);
}

/* One read (see pisync_tls_read for what the results mean). */
static pisync_status stream_read(pisync_client *c, uint8_t *bytes, size_t len, size_t *moved,
                                 short *wait, pisync_error *err)
{
    ssize_t n;

    if (c->tls != NULL)
        return pisync_tls_read(c->tls, bytes, len, moved, wait, err);
    *moved = 0;
    *wait = 0;
    do
        n = recv(c->fd, bytes, len, 0);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        *moved = (size_t)n;
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        *wait = POLLIN;
    else
        return pisync_fail(err, PISYNC_ERR_IO, errno, "receive from %s failed: %s", c->server,
                           strerror(errno));
    return pisync_ok(err);
}

int pisync_has_input(pisync_client *c)
{
    if (c->fd < 0)
        return 0;
    return (c->tls != NULL && pisync_tls_has_buffered(c->tls)) ||
           pisync_wait_fd(c->fd, POLLIN, 0) > 0;
}

/* ---- sending ---- */

pisync_status pisync_send_all(pisync_client *c, const uint8_t *bytes, size_t len,
                              pisync_error *err)
{
    int64_t deadline = pisync_monotonic_ms() + c->io_timeout_ms;

    while (len > 0) {
        size_t sent;
        short wait;
        int ready;
        pisync_status rc = stream_write(c, bytes, len, &sent, &wait, err);

        if (rc != PISYNC_OK)
            return rc;
        bytes += sent;
        len -= sent;
        if (sent > 0)
            continue;
        if (wait == 0)
            return pisync_fail(err, PISYNC_ERR_IO, 0, "%s closed the connection", c->server);
        ready = pisync_wait_fd(c->fd, wait, deadline);
        if (ready == 0)
            return pisync_fail(err, PISYNC_ERR_TIMEOUT, ETIMEDOUT, "timed out sending to %s",
                               c->server);
        if (ready < 0)
            return pisync_fail(err, PISYNC_ERR_IO, errno, "poll: %s", strerror(errno));
    }
    return pisync_ok(err);
}

/* ---- receiving ---- */

/* Reads whatever the socket has (waiting until the deadline) into the frame buffer. */
pisync_status pisync_receive_some(pisync_client *c, int64_t deadline, pisync_error *err)
{
    for (;;) {
        size_t room;
        uint8_t *dst = pisync_framebuf_reserve(&c->rx, READ_CHUNK, &room);
        size_t got;
        short wait;
        int ready;
        pisync_status rc;

        if (dst == NULL)
            return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading");
        rc = stream_read(c, dst, room, &got, &wait, err);
        if (rc != PISYNC_OK)
            return rc;
        if (got > 0) {
            pisync_framebuf_commit(&c->rx, got);
            return pisync_ok(err);
        }
        if (wait == 0)
            return pisync_fail(err, PISYNC_ERR_IO, 0, "%s closed the connection", c->server);
        ready = pisync_wait_fd(c->fd, wait, deadline);
        if (ready == 0)
            return pisync_fail(err, PISYNC_ERR_TIMEOUT, ETIMEDOUT,
                               "no response from %s within %d ms", c->server, c->io_timeout_ms);
        if (ready < 0)
            return pisync_fail(err, PISYNC_ERR_IO, errno, "poll: %s", strerror(errno));
    }
}
