/*
 * fake_server.c - see fake_server.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "fake_server.h"

#define SCRIPT_TIMEOUT_MS 10000

int fake_listen(int *port)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

void unused_address(char *buf, size_t size)
{
    int port = 1;
    int fd = fake_listen(&port);

    /* The port was free a moment ago and nothing listens once it is closed. */
    if (fd >= 0)
        close(fd);
    snprintf(buf, size, "127.0.0.1:%d", port);
}

int fake_server_start(fake_server *server, fake_script script, void *context)
{
    int port = 0;
    int listen_fd = fake_listen(&port);

    memset(server, 0, sizeof *server);
    if (listen_fd < 0)
        return -1;
    snprintf(server->address, sizeof server->address, "127.0.0.1:%d", port);
    fflush(NULL);
    server->pid = fork();
    if (server->pid < 0) {
        close(listen_fd);
        return -1;
    }
    if (server->pid == 0) {
        /* The child: run the script, then leave at once (no atexit handlers, so the
           sanitizers' leak check runs in the parent only). */
        int rc = script(listen_fd, context);

        close(listen_fd);
        _exit(rc == 0 ? 0 : 1);
    }
    close(listen_fd); /* the child's copy keeps listening */
    return 0;
}

int fake_server_finish(fake_server *server)
{
    int status = 0;
    int waited;

    for (waited = 0; waited < SCRIPT_TIMEOUT_MS; waited += 10) {
        pid_t r = waitpid(server->pid, &status, WNOHANG);

        if (r == server->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        if (r < 0)
            return -1;
        pisync_sleep_ms(10);
    }
    kill(server->pid, SIGKILL);
    waitpid(server->pid, &status, 0);
    fprintf(stderr, "    fake server script timed out\n");
    return 124;
}

static int wait_readable(int fd)
{
    struct pollfd pfd;

    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, SCRIPT_TIMEOUT_MS) == 1 ? 0 : -1;
}

int fake_accept(int listen_fd, fake_conn *conn)
{
    memset(conn, 0, sizeof *conn);
    pisync_framebuf_init(&conn->rx);
    conn->fd = -1;
    if (wait_readable(listen_fd) != 0)
        return -1;
    conn->fd = accept(listen_fd, NULL, NULL);
    return conn->fd < 0 ? -1 : 0;
}

void fake_close(fake_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    conn->fd = -1;
    pisync_framebuf_free(&conn->rx);
}

/* Reads more bytes; returns the count, 0 at end of file, -1 on error or timeout. */
static ssize_t read_more(fake_conn *conn)
{
    size_t room;
    uint8_t *dst = pisync_framebuf_reserve(&conn->rx, 4096, &room);
    ssize_t n;

    if (dst == NULL || wait_readable(conn->fd) != 0)
        return -1;
    n = read(conn->fd, dst, room);
    if (n > 0)
        pisync_framebuf_commit(&conn->rx, (size_t)n);
    return n;
}

Pisync__V1__Request *fake_read_request(fake_conn *conn)
{
    for (;;) {
        const uint8_t *body;
        size_t body_len;
        pisync_frame_result r = pisync_framebuf_next(&conn->rx, 1 << 20, &body, &body_len);

        if (r == PISYNC_FRAME_READY)
            return pisync__v1__request__unpack(NULL, body_len, body);
        if (r != PISYNC_FRAME_INCOMPLETE || read_more(conn) <= 0)
            return NULL;
    }
}

int fake_wait_eof(fake_conn *conn)
{
    for (;;) {
        ssize_t n = read_more(conn);

        if (n == 0)
            return 0;
        if (n < 0)
            return -1;
    }
}

