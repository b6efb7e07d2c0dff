/*
 * server_process.h - runs a real pisync server (PISYNC_SERVER_BIN) for integration tests:
 * on port 0 in a fresh data directory, with the port read from its log.
 */
#ifndef PISYNC_SERVER_PROCESS_H
#define PISYNC_SERVER_PROCESS_H

#include <sys/types.h>

typedef struct {
    pid_t pid;
    char *dir;        /* data directory, also holding server.log */
    char address[64]; /* "127.0.0.1:PORT" */
} server_process;

/* Starts `bin serve --port 0 ...` plus the NULL-terminated extra arguments (may be NULL).
   Returns 0 once the server logs that it listens. */
int server_start(server_process *server, const char *bin, const char *const *extra_args);
/* SIGTERM, then SIGKILL if it has not exited after 10 s. Returns 0 when it was running. */
int server_stop(server_process *server);
/* Stops the server if running and removes its directory. */
void server_cleanup(server_process *server);

#endif
