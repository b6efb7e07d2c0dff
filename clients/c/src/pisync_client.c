/*
 * pisync_client.c - the connection: connecting with a timeout, sending framed requests
 * with ids, and reading responses that may arrive in any order (matched by id).
 *
 * The socket is non-blocking and every wait goes through poll() with a deadline, so no
 * call blocks longer than its timeout. Calls that were sent but not yet collected are
 * "pending"; a response for one of them is stored with it until pisync_wait_* takes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
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

typedef struct {
    uint64_t id;
    int done;                       /* a response or an error is available */
    Pisync__V1__Response *response; /* owned; NULL when the call failed */
    pisync_error error;             /* why, when done and response is NULL */
} pending_call;

struct pisync_client {
    char server[320]; /* as given, for messages */
    char host[256];
    char port[16];
    int connect_timeout_ms;
    int io_timeout_ms;
    size_t max_frame;
    int fd; /* -1 when not connected */
    uint64_t next_id;
    pisync_framebuf rx;
    pending_call *pending;
    size_t pending_count;
    size_t pending_cap;
};

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
    *client = c;
    return pisync_ok(err);
}

static void close_socket(pisync_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    pisync_framebuf_clear(&c->rx);
}

/* The connection is unusable: every call still waiting fails with `why`. */
static void connection_failed(pisync_client *c, const pisync_error *why)
{
    size_t i;

    for (i = 0; i < c->pending_count; i++) {
        if (!c->pending[i].done) {
            c->pending[i].done = 1;
            c->pending[i].error = *why;
        }
    }
    close_socket(c);
}

void pisync_disconnect(pisync_client *c)
{
    pisync_error why;

    pisync_fail(&why, PISYNC_ERR_IO, 0, "disconnected before the response arrived");
    connection_failed(c, &why);
}

void pisync_client_free(pisync_client *c)
{
    size_t i;

    if (c == NULL)
        return;
    close_socket(c);
    for (i = 0; i < c->pending_count; i++) {
        if (c->pending[i].response != NULL)
            pisync__v1__response__free_unpacked(c->pending[i].response, NULL);
    }
    free(c->pending);
    pisync_framebuf_free(&c->rx);
    free(c);
}

int pisync_is_connected(const pisync_client *c)
{
    return c->fd >= 0;
}

/* ---- waiting on the socket ---- */

/* Waits until `fd` is ready for `events` or the deadline (monotonic ms) passes.
   Returns 1 when ready, 0 on timeout, -1 on error (errno set). */
static int wait_fd(int fd, short events, int64_t deadline)
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
        ready = wait_fd(fd, POLLOUT, deadline);
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
    return pisync_ok(err);
}

/* ---- sending ---- */

static pisync_status send_all(pisync_client *c, const uint8_t *bytes, size_t len,
                              pisync_error *err)
{
    int64_t deadline = pisync_monotonic_ms() + c->io_timeout_ms;

    while (len > 0) {
        ssize_t n = send(c->fd, bytes, len, MSG_NOSIGNAL);

        if (n > 0) {
            bytes += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = wait_fd(c->fd, POLLOUT, deadline);

            if (ready == 0)
                return pisync_fail(err, PISYNC_ERR_TIMEOUT, ETIMEDOUT,
                                   "timed out sending to %s", c->server);
            if (ready < 0)
                return pisync_fail(err, PISYNC_ERR_IO, errno, "poll: %s", strerror(errno));
        } else {
            return pisync_fail(err, PISYNC_ERR_IO, errno, "send to %s failed: %s", c->server,
                               strerror(errno));
        }
    }
    return pisync_ok(err);
}

/* ---- receiving ---- */

