/*
 * pisync.h - C client library for the PiSync sync-event server (protocol version 1).
 *
 * The wire protocol is specified in docs/protocol.md; the messages are defined in
 * proto/pisync/v1/pisync.proto. This header exposes plain C types only: the protobuf-c
 * messages stay inside the library.
 *
 * Conventions:
 * - Every call returns a pisync_status; PISYNC_OK (0) means success. When `err` is not
 *   NULL it is filled in on failure (and reset on success) with the details: the server's
 *   code, field and message, or a local description.
 * - Outputs are zeroed when a call fails, so their *_free functions are always safe to call.
 * - The library has no global mutable state. A pisync_client or pisync_spool must not be
 *   used by two threads at once; separate objects are independent.
 */
#ifndef PISYNC_H
#define PISYNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest device id the protocol allows (characters A-Z a-z 0-9 . _ : -). */
#define PISYNC_DEVICE_ID_MAX 128
/* Most events one RecordSync may carry (the server's default limit). */
#define PISYNC_MAX_BATCH 1000
/* Address used when none is given. */
#define PISYNC_DEFAULT_SERVER "127.0.0.1:7878"

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                */
/* ------------------------------------------------------------------------------------ */

typedef enum pisync_status {
    PISYNC_OK = 0,
    PISYNC_ERR_SERVER,   /* the server answered with an Error: see code, field, message */
    PISYNC_ERR_CONNECT,  /* could not connect: refused, unreachable, DNS, connect timeout */
    PISYNC_ERR_IO,       /* the connection failed or was closed while sending/receiving */
    PISYNC_ERR_TIMEOUT,  /* no response within the I/O timeout (the connection is dropped) */
    PISYNC_ERR_PROTOCOL, /* the server sent something that is not valid PiSync */
    PISYNC_ERR_ARGUMENT, /* the caller passed an invalid argument */
    PISYNC_ERR_NOMEM,    /* out of memory */
    PISYNC_ERR_SPOOL,    /* the spool file could not be read, written, locked or parsed */
    PISYNC_ERR_TLS       /* TLS could not be set up: a CA, certificate or key that does not
                            load, a server certificate that does not verify (wrong CA, wrong
                            name, expired), a server that does not speak TLS, or a client
                            certificate the server refused. Not retryable: fix the setup. */
} pisync_status;

/* Server error codes (gRPC numbering), as carried in pisync_error.code. */
enum {
    PISYNC_CODE_CANCELLED = 1,
    PISYNC_CODE_INVALID_ARGUMENT = 3,
    PISYNC_CODE_DEADLINE_EXCEEDED = 4,
    PISYNC_CODE_NOT_FOUND = 5,
    PISYNC_CODE_PERMISSION_DENIED = 7,
    PISYNC_CODE_RESOURCE_EXHAUSTED = 8,
    PISYNC_CODE_FAILED_PRECONDITION = 9,
    PISYNC_CODE_UNIMPLEMENTED = 12,
    PISYNC_CODE_INTERNAL = 13,
    PISYNC_CODE_UNAVAILABLE = 14,
    PISYNC_CODE_UNAUTHENTICATED = 16
};

typedef struct pisync_error {
    pisync_status status; /* PISYNC_OK when there is no error */
    uint32_t code;        /* server error code, when status == PISYNC_ERR_SERVER */
    int connection_notice; /* 1 when the server error came as an id 0 notice: it is about
                              the connection, not about this request */
    int sys_errno;        /* errno for local failures, else 0 */
    char field[64];       /* offending request field named by the server, or "" */
    char message[256];    /* human-readable text (the server's message, truncated) */
    uint32_t retry_after_ms; /* set by the server on a rate limit's RESOURCE_EXHAUSTED: wait
                                at least this long before trying again (pisync_retry does);
                                else 0 */
} pisync_error;

/* Name of a status ("PISYNC_ERR_CONNECT") and of a server code ("INVALID_ARGUMENT"). */
const char *pisync_status_name(pisync_status status);
const char *pisync_code_name(uint32_t code);

/* One-line description, e.g. "server error: INVALID_ARGUMENT (3) [limit]: limit must ...".
   Always NUL-terminates `buf` (when size > 0); returns `buf`. */
char *pisync_error_format(const pisync_error *err, char *buf, size_t size);

/* Whether trying again later may succeed: connection failures, timeouts, protocol errors,
   id 0 connection notices, and the server codes UNAVAILABLE (14), RESOURCE_EXHAUSTED (8)
   and INTERNAL (13). Server rejections such as INVALID_ARGUMENT are not retryable, and
   neither are a refused or missing token (UNAUTHENTICATED, 16) or a token that does not
   allow the call (PERMISSION_DENIED, 7). */
int pisync_error_is_retryable(const pisync_error *err);