int fake_send_bytes(fake_conn *conn, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;

    while (len > 0) {
        ssize_t n = write(conn->fd, p, len);

        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_response(fake_conn *conn, const Pisync__V1__Response *response)
{
    uint8_t *frame;
    size_t len;
    int rc;

    if (pisync_frame_encode(&response->base, &frame, &len, NULL) != PISYNC_OK)
        return -1;
    rc = fake_send_bytes(conn, frame, len);
    free(frame);
    return rc;
}

int fake_send_ping(fake_conn *conn, uint64_t id, const char *version)
{
    Pisync__V1__PingResponse ping = PISYNC__V1__PING_RESPONSE__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;

    ping.version = (char *)version;
    ping.uptime_ms = 1234;
    response.id = id;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_PING;
    response.ping = &ping;
    return send_response(conn, &response);
}

int fake_send_error(fake_conn *conn, uint64_t id, uint32_t code, const char *field,
                    const char *message)
{
    return fake_send_error_retry_after(conn, id, code, field, message, 0);
}

int fake_send_error_retry_after(fake_conn *conn, uint64_t id, uint32_t code, const char *field,
                                const char *message, uint32_t retry_after_ms)
{
    Pisync__V1__Error error = PISYNC__V1__ERROR__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;

    error.retry_after_ms = retry_after_ms;
    error.code = code;
    error.field = (char *)field;
    error.message = (char *)message;
    response.id = id;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_ERROR;
    response.error = &error;
    return send_response(conn, &response);
}

int fake_send_authenticate(fake_conn *conn, uint64_t id, const char *role, const char *name,
                           int auth_required)
{
    Pisync__V1__AuthenticateResponse authenticate = PISYNC__V1__AUTHENTICATE_RESPONSE__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;

    authenticate.role = (char *)role;
    authenticate.name = (char *)name;
    authenticate.auth_required = auth_required != 0;
    response.id = id;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_AUTHENTICATE;
    response.authenticate = &authenticate;
    return send_response(conn, &response);
}

int fake_send_record(fake_conn *conn, uint64_t id, uint32_t accepted, uint32_t duplicates,
                     const uint32_t *rejected, size_t n_rejected)
{
    Pisync__V1__RejectedEvent items[16];
    Pisync__V1__RejectedEvent *pointers[16];
    Pisync__V1__RecordSyncResponse record = PISYNC__V1__RECORD_SYNC_RESPONSE__INIT;
    Pisync__V1__Response response = PISYNC__V1__RESPONSE__INIT;
    size_t i;

    if (n_rejected > 16)
        return -1;
    for (i = 0; i < n_rejected; i++) {
        pisync__v1__rejected_event__init(&items[i]);
        items[i].index = rejected[i];
        items[i].code = 3;
        items[i].field = (char *)"timestamp";
        items[i].message = (char *)"timestamp is in the future";
        pointers[i] = &items[i];
    }
    record.accepted = accepted;
    record.duplicates = duplicates;
    record.n_rejected = n_rejected;
    record.rejected = pointers;
    response.id = id;
    response.result_case = PISYNC__V1__RESPONSE__RESULT_RECORD_SYNC;
    response.record_sync = &record;
    return send_response(conn, &response);
}

/* ---- a server whose log writes fail ---- */

/* The report's entry for an event, added on first sight; NULL when the report is full. */
static fake_disk_event *disk_event(fake_disk_report *report, const char *device,
                                   int64_t timestamp)
{
    fake_disk_event *e;
    size_t i;

    for (i = 0; i < report->event_count; i++) {
        e = &report->events[i];
        if (e->timestamp == timestamp && strcmp(e->device, device) == 0)
            return e;
    }
    if (report->event_count == FAKE_DISK_MAX_EVENTS)
        return NULL;
    e = &report->events[report->event_count++];
    snprintf(e->device, sizeof e->device, "%s", device);
    e->timestamp = timestamp;
    return e;
}

/* Answers one request. Returns 0, or -1 when it was not a RecordSync the script expects. */
static int disk_answer(fake_conn *conn, const fake_disk_plan *plan, fake_disk_report *report,
                       const Pisync__V1__Request *r)
{
    const Pisync__V1__RecordSyncRequest *rs = r->record_sync;
    fake_disk_event *seen[FAKE_DISK_MAX_EVENTS];
    fake_disk_request *q;
    uint32_t accepted = 0, duplicates = 0;
    size_t i;
    int rc;

    if (r->call_case != PISYNC__V1__REQUEST__CALL_RECORD_SYNC ||
        report->request_count == FAKE_DISK_MAX_REQUESTS || rs->n_events > FAKE_DISK_MAX_EVENTS)
        return -1;
    q = &report->requests[report->request_count++];
    q->arrived_ms = pisync_monotonic_ms();
    q->events = rs->n_events;
    q->observed = plan->observe != NULL ? plan->observe(plan->observe_context) : -1;
    for (i = 0; i < rs->n_events; i++) {
        const Pisync__V1__SyncEvent *e = rs->events[i];

        seen[i] = disk_event(report, e->device_id[0] ? e->device_id : rs->device_id,
                             e->timestamp);
        if (seen[i] == NULL)
            return -1;
        seen[i]->sent++;
    }
    /* Stamped before the answer leaves: the client may start its backoff as soon as it
       has the answer, and a stamp taken after the send could come later than that. */
    q->answered_ms = pisync_monotonic_ms();
    if (report->request_count <= (size_t)plan->fail_first) {
        q->code = 14;
        rc = fake_send_error(conn, r->id, 14, "", FAKE_DISK_FULL_MESSAGE);
    } else {
        for (i = 0; i < rs->n_events; i++) {
            if (seen[i]->acked++ == 0)
                accepted++;
            else
                duplicates++;
        }
        rc = fake_send_record(conn, r->id, accepted, duplicates, NULL, 0);
    }
    return rc;
}

/* Distinct events acknowledged so far. */
static size_t disk_acknowledged(const fake_disk_report *report)
{
    size_t i, acked = 0;

    for (i = 0; i < report->event_count; i++)
        acked += report->events[i].acked > 0;
    return acked;
}

static int disk_script(int listen_fd, void *context)
{
    fake_disk_plan *plan = context;
    fake_disk_report report;
    fake_conn conn;
    int failed = 0;

    memset(&report, 0, sizeof report);
    memset(&conn, 0, sizeof conn);
    conn.fd = -1;
    pisync_framebuf_init(&conn.rx);
    while (!failed && !report.completed) {
        struct pollfd fds[2];

        /* A request already buffered would not wake poll(): read it first. */
        if (conn.fd < 0 || pisync_framebuf_buffered(&conn.rx) == 0) {
            fds[0].fd = listen_fd;
            fds[0].events = POLLIN;
            fds[1].fd = conn.fd; /* ignored by poll() while negative */
            fds[1].events = POLLIN;
            fds[0].revents = fds[1].revents = 0;
            if (poll(fds, 2, SCRIPT_TIMEOUT_MS) <= 0) {
                fprintf(stderr, "    failing-disk server: nothing from the client for %d ms, "
                                "with %zu of %zu events acknowledged\n",
                        SCRIPT_TIMEOUT_MS, disk_acknowledged(&report), plan->expect_events);
                failed = 1;
                break;
            }
            if (conn.fd < 0 || fds[1].revents == 0) {
                /* A new connection: the client has moved on from the old one, if any. */
                fake_close(&conn);
                failed = fake_accept(listen_fd, &conn) != 0;
                continue;
            }
        }
        {
            Pisync__V1__Request *r = fake_read_request(&conn);

            if (r == NULL) { /* the client closed this connection */
                fake_close(&conn);
                report.completed = disk_acknowledged(&report) >= plan->expect_events;
                continue;
            }
            failed = disk_answer(&conn, plan, &report, r) != 0;
            if (failed)
                fprintf(stderr, "    failing-disk server: cannot answer request %zu\n",
                        report.request_count);
            pisync__v1__request__free_unpacked(r, NULL);
        }
    }
    fake_close(&conn);
    close(plan->report_pipe[0]);
    /* The report is far smaller than a pipe's buffer, so this does not wait for a reader. */
    if (write(plan->report_pipe[1], &report, sizeof report) != (ssize_t)sizeof report)
        report.completed = 0;
    close(plan->report_pipe[1]);
    return report.completed ? 0 : 1;
}

int fake_disk_start(fake_server *server, fake_disk_plan *plan)
{
    if (pipe(plan->report_pipe) != 0)
        return -1;
    if (fake_server_start(server, disk_script, plan) != 0) {
        close(plan->report_pipe[0]);
        close(plan->report_pipe[1]);
        return -1;
    }
    close(plan->report_pipe[1]); /* so that a server that died unreported reads as EOF */
    plan->report_pipe[1] = -1;
    return 0;
}

int fake_disk_finish(fake_server *server, fake_disk_plan *plan, fake_disk_report *report)
{
    int rc = fake_server_finish(server);
    size_t got = 0;

    memset(report, 0, sizeof *report);
    while (got < sizeof *report) {
        ssize_t n = read(plan->report_pipe[0], (char *)report + got, sizeof *report - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(plan->report_pipe[0]);
    plan->report_pipe[0] = -1;
    if (got != sizeof *report) {
        fprintf(stderr, "    the failing-disk server sent no report\n");
        return -1;
    }
    return rc;
}
