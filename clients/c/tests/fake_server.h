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
/* A RecordSync answer; `rejected` lists `n_rejected` event indexes (code 3, "timestamp"). */
int fake_send_record(fake_conn *conn, uint64_t id, uint32_t accepted, uint32_t duplicates,
                     const uint32_t *rejected, size_t n_rejected);

#endif