/* ------------------------------------------------------------------------------------ */
/* Events and results                                                                    */
/* ------------------------------------------------------------------------------------ */

typedef enum pisync_sync_status {
    PISYNC_SYNC_UNSPECIFIED = 0,
    PISYNC_SYNC_SUCCESS = 1, /* total_errors == 0 */
    PISYNC_SYNC_PARTIAL = 2, /* total_errors > 0 and total_files_synced > 0 */
    PISYNC_SYNC_FAILED = 3   /* total_errors > 0 and total_files_synced == 0 */
} pisync_sync_status;

/* One sync of one device. Field names follow pisync.v1.SyncEvent. */
typedef struct pisync_event {
    char device_id[PISYNC_DEVICE_ID_MAX + 1];
    int64_t timestamp;           /* Unix epoch milliseconds, UTC */
    uint32_t total_files_synced;
    uint32_t total_errors;
    float internet_speed;        /* Mbps, finite and >= 0 */
    int sync_status;             /* pisync_sync_status; set by the server, ignored on send.
                                    An unknown value from a newer server is kept as is. */
} pisync_event;

/* Fills `event` (device_id is truncated to PISYNC_DEVICE_ID_MAX characters). */
void pisync_event_init(pisync_event *event, const char *device_id, int64_t timestamp,
                       uint32_t total_files_synced, uint32_t total_errors,
                       float internet_speed);

/* The current time in Unix epoch milliseconds (for pisync_event.timestamp). */
int64_t pisync_now_ms(void);

/* Whether `device_id` follows the protocol's rule: 1-128 characters of A-Z a-z 0-9 . _ : - */
int pisync_device_id_valid(const char *device_id);

/* An event of a RecordSync that the server did not store, and why. */
typedef struct pisync_rejection {
    uint32_t index; /* position in the request's events */
    uint32_t code;  /* 3 INVALID_ARGUMENT */
    char field[64];
    char message[256];
} pisync_rejection;

typedef struct pisync_record_result {
    uint32_t accepted;           /* newly stored */
    uint32_t duplicates;         /* already stored: acknowledged, not stored again */
    size_t rejected_count;
    pisync_rejection *rejected;  /* sorted by index; free with pisync_record_result_free */
} pisync_record_result;

void pisync_record_result_free(pisync_record_result *result);

typedef struct pisync_history {
    pisync_event *events; /* newest first; free with pisync_history_free */
    size_t count;
    uint64_t total;       /* events stored for the device */
    uint32_t page;        /* page and limit used by the server (after defaults) */
    uint32_t limit;
} pisync_history;

void pisync_history_free(pisync_history *history);

typedef struct pisync_ping_result {
    char version[64];
    uint64_t uptime_ms;
    int auth_required; /* the server requires Authenticate (it has auth on) */
} pisync_ping_result;

/* ------------------------------------------------------------------------------------ */
/* Client                                                                                */
/* ------------------------------------------------------------------------------------ */

typedef struct pisync_client pisync_client;

/* TLS for the connection (needs a library built with `make TLS=1`; see
   pisync_tls_supported). The server's certificate is always verified: against `ca_file`,
   and for `server_name`. */
typedef struct pisync_tls_options {
    int enabled;             /* 1 to connect with TLS (1.2 or later) */
    const char *ca_file;     /* PEM file of the CA certificates that may have signed the
                                server's certificate; NULL means the system's store */
    const char *server_name; /* the DNS name or IP address the server's certificate must
                                carry (a DNS name is also sent as SNI); NULL means the host
                                part of `server` */
    const char *cert_file;   /* client certificate chain (PEM) for mutual TLS, whose CN/SAN
                                names the device; NULL means none */
    const char *key_file;    /* its private key (PEM); NULL means it is in cert_file */
} pisync_tls_options;

/* 1 when this library was built with TLS (make TLS=1), else 0. */
int pisync_tls_supported(void);

typedef struct pisync_client_options {
    const char *server;      /* "host:port" or "[ipv6]:port"; NULL means PISYNC_DEFAULT_SERVER */
    int connect_timeout_ms;  /* 0 means 5000 */
    int io_timeout_ms;       /* longest wait for a response or for sending; 0 means 10000 */
    size_t max_frame;        /* largest response body accepted; 0 means 1 MiB */
    const char *token;       /* `pisync token` output, sent in an Authenticate request first
                                on every connection; NULL or "" means none (a server with
                                auth on then answers every call with UNAUTHENTICATED). The
                                client keeps a copy. */
    pisync_tls_options tls;  /* all zero means plain TCP */
} pisync_client_options;