/* Reads whatever the socket has (waiting until the deadline) into the frame buffer. */
static pisync_status receive_some(pisync_client *c, int64_t deadline, pisync_error *err)
{
    for (;;) {
        size_t room;
        uint8_t *dst = pisync_framebuf_reserve(&c->rx, READ_CHUNK, &room);
        ssize_t n;

        if (dst == NULL)
            return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading");
        n = recv(c->fd, dst, room, 0);
        if (n > 0) {
            pisync_framebuf_commit(&c->rx, (size_t)n);
            return pisync_ok(err);
        }
        if (n == 0)
            return pisync_fail(err, PISYNC_ERR_IO, 0, "%s closed the connection", c->server);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ready = wait_fd(c->fd, POLLIN, deadline);

            if (ready == 0)
                return pisync_fail(err, PISYNC_ERR_TIMEOUT, ETIMEDOUT,
                                   "no response from %s within %d ms", c->server,
                                   c->io_timeout_ms);
            if (ready < 0)
                return pisync_fail(err, PISYNC_ERR_IO, errno, "poll: %s", strerror(errno));
            continue;
        }
        return pisync_fail(err, PISYNC_ERR_IO, errno, "receive from %s failed: %s", c->server,
                           strerror(errno));
    }
}

/* Decodes the next whole frame already buffered. Returns PISYNC_OK with *response NULL
   when no whole frame is buffered yet. */
static pisync_status take_buffered_response(pisync_client *c, Pisync__V1__Response **response,
                                            pisync_error *err)
{
    const uint8_t *body;
    size_t body_len;

    *response = NULL;
    switch (pisync_framebuf_next(&c->rx, c->max_frame, &body, &body_len)) {
    case PISYNC_FRAME_INCOMPLETE:
        return pisync_ok(err);
    case PISYNC_FRAME_TOO_LONG:
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0,
                           "response frame from %s is over the %zu byte limit", c->server,
                           c->max_frame);
    case PISYNC_FRAME_MALFORMED:
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0,
                           "bad frame length prefix from %s", c->server);
    case PISYNC_FRAME_READY:
        break;
    }
    *response = pisync__v1__response__unpack(NULL, body_len, body);
    if (*response == NULL)
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0,
                           "undecodable Response frame from %s", c->server);
    return pisync_ok(err);
}

static pending_call *find_pending(pisync_client *c, uint64_t id)
{
    size_t i;

    for (i = 0; i < c->pending_count; i++) {
        if (c->pending[i].id == id)
            return &c->pending[i];
    }
    return NULL;
}

static int has_waiting_calls(const pisync_client *c)
{
    size_t i;

    for (i = 0; i < c->pending_count; i++) {
        if (!c->pending[i].done)
            return 1;
    }
    return 0;
}

/* Hands a response to the call it answers. Takes ownership of `response`. */
static void dispatch(pisync_client *c, Pisync__V1__Response *response)
{
    pending_call *call;

    if (response->id == 0) {
        /* A connection notice (idle timeout, shutdown, connection limit, a frame the
           server could not read): it applies to every call in flight, and the server
           closes the connection after it. */
        pisync_error notice;

        if (response->result_case == PISYNC__V1__RESPONSE__RESULT_ERROR)
            pisync_fail_server(&notice, response->error, 1);
        else
            pisync_fail(&notice, PISYNC_ERR_PROTOCOL, 0, "unexpected non-error response id 0");
        pisync__v1__response__free_unpacked(response, NULL);
        connection_failed(c, &notice);
        return;
    }
    call = find_pending(c, response->id);
    if (call == NULL || call->done) {
        /* Not ours (or answered already): skip it, as the protocol says unknown ids and
           stream messages may interleave with anything. */
        pisync__v1__response__free_unpacked(response, NULL);
        return;
    }
    call->response = response;
    call->done = 1;
}

/* Before reusing an idle connection, read what the server sent while we were away: an
   id 0 notice or end-of-file means it closed the connection (e.g. the idle timeout), and
   we reconnect instead of sending into a dead socket. */
static void drop_connection_if_closed(pisync_client *c)
{
    pisync_error ignored;

    while (c->fd >= 0 && !has_waiting_calls(c) && wait_fd(c->fd, POLLIN, 0) > 0) {
        Pisync__V1__Response *response;

        if (receive_some(c, 0, &ignored) != PISYNC_OK) {
            close_socket(c);
            return;
        }
        for (;;) {
            if (take_buffered_response(c, &response, &ignored) != PISYNC_OK) {
                close_socket(c);
                return;
            }
            if (response == NULL)
                break;
            dispatch(c, response); /* closes the socket on an id 0 notice */
            if (c->fd < 0)
                return;
        }
    }
}

