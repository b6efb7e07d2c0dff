/*
 * server_process.h - runs a real pisync server (PISYNC_SERVER_BIN) for integration tests:
 * on port 0 in a fresh data directory, with the port read from its log.
 */
#ifndef PISYNC_SERVER_PROCESS_H
#define PISYNC_SERVER_PROCESS_H

#include <stddef.h>
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

/* Runs `bin` with the NULL-terminated arguments in `dir` and keeps the first line of its
   standard output in `out`. Returns 0 when it exited 0 and printed a line. */
int server_run_command(const char *bin, const char *const *args, const char *dir, char *out,
                       size_t size);
/* Writes an auth secret file (one key, "k1", mode 0600) at DIR/secret into `path`.
   Returns 0 on success. */
int server_write_secret(const char *dir, char *path, size_t size);
/* Mints a token with `bin token --device|--operator NAME` under DIR/secret (see
   server_write_secret) into `out`. Returns 0 on success. */
int server_mint_token(const char *bin, const char *dir, const char *role_flag,
                      const char *name, char *out, size_t size);

#endif