/* What the server said about the token on the current connection. */
typedef struct pisync_auth_info {
    int authenticated;  /* 1 when the server accepted the token on the current connection */
    int auth_required;  /* the server has auth on */
    char role[16];      /* "device" or "operator"; "" when the server has auth off */
    char name[PISYNC_DEVICE_ID_MAX + 1]; /* the token's device id or operator name */
} pisync_auth_info;

/* Creates a client. It does not connect yet: the first call does (or pisync_connect).
   The connection is kept and reused by later calls; when it breaks, the pending calls
   fail and the next call reconnects. */
pisync_status pisync_client_new(const pisync_client_options *options, pisync_client **client,
                                pisync_error *err);
/* Closes the connection and frees everything, including uncollected responses. */
void pisync_client_free(pisync_client *client);

/* Connects now (no-op when connected). With a token, the connection is usable only once
   the server accepted it: a refused token fails with PISYNC_ERR_SERVER, code 16
   UNAUTHENTICATED, field "token" (not retryable), and the connection is closed. */
pisync_status pisync_connect(pisync_client *client, pisync_error *err);
/* Closes the connection; calls still waiting for a response fail with PISYNC_ERR_IO. */
void pisync_disconnect(pisync_client *client);
int pisync_is_connected(const pisync_client *client);
/* The answer to the current connection's Authenticate; all zero when not connected or
   without a token. */
void pisync_get_auth_info(const pisync_client *client, pisync_auth_info *info);

/* Records one event; the event names its device. */
pisync_status pisync_record(pisync_client *client, const pisync_event *event,
                            pisync_record_result *result, pisync_error *err);

/* Records 1 to PISYNC_MAX_BATCH events. When `device_id` is not NULL or empty it is sent
   once at request level, and each event whose device_id is empty or equal to it is sent
   without its own (an event naming another device is rejected by the server). The result
   may be NULL when only success matters. */
pisync_status pisync_record_batch(pisync_client *client, const char *device_id,
                                  const pisync_event *events, size_t count,
                                  pisync_record_result *result, pisync_error *err);

/* One page of a device's history, newest first. page 0 means 1, limit 0 means 10; limits
   above 100 are refused by the server (INVALID_ARGUMENT, field "limit"). */
pisync_status pisync_get_history(pisync_client *client, const char *device_id, uint32_t page,
                                 uint32_t limit, pisync_history *history, pisync_error *err);

pisync_status pisync_ping(pisync_client *client, pisync_ping_result *result, pisync_error *err);

/* Pipelining: send several requests without waiting, then collect each result by its
   request id, in any order. Responses that arrive for other ids are kept until collected;
   an id 0 connection notice fails every call still waiting. Every id returned by a
   pisync_send_* call should be collected once with the matching pisync_wait_* call
   (uncollected results are freed by pisync_client_free). */
pisync_status pisync_send_record_batch(pisync_client *client, const char *device_id,
                                       const pisync_event *events, size_t count,
                                       uint64_t *request_id, pisync_error *err);
pisync_status pisync_send_get_history(pisync_client *client, const char *device_id,
                                      uint32_t page, uint32_t limit, uint64_t *request_id,
                                      pisync_error *err);
pisync_status pisync_send_ping(pisync_client *client, uint64_t *request_id, pisync_error *err);

pisync_status pisync_wait_record(pisync_client *client, uint64_t request_id,
                                 pisync_record_result *result, pisync_error *err);
pisync_status pisync_wait_history(pisync_client *client, uint64_t request_id,
                                  pisync_history *history, pisync_error *err);
pisync_status pisync_wait_ping(pisync_client *client, uint64_t request_id,
                               pisync_ping_result *result, pisync_error *err);

/* ------------------------------------------------------------------------------------ */
/* Retries                                                                               */
/* ------------------------------------------------------------------------------------ */

typedef struct pisync_retry_policy {
    int max_attempts;  /* attempts in all, including the first; 0 means 5 */
    int base_delay_ms; /* delay before the first retry, doubled for each next one; 0 means 200 */
    int max_delay_ms;  /* cap on one delay; 0 means 30000 */
    uint64_t seed;     /* jitter seed; 0 means one derived from the clock and the pid */
} pisync_retry_policy;

/* One attempt of an operation. It returns a status and fills `err`. */
typedef pisync_status (*pisync_retry_fn)(pisync_client *client, void *context,
                                         pisync_error *err);

/* Runs `attempt` until it succeeds, fails with an error that is not retryable
   (pisync_error_is_retryable), or max_attempts is reached, sleeping with exponential
   backoff and jitter between attempts and reconnecting the client. When the failure
   carries retry_after_ms (a rate limit's RESOURCE_EXHAUSTED), the next attempt waits at
   least that long: max(backoff, retry_after_ms); when that is over max_delay_ms it stops
   at once instead, returning that error, which is retryable later. Returns the last
   attempt's status. `policy` may be NULL for the defaults. RecordSync is safe to retry:
   the server acknowledges a resent event as a duplicate. */