/* Reads frames until the call has its answer or the connection fails. */
static void read_until_done(pisync_client *c, uint64_t id)
{
    int64_t deadline = pisync_monotonic_ms() + c->io_timeout_ms;
    pending_call *call = find_pending(c, id);

    while (call != NULL && !call->done) {
        Pisync__V1__Response *response = NULL;
        pisync_error failure;

        if (c->fd < 0) {
            pisync_fail(&failure, PISYNC_ERR_IO, 0, "not connected");
            connection_failed(c, &failure);
            break;
        }
        if (take_buffered_response(c, &response, &failure) != PISYNC_OK ||
            (response == NULL && receive_some(c, deadline, &failure) != PISYNC_OK)) {
            connection_failed(c, &failure);
            break;
        }
        if (response != NULL)
            dispatch(c, response);
        call = find_pending(c, id);
    }
}

static void remove_pending(pisync_client *c, pending_call *call)
{
    size_t index = (size_t)(call - c->pending);

    c->pending[index] = c->pending[c->pending_count - 1];
    c->pending_count--;
}

/* Waits for the response to `id` and checks that it carries `expected`. On success the
   caller owns *response. */
static pisync_status wait_response(pisync_client *c, uint64_t id,
                                   Pisync__V1__Response__ResultCase expected,
                                   Pisync__V1__Response **response, pisync_error *err)
{
    pending_call *call = find_pending(c, id);
    Pisync__V1__Response *r;
    pisync_error failure;

    *response = NULL;
    if (call == NULL)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "request id %llu is not pending",
                           (unsigned long long)id);
    read_until_done(c, id);
    call = find_pending(c, id);
    r = call->response;
    failure = call->error;
    remove_pending(c, call);
    if (r == NULL) {
        if (err != NULL)
            *err = failure;
        return failure.status;
    }
    if (r->result_case == PISYNC__V1__RESPONSE__RESULT_ERROR) {
        pisync_status rc = pisync_fail_server(err, r->error, 0);

        pisync__v1__response__free_unpacked(r, NULL);
        return rc;
    }
    if (r->result_case != expected) {
        /* Includes results this client does not know (a newer server): per the
           protocol's versioning rules that fails this request, not the connection. */
        int got = (int)r->result_case;

        pisync__v1__response__free_unpacked(r, NULL);
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0,
                           "request %llu got an unexpected result (field %d)",
                           (unsigned long long)id, got);
    }
    *response = r;
    return pisync_ok(err);
}

/* Assigns the next id, sends the request and registers it as pending. */
static pisync_status send_request(pisync_client *c, Pisync__V1__Request *request,
                                  uint64_t *request_id, pisync_error *err)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    pisync_error failure;
    pisync_status rc;

    *request_id = 0;
    drop_connection_if_closed(c);
    rc = pisync_connect(c, err);
    if (rc != PISYNC_OK)
        return rc;
    if (c->pending_count == c->pending_cap) {
        /* Grow first: a request that was sent must always be trackable. */
        size_t cap = c->pending_cap ? c->pending_cap * 2 : 8;
        pending_call *grown = realloc(c->pending, cap * sizeof *grown);

        if (grown == NULL)
            return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
        c->pending = grown;
        c->pending_cap = cap;
    }
    request->id = c->next_id++;
    rc = pisync_frame_encode(&request->base, &frame, &frame_len, err);
    if (rc != PISYNC_OK)
        return rc;
    rc = send_all(c, frame, frame_len, &failure);
    free(frame);
    if (rc != PISYNC_OK) {
        /* A partly sent frame desynchronizes the stream: the connection is lost. */
        connection_failed(c, &failure);
        if (err != NULL)
            *err = failure;
        return rc;
    }
    memset(&c->pending[c->pending_count], 0, sizeof c->pending[0]);
    c->pending[c->pending_count].id = request->id;
    c->pending_count++;
    *request_id = request->id;
    return pisync_ok(err);
}

