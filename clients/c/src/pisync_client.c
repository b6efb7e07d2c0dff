/*
 * pisync_client.c - request ids and pipelining: sending framed requests with ids, and
 * reading responses that may arrive in any order (matched by id).
 *
 * Calls that were sent but not yet collected are "pending"; a response for one of them is
 * stored with it until pisync_wait_* takes it. An id 0 connection notice, or a broken
 * connection, fails every call still waiting.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"

/* ---- failing the calls in flight ---- */

/* The connection is unusable: every call still waiting fails with `why`. */
void pisync_connection_failed(pisync_client *c, const pisync_error *why)
{
    size_t i;

    for (i = 0; i < c->pending_count; i++) {
        if (!c->pending[i].done) {
            c->pending[i].done = 1;
            c->pending[i].error = *why;
        }
    }
    pisync_close_socket(c);
}

void pisync_disconnect(pisync_client *c)
{
    pisync_error why;

    pisync_fail(&why, PISYNC_ERR_IO, 0, "disconnected before the response arrived");
    pisync_connection_failed(c, &why);
}

/* ---- receiving ---- */

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

static pisync_pending_call *find_pending(pisync_client *c, uint64_t id)
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
    pisync_pending_call *call;

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
        pisync_connection_failed(c, &notice);
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
    pisync_error failure;

    while (c->fd >= 0 && !has_waiting_calls(c) && pisync_has_input(c)) {
        Pisync__V1__Response *response;

        if (pisync_receive_some(c, 0, &failure) != PISYNC_OK) {
            /* A TLS session's own records (a session ticket) make the socket readable
               with nothing for us: that connection is fine. */
            if (failure.status != PISYNC_ERR_TIMEOUT)
                pisync_close_socket(c);
            return;
        }
        for (;;) {
            if (take_buffered_response(c, &response, &failure) != PISYNC_OK) {
                pisync_close_socket(c);
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
    pisync_pending_call *call = find_pending(c, id);

    while (call != NULL && !call->done) {
        Pisync__V1__Response *response = NULL;
        pisync_error failure;

        if (c->fd < 0) {
            pisync_fail(&failure, PISYNC_ERR_IO, 0, "not connected");
            pisync_connection_failed(c, &failure);
            break;
        }
        if (take_buffered_response(c, &response, &failure) != PISYNC_OK ||
            (response == NULL && pisync_receive_some(c, deadline, &failure) != PISYNC_OK)) {
            pisync_connection_failed(c, &failure);
            break;
        }
        if (response != NULL)
            dispatch(c, response);
        call = find_pending(c, id);
    }
}

/* ---- collecting and sending calls ---- */

static void remove_pending(pisync_client *c, pisync_pending_call *call)
{
    size_t index = (size_t)(call - c->pending);

    c->pending[index] = c->pending[c->pending_count - 1];
    c->pending_count--;
}

/* Waits for the response to `id` and checks that it carries `expected`. On success the
   caller owns *response. */
pisync_status pisync_wait_response(pisync_client *c, uint64_t id,
                                   Pisync__V1__Response__ResultCase expected,
                                   Pisync__V1__Response **response, pisync_error *err)
{
    pisync_pending_call *call = find_pending(c, id);
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
pisync_status pisync_send_request(pisync_client *c, Pisync__V1__Request *request,
                                  uint64_t *request_id, pisync_error *err)
{
    pisync_status rc;

    *request_id = 0;
    drop_connection_if_closed(c);
    rc = pisync_connect(c, err);
    if (rc != PISYNC_OK)
        return rc;
    return pisync_send_request_now(c, request, request_id, err);
}

pisync_status pisync_send_request_now(pisync_client *c, Pisync__V1__Request *request,
                                      uint64_t *request_id, pisync_error *err)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    pisync_error failure;
    pisync_status rc;

    *request_id = 0;
    if (c->fd < 0)
        return pisync_fail(err, PISYNC_ERR_IO, 0, "not connected to %s", c->server);
    if (c->pending_count == c->pending_cap) {
        /* Grow first: a request that was sent must always be trackable. */
        size_t cap = c->pending_cap ? c->pending_cap * 2 : 8;
        pisync_pending_call *grown = realloc(c->pending, cap * sizeof *grown);

        if (grown == NULL)
            return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
        c->pending = grown;
        c->pending_cap = cap;
    }
    request->id = c->next_id++;
    rc = pisync_frame_encode(&request->base, &frame, &frame_len, err);
    if (rc != PISYNC_OK)
        return rc;
    rc = pisync_send_all(c, frame, frame_len, &failure);
    free(frame);
    if (rc != PISYNC_OK) {
        /* A partly sent frame desynchronizes the stream: the connection is lost. */
        pisync_connection_failed(c, &failure);
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