pisync_status pisync_retry(pisync_client *client, const pisync_retry_policy *policy,
                           pisync_retry_fn attempt, void *context, pisync_error *err);

/* The delay before retry number `retry` (1 for the first retry): a random value in
   [d/2, d] where d = min(max_delay_ms, base_delay_ms * 2^(retry-1)) ("equal jitter").
   `rng_state` is the caller's random state (any nonzero value to start). */
uint32_t pisync_backoff_delay_ms(const pisync_retry_policy *policy, int retry,
                                 uint64_t *rng_state);

/* ------------------------------------------------------------------------------------ */
/* Offline spool                                                                         */
/* ------------------------------------------------------------------------------------ */

/* A file of events not yet acknowledged by the server. Each record is length+CRC framed
   and fsynced when appended; a torn last record (power cut) is discarded on open and the
   records before it are kept. Events leave the spool only when the server acknowledged
   them (accepted or duplicate), when it rejected them (retrying would fail again), or
   when the spool is full (the oldest are dropped). Every removal is counted.
   The spool locks PATH.lock while open (one writer at a time, across processes) and
   compacts itself through PATH.tmp. */
typedef struct pisync_spool pisync_spool;

typedef struct pisync_spool_options {
    size_t max_events; /* bound on pending events; 0 means 10000 */
} pisync_spool_options;

typedef struct pisync_spool_stats {
    size_t pending;          /* events waiting to be sent */
    uint64_t delivered;      /* acknowledged by the server (accepted or duplicate), in all */
    uint64_t rejected;       /* rejected by the server and dropped, in all */
    uint64_t dropped_full;   /* oldest events dropped because the spool was full, in all */
    uint64_t discarded_bytes; /* torn or corrupt bytes cut off the end when this spool was
                                 opened (not kept across opens) */
} pisync_spool_stats;

/* Opens (creating if needed) the spool at `path`, waiting for its lock. */
pisync_status pisync_spool_open(const char *path, const pisync_spool_options *options,
                                pisync_spool **spool, pisync_error *err);
void pisync_spool_close(pisync_spool *spool);

/* Appends an event (which must name its device) and fsyncs. When the spool is full the
   oldest event is dropped and counted in dropped_full. */
pisync_status pisync_spool_append(pisync_spool *spool, const pisync_event *event,
                                  pisync_error *err);

size_t pisync_spool_pending(const pisync_spool *spool);
/* The i-th oldest pending event (0 is the oldest), or NULL when i >= pending. */
const pisync_event *pisync_spool_peek(const pisync_spool *spool, size_t i);

/* Removes the `count` oldest events after the server answered for them: `rejected` of
   them were rejected, the others acknowledged. */
pisync_status pisync_spool_ack(pisync_spool *spool, size_t count, size_t rejected,
                               pisync_error *err);

void pisync_spool_get_stats(const pisync_spool *spool, pisync_spool_stats *stats);

/* Reading a server's archive files: the events its retention moved out of memory, in
   DATA_DIR/archive/YYYY-MM-DD.pisync (see docs/operations.md). Works while the server
   appends: a record cut short at the end ends the file. */
typedef struct pisync_archive pisync_archive;

pisync_status pisync_archive_open(const char *path, pisync_archive **archive,
                                  pisync_error *err);
/* The next event: *done is 0 and `event` filled, or *done is 1 at the end. A damaged record
   is PISYNC_ERR_PROTOCOL, naming the file and offset. */
pisync_status pisync_archive_next(pisync_archive *archive, pisync_event *event, int *done,
                                  pisync_error *err);
void pisync_archive_close(pisync_archive *archive);

typedef struct pisync_flush_options {
    size_t max_batch; /* events per RecordSync; 0 means PISYNC_MAX_BATCH */
    /* Called for each event the server rejected, before it is dropped. May be NULL. */
    void (*on_rejected)(void *context, const pisync_event *event,
                        const pisync_rejection *rejection);
    void *context;
} pisync_flush_options;

typedef struct pisync_flush_result {
    size_t batches;       /* RecordSync requests answered */
    uint64_t accepted;
    uint64_t duplicates;
    uint64_t rejected;
    size_t remaining;     /* events still in the spool */
} pisync_flush_result;

/* Sends the pending events, oldest first, in batches of consecutive events of one device
   (named at request level), and removes each batch once the server answered it. Stops at
   the first failure, keeping the unanswered events. An empty spool is a no-op that does
   not touch the network. `options` and `result` may be NULL. */
pisync_status pisync_spool_flush(pisync_spool *spool, pisync_client *client,
                                 const pisync_flush_options *options,
                                 pisync_flush_result *result, pisync_error *err);

#ifdef __cplusplus
}
#endif

#endif /* PISYNC_H */