/* ---- RecordSync ---- */

/* A RecordSync request and the arrays its protobuf-c message points into. */
typedef struct {
    Pisync__V1__SyncEvent *messages;
    Pisync__V1__SyncEvent **pointers;
    Pisync__V1__RecordSyncRequest record;
    Pisync__V1__Request request;
} record_request;

static void record_request_free(record_request *r)
{
    free(r->messages);
    free(r->pointers);
}

/* Builds a RecordSync of `events`. The message points into `events` and `device_id`,
   which must outlive it. */
static pisync_status record_request_build(record_request *r, const char *device_id,
                                          const pisync_event *events, size_t count,
                                          pisync_error *err)
{
    int device_at_request_level = device_id != NULL && device_id[0] != '\0';
    size_t i;

    memset(r, 0, sizeof *r);
    if (events == NULL && count > 0)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "events is NULL");
    r->messages = calloc(count + 1, sizeof *r->messages);
    r->pointers = calloc(count + 1, sizeof *r->pointers);
    if (r->messages == NULL || r->pointers == NULL) {
        record_request_free(r);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    pisync__v1__record_sync_request__init(&r->record);
    r->record.device_id = device_at_request_level ? (char *)device_id : (char *)"";
    for (i = 0; i < count; i++) {
        pisync_event_to_message(&events[i], &r->messages[i]);
        /* The request names the device once: don't repeat it in every event. */
        if (device_at_request_level && strcmp(events[i].device_id, device_id) == 0)
            r->messages[i].device_id = (char *)"";
        r->pointers[i] = &r->messages[i];
    }
    r->record.n_events = count;
    r->record.events = r->pointers;
    pisync__v1__request__init(&r->request);
    r->request.call_case = PISYNC__V1__REQUEST__CALL_RECORD_SYNC;
    r->request.record_sync = &r->record;
    return pisync_ok(err);
}

pisync_status pisync_encode_record_request(uint64_t id, const char *device_id,
                                           const pisync_event *events, size_t count,
                                           uint8_t **frame, size_t *frame_len,
                                           pisync_error *err)
{
    record_request r;
    pisync_status rc = record_request_build(&r, device_id, events, count, err);

    *frame = NULL;
    *frame_len = 0;
    if (rc != PISYNC_OK)
        return rc;
    r.request.id = id;
    rc = pisync_frame_encode(&r.request.base, frame, frame_len, err);
    record_request_free(&r);
    return rc;
}

pisync_status pisync_send_record_batch(pisync_client *c, const char *device_id,
                                       const pisync_event *events, size_t count,
                                       uint64_t *request_id, pisync_error *err)
{
    record_request r;
    pisync_status rc = record_request_build(&r, device_id, events, count, err);

    *request_id = 0;
    if (rc != PISYNC_OK)
        return rc;
    rc = send_request(c, &r.request, request_id, err);
    record_request_free(&r);
    return rc;
}

static pisync_status copy_record_result(const Pisync__V1__RecordSyncResponse *r,
                                        pisync_record_result *result, pisync_error *err)
{
    size_t i;

    result->accepted = r->accepted;
    result->duplicates = r->duplicates;
    if (r->n_rejected == 0)
        return pisync_ok(err);
    result->rejected = calloc(r->n_rejected, sizeof *result->rejected);
    if (result->rejected == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    for (i = 0; i < r->n_rejected; i++) {
        pisync_rejection *out = &result->rejected[i];

        out->index = r->rejected[i]->index;
        out->code = r->rejected[i]->code;
        pisync_copy_string(out->field, sizeof out->field, r->rejected[i]->field);
        pisync_copy_string(out->message, sizeof out->message, r->rejected[i]->message);
    }
    result->rejected_count = r->n_rejected;
    return pisync_ok(err);
}

pisync_status pisync_wait_record(pisync_client *c, uint64_t request_id,
                                 pisync_record_result *result, pisync_error *err)
{
    Pisync__V1__Response *response;
    pisync_record_result ignored;
    pisync_status rc;

    if (result == NULL)
        result = &ignored;
    memset(result, 0, sizeof *result);
    rc = wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC, &response, err);
    if (rc != PISYNC_OK)
        return rc;
    rc = copy_record_result(response->record_sync, result, err);
    pisync__v1__response__free_unpacked(response, NULL);
    if (rc != PISYNC_OK || result == &ignored)
        pisync_record_result_free(result);
    return rc;
}

