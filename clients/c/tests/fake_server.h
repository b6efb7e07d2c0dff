/*
 * fake_server.h - a scripted PiSync server for unit tests: a child process that accepts
 * connections on 127.0.0.1 and runs a C function that reads requests and writes chosen
 * responses (out of order, malformed, notices, ...).
 */
#ifndef PISYNC_FAKE_SERVER_H
#define PISYNC_FAKE_SERVER_H

#include <sys/types.h>

#include "pisync_internal.h"

/* Runs in the child. Returns 0 when every check the script makes passed. */
typedef int (*fake_script)(int listen_fd, void *context);

typedef struct {
    pid_t pid;
    char address[64]; /* "127.0.0.1:PORT" */
} fake_server;

int fake_server_start(fake_server *server, fake_script script, void *context);
/* Waits for the script to end (killing it after 10 s). Returns its result (0 = passed). */
int fake_server_finish(fake_server *server);

/* A socket listening on 127.0.0.1 at a free port (set in *port), or -1. */
int fake_listen(int *port);
/* A port on 127.0.0.1 where nothing listens, as "127.0.0.1:PORT". */
void unused_address(char *buf, size_t size);

/* ---- for scripts (blocking, with a 10 s limit) ---- */

typedef struct {
    int fd;
    pisync_framebuf rx;
} fake_conn;

int fake_accept(int listen_fd, fake_conn *conn);
void fake_close(fake_conn *conn);
/* The next request, or NULL at end of file. Free with pisync__v1__request__free_unpacked. */
Pisync__V1__Request *fake_read_request(fake_conn *conn);
/* Waits until the client closes the connection. Returns 0 when it did. */
int fake_wait_eof(fake_conn *conn);
int fake_send_bytes(fake_conn *conn, const void *bytes, size_t len);
int fake_send_ping(fake_conn *conn, uint64_t id, const char *version);
int fake_send_error(fake_conn *conn, uint64_t id, uint32_t code, const char *field,
                    const char *message);
/* An error with Error.retry_after_ms set, as a rate limit sends it. */
int fake_send_error_retry_after(fake_conn *conn, uint64_t id, uint32_t code, const char *field,
                                const char *message, uint32_t retry_after_ms);
int fake_send_authenticate(fake_conn *conn, uint64_t id, const char *role, const char *name,
                           int auth_required);
/* A RecordSync answer; `rejected` lists `n_rejected` event indexes (code 3, "timestamp"). */
int fake_send_record(fake_conn *conn, uint64_t id, uint32_t accepted, uint32_t duplicates,
                     const uint32_t *rejected, size_t n_rejected);

/* ---- a server whose log writes fail: UNAVAILABLE first, acknowledgements later ---- */

/* Plays a server whose disk is full at first: it answers the first `fail_first` RecordSync
   requests with Error{14 UNAVAILABLE, "log write failed: disk full"}, as the real server
   does when its write-ahead log cannot be written or fsynced, and acknowledges the later
   ones: each event, keyed by (device, timestamp), counts as accepted the first time and
   as a duplicate after. It serves one connection after another, since a client may
   reconnect between attempts, and ends when a connection closes after `expect_events`
   distinct events were acknowledged. What it saw comes back through fake_disk_finish. */

#define FAKE_DISK_MAX_REQUESTS 16
#define FAKE_DISK_MAX_EVENTS 32
#define FAKE_DISK_FULL_MESSAGE "log write failed: disk full"

typedef struct {
    int64_t arrived_ms;  /* pisync_monotonic_ms() once the whole request was read */
    int64_t answered_ms; /* just before its answer was sent */
    uint32_t code;       /* the answer: 14 (UNAVAILABLE), or 0 for an acknowledgement */
    size_t events;       /* events in the request */
    long observed;       /* what plan.observe returned on arrival, before the answer; -1
                            without observe */
} fake_disk_request;

typedef struct {
    char device[PISYNC_DEVICE_ID_MAX + 1];
    int64_t timestamp;
    int sent;  /* requests that carried it */
    int acked; /* answers that acknowledged it (accepted or duplicate) */
} fake_disk_event;

typedef struct {
    int completed; /* the script ended as planned: no timeout, no unexpected request */
    size_t request_count;
    fake_disk_request requests[FAKE_DISK_MAX_REQUESTS];
    size_t event_count; /* distinct events seen, in order of first arrival */
    fake_disk_event events[FAKE_DISK_MAX_EVENTS];
} fake_disk_report;

typedef struct {
    int fail_first;       /* RecordSync requests answered with UNAVAILABLE */
    size_t expect_events; /* distinct events to acknowledge before ending */
    /* When not NULL, called (in the server process) as each request arrives, before it is
       answered; its value goes into the request's `observed`. */
    long (*observe)(void *context);
    void *observe_context;
    int report_pipe[2]; /* set by fake_disk_start */
} fake_disk_plan;

int fake_disk_start(fake_server *server, fake_disk_plan *plan);
/* Waits for the server to end (fake_server_finish) and reads its report. Returns -1 when
   no report arrived, else the script's result: 0 when it ran as planned. */
int fake_disk_finish(fake_server *server, fake_disk_plan *plan, fake_disk_report *report);

#endif
