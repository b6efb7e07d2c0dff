/*
 * pisync_archive.c - reads a PiSync server's archive files (DATA_DIR/archive/YYYY-MM-DD.pisync,
 * see docs/operations.md, "Retention and archiving").
 *
 * File format (all integers little-endian), the server's log framing:
 *
 *   "PISYNCAR" | u32 version (1) | u32 0     16-byte header
 *   record*    = u32 body_len | u32 crc32(body) | body
 *   body       = a serialized pisync.v1.SyncEvent (device_id and sync_status included)
 *
 * A record cut short at the end of the file (the server is appending) ends the file; a
 * checksum mismatch or a body that does not decode is an error naming the offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"

#define ARCHIVE_HEADER_LEN 16
/* A SyncEvent with a 128-character id is under 170 bytes; anything far larger is damage. */
#define MAX_ARCHIVE_BODY 4096

struct pisync_archive {
    FILE *file;
    char path[256];
    long offset;
};

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

pisync_status pisync_archive_open(const char *path, pisync_archive **archive, pisync_error *err)
{
    pisync_archive *a;
    uint8_t header[ARCHIVE_HEADER_LEN];
    size_t got;

    if (path == NULL || archive == NULL)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "archive path and result are required");
    *archive = NULL;
    if ((a = calloc(1, sizeof *a)) == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory opening an archive");
    pisync_copy_string(a->path, sizeof a->path, path);
    if ((a->file = fopen(path, "rb")) == NULL) {
        int saved = errno;
        free(a);
        return pisync_fail(err, PISYNC_ERR_IO, saved, "archive %s: cannot open: %s", path,
                           strerror(saved));
    }
    got = fread(header, 1, sizeof header, a->file);
    if (got == sizeof header &&
        (memcmp(header, "PISYNCAR", 8) != 0 || read_u32(header + 8) != 1)) {
        pisync_archive_close(a);
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0,
                           "%s is not a version 1 pisync archive file", path);
    }
    a->offset = (long)got;
    *archive = a;
    return pisync_ok(err);
}

pisync_status pisync_archive_next(pisync_archive *archive, pisync_event *event, int *done,
                                  pisync_error *err)
{
    uint8_t frame[8];
    uint8_t *body;
    uint32_t length;
    Pisync__V1__SyncEvent *message;

    if (archive == NULL || event == NULL || done == NULL)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "archive, event and done are required");
    *done = 1;
    if (archive->offset < ARCHIVE_HEADER_LEN)
        return pisync_ok(err); /* a file being created: no header yet */
    if (fread(frame, 1, sizeof frame, archive->file) != sizeof frame)
        return pisync_ok(err); /* the end, or a record cut short */
    length = read_u32(frame);
    if (length > MAX_ARCHIVE_BODY)
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0, "archive %s at offset %ld: record length %u",
                           archive->path, archive->offset, (unsigned)length);
    if ((body = malloc(length ? length : 1)) == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading an archive");
    if (fread(body, 1, length, archive->file) != length) {
        free(body);
        return pisync_ok(err); /* cut short: the server is appending */
    }
    if (pisync_crc32(body, length) != read_u32(frame + 4)) {
        free(body);
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0, "archive %s at offset %ld: record checksum mismatch",
                           archive->path, archive->offset);
    }
    message = pisync__v1__sync_event__unpack(NULL, length, body);
    free(body);
    if (message == NULL)
        return pisync_fail(err, PISYNC_ERR_PROTOCOL, 0, "archive %s at offset %ld: record does not decode",
                           archive->path, archive->offset);
    pisync_event_from_message(message, event);
    pisync__v1__sync_event__free_unpacked(message, NULL);
    archive->offset += (long)(sizeof frame + length);
    *done = 0;
    return pisync_ok(err);
}

void pisync_archive_close(pisync_archive *archive)
{
    if (archive == NULL)
        return;
    fclose(archive->file);
    free(archive);
}