pisync_status pisync_record_batch(pisync_client *c, const char *device_id,
                                  const pisync_event *events, size_t count,
                                  pisync_record_result *result, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = pisync_send_record_batch(c, device_id, events, count, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_record(c, id, result, err);
}

pisync_status pisync_record(pisync_client *c, const pisync_event *event,
                            pisync_record_result *result, pisync_error *err)
{
    return pisync_record_batch(c, NULL, event, 1, result, err);
}

/* ---- GetHistory ---- */

pisync_status pisync_send_get_history(pisync_client *c, const char *device_id, uint32_t page,
                                      uint32_t limit, uint64_t *request_id, pisync_error *err)
{
    Pisync__V1__GetHistoryRequest history = PISYNC__V1__GET_HISTORY_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;

    history.device_id = (char *)(device_id ? device_id : "");
    history.page = page;
    history.limit = limit;
    request.call_case = PISYNC__V1__REQUEST__CALL_GET_HISTORY;
    request.get_history = &history;
    return send_request(c, &request, request_id, err);
}

pisync_status pisync_wait_history(pisync_client *c, uint64_t request_id,
                                  pisync_history *history, pisync_error *err)
{
    Pisync__V1__Response *response;
    const Pisync__V1__GetHistoryResponse *h;
    pisync_status rc;
    size_t i;

    memset(history, 0, sizeof *history);
    rc = wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_GET_HISTORY, &response, err);
    if (rc != PISYNC_OK)
        return rc;
    h = response->get_history;
    history->events = calloc(h->n_events + 1, sizeof *history->events);
    if (history->events == NULL) {
        pisync__v1__response__free_unpacked(response, NULL);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    for (i = 0; i < h->n_events; i++)
        pisync_event_from_message(h->events[i], &history->events[i]);
    history->count = h->n_events;
    history->total = h->total;
    history->page = h->page;
    history->limit = h->limit;
    pisync__v1__response__free_unpacked(response, NULL);
    return pisync_ok(err);
}

pisync_status pisync_get_history(pisync_client *c, const char *device_id, uint32_t page,
                                 uint32_t limit, pisync_history *history, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    memset(history, 0, sizeof *history);
    rc = pisync_send_get_history(c, device_id, page, limit, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_history(c, id, history, err);
}

/* ---- Ping ---- */

pisync_status pisync_send_ping(pisync_client *c, uint64_t *request_id, pisync_error *err)
{
    Pisync__V1__PingRequest ping = PISYNC__V1__PING_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;

    request.call_case = PISYNC__V1__REQUEST__CALL_PING;
    request.ping = &ping;
    return send_request(c, &request, request_id, err);
}

pisync_status pisync_wait_ping(pisync_client *c, uint64_t request_id,
                               pisync_ping_result *result, pisync_error *err)
{
    Pisync__V1__Response *response;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = wait_response(c, request_id, PISYNC__V1__RESPONSE__RESULT_PING, &response, err);
    if (rc != PISYNC_OK)
        return rc;
    if (result != NULL) {
        pisync_copy_string(result->version, sizeof result->version, response->ping->version);
        result->uptime_ms = response->ping->uptime_ms;
    }
    pisync__v1__response__free_unpacked(response, NULL);
    return pisync_ok(err);
}

pisync_status pisync_ping(pisync_client *c, pisync_ping_result *result, pisync_error *err)
{
    uint64_t id;
    pisync_status rc;

    if (result != NULL)
        memset(result, 0, sizeof *result);
    rc = pisync_send_ping(c, &id, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_wait_ping(c, id, result, err);
}
