/*
 * pisync_error.c - error values: filling, naming, formatting and classifying them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pisync_internal.h"

void pisync_copy_string(char *dst, size_t size, const char *src)
{
    size_t len;

    if (size == 0)
        return;
    if (src == NULL)
        src = "";
    len = strlen(src);
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

pisync_status pisync_ok(pisync_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
    return PISYNC_OK;
}

pisync_status pisync_fail(pisync_error *err, pisync_status status, int sys_errno,
                          const char *fmt, ...)
{
    va_list args;

    if (err == NULL)
        return status;
    memset(err, 0, sizeof *err);
    err->status = status;
    err->sys_errno = sys_errno;
    va_start(args, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, args);
    va_end(args);
    return status;
}

pisync_status pisync_fail_server(pisync_error *err, const Pisync__V1__Error *server_error,
                                 int connection_notice)
{
    if (err == NULL)
        return PISYNC_ERR_SERVER;
    memset(err, 0, sizeof *err);
    err->status = PISYNC_ERR_SERVER;
    err->code = server_error->code;
    err->connection_notice = connection_notice;
    err->retry_after_ms = server_error->retry_after_ms;
    pisync_copy_string(err->field, sizeof err->field, server_error->field);
    pisync_copy_string(err->message, sizeof err->message, server_error->message);
    return PISYNC_ERR_SERVER;
}

const char *pisync_status_name(pisync_status status)
{
    switch (status) {
    case PISYNC_OK: return "PISYNC_OK";
    case PISYNC_ERR_SERVER: return "PISYNC_ERR_SERVER";
    case PISYNC_ERR_CONNECT: return "PISYNC_ERR_CONNECT";
    case PISYNC_ERR_IO: return "PISYNC_ERR_IO";
    case PISYNC_ERR_TIMEOUT: return "PISYNC_ERR_TIMEOUT";
    case PISYNC_ERR_PROTOCOL: return "PISYNC_ERR_PROTOCOL";
    case PISYNC_ERR_ARGUMENT: return "PISYNC_ERR_ARGUMENT";
    case PISYNC_ERR_NOMEM: return "PISYNC_ERR_NOMEM";
    case PISYNC_ERR_SPOOL: return "PISYNC_ERR_SPOOL";
    case PISYNC_ERR_TLS: return "PISYNC_ERR_TLS";
    }
    return "PISYNC_ERR_UNKNOWN";
}

const char *pisync_code_name(uint32_t code)
{
    switch (code) {
    case 0: return "OK";
    case PISYNC_CODE_CANCELLED: return "CANCELLED";
    case PISYNC_CODE_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case PISYNC_CODE_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case PISYNC_CODE_NOT_FOUND: return "NOT_FOUND";
    case PISYNC_CODE_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case PISYNC_CODE_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case PISYNC_CODE_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case PISYNC_CODE_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case PISYNC_CODE_INTERNAL: return "INTERNAL";
    case PISYNC_CODE_UNAVAILABLE: return "UNAVAILABLE";
    case PISYNC_CODE_UNAUTHENTICATED: return "UNAUTHENTICATED";
    }
    return "UNKNOWN";
}

char *pisync_error_format(const pisync_error *err, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (err == NULL || err->status == PISYNC_OK) {
        snprintf(buf, size, "no error");
    } else if (err->status == PISYNC_ERR_SERVER) {
        char retry_after[48] = "";

        if (err->retry_after_ms > 0)
            snprintf(retry_after, sizeof retry_after, " (retry after %u ms)",
                     (unsigned)err->retry_after_ms);
        snprintf(buf, size, "server error: %s (%u)%s%s%s%s: %s%s", pisync_code_name(err->code),
                 (unsigned)err->code, err->field[0] ? " [" : "", err->field,
                 err->field[0] ? "]" : "", err->connection_notice ? " (connection notice)" : "",
                 err->message, retry_after);
    } else {
        snprintf(buf, size, "%s", err->message[0] ? err->message : pisync_status_name(err->status));
    }
    return buf;
}

int pisync_error_is_retryable(const pisync_error *err)
{
    if (err == NULL)
        return 0;
    switch (err->status) {
    case PISYNC_ERR_CONNECT:
    case PISYNC_ERR_IO:
    case PISYNC_ERR_TIMEOUT:
    case PISYNC_ERR_PROTOCOL:
        return 1;
    case PISYNC_ERR_SERVER:
        /* An id 0 notice says the connection ended (idle, shutdown, connection limit): the
           request itself was not judged, so it may succeed on a new connection. */
        if (err->connection_notice)
            return 1;
        return err->code == PISYNC_CODE_UNAVAILABLE ||
               err->code == PISYNC_CODE_RESOURCE_EXHAUSTED ||
               err->code == PISYNC_CODE_INTERNAL;
    default:
        return 0;
    }
}
