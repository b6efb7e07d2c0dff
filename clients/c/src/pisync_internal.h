/*
 * pisync_internal.h - declarations shared by the library's source files and its tests.
 * Not installed; applications use pisync.h only.
 */
#ifndef PISYNC_INTERNAL_H
#define PISYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "pisync.h"
#include "pisync/v1/pisync.pb-c.h"

/* ---- errors (pisync_error.c) ---- */

/* Sets err (when not NULL) to a local failure; `fmt` is printf-style. Returns `status`. */
pisync_status pisync_fail(pisync_error *err, pisync_status status, int sys_errno,
                          const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Sets err to the server's Error. Returns PISYNC_ERR_SERVER. */
pisync_status pisync_fail_server(pisync_error *err, const Pisync__V1__Error *server_error,
                                 int connection_notice);
/* Resets err to "no error". Returns PISYNC_OK. */
pisync_status pisync_ok(pisync_error *err);

/* Bounded string copy that always NUL-terminates; NULL copies as "". */
void pisync_copy_string(char *dst, size_t size, const char *src);

/* ---- framing (pisync_framing.c) ---- */

/* Makes room for `extra` more bytes after the first `used` bytes of the malloc'd array
   `*data` of `*cap` bytes: the capacity doubles (from `first_cap` when it is 0) until they
   fit. Returns 0, or -1 when out of memory (the array is then left as it was). */
int pisync_bytes_reserve(uint8_t **data, size_t *cap, size_t used, size_t extra,
                         size_t first_cap);

#define PISYNC_VARINT_MAX 10
#define PISYNC_DEFAULT_MAX_FRAME ((size_t)1 << 20)

/* Writes `value` as a base-128 varint (shortest form) into `out`; returns its length, 1-10. */
size_t pisync_varint_encode(uint64_t value, uint8_t out[PISYNC_VARINT_MAX]);

typedef enum {
    PISYNC_VARINT_OK,        /* *value and *used are set */
    PISYNC_VARINT_INCOMPLETE, /* fewer than 10 bytes and the last one has the 0x80 bit */
    PISYNC_VARINT_MALFORMED  /* unfinished after 10 bytes, or overflows 64 bits */
} pisync_varint_result;

pisync_varint_result pisync_varint_decode(const uint8_t *bytes, size_t len, uint64_t *value,
                                          size_t *used);

/* Serializes `message` as one delimited frame (varint length + body) into a new malloc'd
   buffer. */
pisync_status pisync_frame_encode(const ProtobufCMessage *message, uint8_t **frame,
                                  size_t *frame_len, pisync_error *err);

/* An incremental frame reader: bytes go in as they arrive from the socket, whole frame
   bodies come out. */
typedef struct {
    uint8_t *data;
    size_t start; /* first byte not consumed yet */
    size_t end;   /* one past the last byte received */
    size_t cap;
} pisync_framebuf;

typedef enum {
    PISYNC_FRAME_READY,      /* *body and *body_len are set and the frame is consumed */
    PISYNC_FRAME_INCOMPLETE, /* need more bytes */
    PISYNC_FRAME_TOO_LONG,   /* the length prefix is above the limit */
    PISYNC_FRAME_MALFORMED   /* the length prefix is not a valid varint */
} pisync_frame_result;

void pisync_framebuf_init(pisync_framebuf *fb);
void pisync_framebuf_free(pisync_framebuf *fb);
void pisync_framebuf_clear(pisync_framebuf *fb);
/* Returns room for at least `want` bytes at the end of the buffer (*room is set to the
   actual room), or NULL when out of memory. Write into it, then commit what was written. */
uint8_t *pisync_framebuf_reserve(pisync_framebuf *fb, size_t want, size_t *room);
void pisync_framebuf_commit(pisync_framebuf *fb, size_t written);
pisync_status pisync_framebuf_append(pisync_framebuf *fb, const uint8_t *bytes, size_t len,
                                     pisync_error *err);
/* Takes the next whole frame. The body pointer stays valid until the next reserve/append. */
pisync_frame_result pisync_framebuf_next(pisync_framebuf *fb, size_t max_body,
                                         const uint8_t **body, size_t *body_len);
/* Bytes received and not consumed yet. */
size_t pisync_framebuf_buffered(const pisync_framebuf *fb);

/* ---- TLS (pisync_tls_openssl.c with make TLS=1, else pisync_tls_none.c) ---- */

/* A client's TLS setup (CA, certificate, key, the name to verify) and the session of its
   current connection. Opaque here: nothing outside the TLS file sees OpenSSL. */
typedef struct pisync_tls pisync_tls;

/* Loads the CA, certificate and key once for the client. `host` is the name verified when
   options->server_name is NULL. *tls is NULL when options->enabled is 0. */
pisync_status pisync_tls_new(const pisync_tls_options *options, const char *host,
                             pisync_tls **tls, pisync_error *err);
void pisync_tls_free(pisync_tls *tls);
/* Runs the handshake on the connected non-blocking socket `fd` until `deadline`
   (monotonic ms), verifying the server's certificate. `server` is for messages. */
pisync_status pisync_tls_handshake(pisync_tls *tls, int fd, const char *server,
                                   int64_t deadline, pisync_error *err);
/* Ends the current session, with a close_notify when it is healthy (the socket is still
   open; the caller closes it). */
void pisync_tls_close(pisync_tls *tls);
/* One read or write on the session. PISYNC_OK with *moved > 0: bytes moved; with *moved
   0 and *wait POLLIN or POLLOUT: it would block until the socket is ready for that; with
   both 0: the end of the stream (read). Anything else is a failure. */
pisync_status pisync_tls_read(pisync_tls *tls, uint8_t *bytes, size_t len, size_t *moved,
                              short *wait, pisync_error *err);
pisync_status pisync_tls_write(pisync_tls *tls, const uint8_t *bytes, size_t len,
                               size_t *moved, short *wait, pisync_error *err);
/* Whether the session holds received bytes not read yet (poll() cannot see them). */
int pisync_tls_has_buffered(const pisync_tls *tls);

/* ---- the client (pisync_connection.c, pisync_client.c) ---- */

/* A request that was sent and not collected yet. */
typedef struct {
    uint64_t id;
    int done;                       /* a response or an error is available */
    Pisync__V1__Response *response; /* owned; NULL when the call failed */
    pisync_error error;             /* why, when done and response is NULL */
} pisync_pending_call;

struct pisync_client {
    char server[320]; /* as given, for messages */
    char host[256];
    char port[16];
    int connect_timeout_ms;
    int io_timeout_ms;
    size_t max_frame;
    char *token;           /* NULL when the client has none */
    pisync_auth_info auth; /* the current connection's Authenticate answer */
    pisync_tls *tls;       /* NULL for plain TCP */
    int fd; /* -1 when not connected */
    uint64_t next_id;
    pisync_framebuf rx;
    pisync_pending_call *pending;
    size_t pending_count;
    size_t pending_cap;
};

/* Socket I/O (pisync_connection.c). */

/* Closes the socket (when open) and drops whatever was buffered from it. */
void pisync_close_socket(pisync_client *c);
/* Waits until `fd` is ready for `events` or the deadline (monotonic ms) passes.
   Returns 1 when ready, 0 on timeout, -1 on error (errno set). */
int pisync_wait_fd(int fd, short events, int64_t deadline);
/* Sends all of `bytes`, waiting at most the I/O timeout. */
pisync_status pisync_send_all(pisync_client *c, const uint8_t *bytes, size_t len,
                              pisync_error *err);
/* Reads whatever the socket has (waiting until the deadline) into the frame buffer. */
pisync_status pisync_receive_some(pisync_client *c, int64_t deadline, pisync_error *err);
/* Whether something arrived that was not read yet (bytes, or the end of the stream). */
int pisync_has_input(pisync_client *c);

/* Pending calls and pipelining (pisync_client.c). */

/* The connection is unusable: every call still waiting fails with `why`. */
void pisync_connection_failed(pisync_client *c, const pisync_error *why);
/* Waits for the response to `id` and checks that it carries `expected`. On success the
   caller owns *response. */
pisync_status pisync_wait_response(pisync_client *c, uint64_t id,
                                   Pisync__V1__Response__ResultCase expected,
                                   Pisync__V1__Response **response, pisync_error *err);
/* Assigns the next id, sends the request and registers it as pending; connects first
   (which authenticates) when there is no usable connection. */
pisync_status pisync_send_request(pisync_client *c, Pisync__V1__Request *request,
                                  uint64_t *request_id, pisync_error *err);
/* The same on the connection as it is: the caller has just connected. */
pisync_status pisync_send_request_now(pisync_client *c, Pisync__V1__Request *request,
                                      uint64_t *request_id, pisync_error *err);

/* Authentication (pisync_auth.c). */

/* Sends Authenticate with the client's token on the new connection and waits for the
   answer (before anything else is sent). On failure the connection is closed. */
pisync_status pisync_authenticate(pisync_client *c, pisync_error *err);
/* Keeps a copy of `token` (NULL or "" for none). Returns PISYNC_ERR_ARGUMENT for a token
   that cannot be one. */
pisync_status pisync_set_token(pisync_client *c, const char *token, pisync_error *err);
/* Overwrites and frees the client's copy of the token. */
void pisync_forget_token(pisync_client *c);

/* ---- requests (pisync_calls.c; the event conversions are in pisync_event.c) ---- */

/* Builds and frames a RecordSync request exactly as pisync_send_record_batch sends it. */
pisync_status pisync_encode_record_request(uint64_t id, const char *device_id,
                                           const pisync_event *events, size_t count,
                                           uint8_t **frame, size_t *frame_len,
                                           pisync_error *err);

/* Converts between the library's event and the protobuf message. The message's device_id
   points into `event`, so `event` must outlive it. */
void pisync_event_to_message(const pisync_event *event, Pisync__V1__SyncEvent *message);
void pisync_event_from_message(const Pisync__V1__SyncEvent *message, pisync_event *event);

/* ---- spool (pisync_spool.c, pisync_spool_format.c, pisync_spool_file.c) ---- */

/* CRC-32 (IEEE 802.3, the one zlib computes). */
uint32_t pisync_crc32(const uint8_t *bytes, size_t len);

/* Note: the pending events are stored contiguously, so pisync_spool_peek(spool, 0) points
   to an array of all pisync_spool_pending(spool) of them (valid until the next change). */

struct pisync_spool {
    char *path;
    char *tmp_path;
    int fd;      /* the spool file, -1 after a failed compaction left it unusable */
    int lock_fd; /* PATH.lock, flock()ed while open */
    size_t max_events;
    pisync_event *events; /* live events are events[head .. head + count) */
    size_t head;
    size_t count;
    size_t cap;
    uint64_t file_end;   /* where the next record is written */
    size_t dead_records; /* records in the file that no longer hold a live event */
    uint64_t delivered;
    uint64_t rejected;
    uint64_t dropped_full;
    uint64_t discarded_bytes;
};

/* The in-memory queue (pisync_spool.c). */

/* Makes room for `extra` more events at the tail. Returns 0, or -1 when out of memory. */
int pisync_spool_reserve_events(pisync_spool *s, size_t extra);
void pisync_spool_push_event(pisync_spool *s, const pisync_event *event);
void pisync_spool_remove_oldest(pisync_spool *s, size_t n);

/* Records (pisync_spool_format.c). */

/* Records being built in memory before they are written. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} pisync_spool_buffer;

/* Returns room for `extra` more bytes at the end of the buffer, or NULL when out of
   memory. */
uint8_t *pisync_spool_buffer_grow(pisync_spool_buffer *b, size_t extra);
/* Add one EVENT or REMOVE record to the buffer. Return 0, or -1 when out of memory. */
int pisync_spool_add_event_record(pisync_spool_buffer *b, const pisync_event *event);
int pisync_spool_add_remove_record(pisync_spool_buffer *b, uint32_t count, uint64_t delivered,
                                   uint64_t rejected, uint64_t dropped_full);
/* Replays the records in `data` (the file after its magic). Returns the number of bytes
   that hold whole, valid records, or -1 when out of memory. */
long long pisync_spool_replay(pisync_spool *s, const uint8_t *data, size_t size);

/* The file (pisync_spool_file.c). */

/* Fails with PISYNC_ERR_SPOOL, describing errno. */
pisync_status pisync_spool_io_error(pisync_spool *s, pisync_error *err, const char *what);
/* Appends records durably. On failure the file is cut back to where it was. */
pisync_status pisync_spool_append_records(pisync_spool *s, const pisync_spool_buffer *b,
                                          pisync_error *err);
/* Compacts when the file is mostly dead weight; a failure is left for the next one. */
void pisync_spool_maybe_compact(pisync_spool *s);
/* Reads the open file into the queue: writes the magic into a new file, cuts off a torn
   tail, and fails on a file that is not a spool. */
pisync_status pisync_spool_load(pisync_spool *s, pisync_error *err);

/* ---- time (pisync_retry.c) ---- */

/* Milliseconds of a monotonic clock. */
int64_t pisync_monotonic_ms(void);
void pisync_sleep_ms(uint32_t ms);

#endif /* PISYNC_INTERNAL_H */
