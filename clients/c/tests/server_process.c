/*
 * server_process.c - see server_process.h.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pisync_internal.h"
#include "server_process.h"
#include "test.h"

#define START_TIMEOUT_MS 20000

static void run_server(const server_process *server, const char *bin,
                       const char *const *extra_args)
{
    const char *argv[32];
    char log_path[4200];
    int n = 0;
    int fd;

    snprintf(log_path, sizeof log_path, "%s/server.log", server->dir);
    fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    /* Run inside the data directory so that no ./.env of the caller is picked up. */
    if (fd < 0 || chdir(server->dir) != 0)
        _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--data-dir";
    argv[n++] = server->dir;
    while (extra_args != NULL && *extra_args != NULL && n < 31)
        argv[n++] = *extra_args++;
    argv[n] = NULL;
    execv(bin, (char *const *)argv);
    _exit(127);
}

/* Looks for "listening on HOST:PORT" in the log. */
static int find_address(const server_process *server, char *address, size_t size)
{
    char log_path[4200];
    char line[4096];
    FILE *f;
    int found = 0;

    snprintf(log_path, sizeof log_path, "%s/server.log", server->dir);
    f = fopen(log_path, "r");
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        const char *at = strstr(line, "listening on ");

        if (at != NULL) {
            size_t len;

            at += strlen("listening on ");
            len = strcspn(at, " \t\r\n");
            if (len > 0 && len < size) {
                memcpy(address, at, len);
                address[len] = '\0';
                found = 1;
            }
        }
    }
    fclose(f);
    return found;
}

int server_start(server_process *server, const char *bin, const char *const *extra_args)
{
    int waited;

    memset(server, 0, sizeof *server);
    server->pid = -1;
    server->dir = test_temp_dir();
    if (server->dir == NULL)
        return -1;
    fflush(NULL);
    server->pid = fork();
    if (server->pid < 0)
        return -1;
    if (server->pid == 0)
        run_server(server, bin, extra_args);
    for (waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        int status;

        if (find_address(server, server->address, sizeof server->address))
            return 0;
        if (waitpid(server->pid, &status, WNOHANG) == server->pid) {
            test_note("the server exited before listening (see its log in %s)", server->dir);
            server->pid = -1;
            return -1;
        }
        pisync_sleep_ms(20);
    }
    test_note("the server did not log 'listening on' within %d ms", START_TIMEOUT_MS);
    server_stop(server);
    return -1;
}

int server_stop(server_process *server)
{
    int status;
    int waited;

    if (server->pid <= 0)
        return -1;
    kill(server->pid, SIGTERM);
    for (waited = 0; waited < 10000; waited += 20) {
        if (waitpid(server->pid, &status, WNOHANG) == server->pid) {
            server->pid = -1;
            return 0;
        }
        pisync_sleep_ms(20);
    }
    kill(server->pid, SIGKILL);
    waitpid(server->pid, &status, 0);
    server->pid = -1;
    return 0;
}

void server_cleanup(server_process *server)
{
    server_stop(server);
    test_remove_dir(server->dir);
    server->dir = NULL;
}

/* ---- the CLI's other commands ---- */

int server_run_command(const char *bin, const char *const *args, const char *dir, char *out,
                       size_t size)
{
    const char *argv[16];
    int fds[2];
    int status = 0;
    size_t got = 0;
    pid_t pid;
    int n = 0;

    argv[n++] = bin;
    while (args != NULL && *args != NULL && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (size == 0 || pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (chdir(dir) != 0) /* no ./.env of the caller */
            _exit(127);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t r = read(fds[0], out + got, size - 1 - got);

        if (r <= 0 || (got += (size_t)r) == size - 1)
            break;
    }
    close(fds[0]);
    out[got] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return out[0] != '\0' ? 0 : -1;
}

int server_write_secret(const char *dir, char *path, size_t size)
{
    /* A fixed test secret: 64 characters, more than the 32 bytes required. */
    static const char line[] =
        "k1 c-client-test-secret-0123456789abcdef0123456789abcdef01234567\n";
    int fd;
    int ok;

    snprintf(path, size, "%s/secret", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    ok = write(fd, line, sizeof line - 1) == (ssize_t)(sizeof line - 1);
    return close(fd) == 0 && ok ? 0 : -1;
}

int server_mint_token(const char *bin, const char *dir, const char *role_flag,
                      const char *name, char *out, size_t size)
{
    const char *args[] = {"token", role_flag, name, "--auth-secret-file", "secret", NULL};

    return server_run_command(bin, args, dir, out, size);
}
