/*
 * pisync_spool_file.c - the spool file on disk: durable appends, loading the file when
 * the spool is opened (cutting off a torn tail), and compaction.
 *
 * Crash safety: each append is one write() followed by fsync(). After a power cut the
 * last record may be torn (cut short, or holding garbage): on open the log is replayed up
 * to the first record that is incomplete or fails its CRC, and the file is truncated
 * there; everything before it is kept. A torn REMOVE only means its events are sent
 * again, which the server acknowledges as duplicates.
 *
 * Compaction: when removed records outnumber the live events (or the queue is empty), the
 * live events are written to PATH.tmp, which is fsynced, renamed over PATH, and the
 * directory fsynced; a crash at any point leaves either the old or the new file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "pisync_internal.h"

#define SPOOL_MAGIC "PISPOOL1"
#define SPOOL_MAGIC_LEN 8
/* Don't compact for a handful of dead records: a rewrite costs a full file write. */
#define COMPACT_MIN_DEAD 256

/* ---- file helpers ---- */

static int write_all_at(int fd, const uint8_t *bytes, size_t len, uint64_t offset)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, bytes, len, (off_t)offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        bytes += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static int fsync_parent_dir(const char *path)
{
    char *dir = malloc(strlen(path) + 2);
    char *slash;
    int fd;
    int rc = -1;

    if (dir == NULL)
        return -1;
    strcpy(dir, path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(dir);
    return rc;
}

pisync_status pisync_spool_io_error(pisync_spool *s, pisync_error *err, const char *what)
{
    int saved = errno;

    return pisync_fail(err, PISYNC_ERR_SPOOL, saved, "spool %s: %s: %s", s->path, what,
                       strerror(saved));
}

/* Appends records durably. On failure the file is cut back to where it was, so a
   half-written record never sits in front of later appends. */
pisync_status pisync_spool_append_records(pisync_spool *s, const pisync_spool_buffer *b,
                                          pisync_error *err)
{
    if (s->fd < 0)
        return pisync_fail(err, PISYNC_ERR_SPOOL, 0, "spool %s is unusable after an error",
                           s->path);
    if (write_all_at(s->fd, b->data, b->len, s->file_end) != 0 || fsync(s->fd) != 0) {
        pisync_status rc = pisync_spool_io_error(s, err, "write");

        if (ftruncate(s->fd, (off_t)s->file_end) != 0) {
            close(s->fd);
            s->fd = -1;
        }
        return rc;
    }
    s->file_end += b->len;
    return pisync_ok(err);
}

/* ---- compaction ---- */

/* Builds the content of a compacted file: magic, the counters, the live events. */
static int build_compacted(const pisync_spool *s, pisync_spool_buffer *b)
{
    size_t i;
    uint8_t *magic = pisync_spool_buffer_grow(b, SPOOL_MAGIC_LEN);

    if (magic == NULL)
        return -1;
    memcpy(magic, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
    b->len += SPOOL_MAGIC_LEN;
    if (pisync_spool_add_remove_record(b, 0, s->delivered, s->rejected, s->dropped_full) != 0)
        return -1;
    for (i = 0; i < s->count; i++) {
        if (pisync_spool_add_event_record(b, &s->events[s->head + i]) != 0)
            return -1;
    }
    return 0;
}

static pisync_status compact(pisync_spool *s, pisync_error *err)
{
    pisync_spool_buffer b = {NULL, 0, 0};
    int tmp_fd = -1;
    int new_fd;
    pisync_status rc;

    if (build_compacted(s, &b) != 0) {
        free(b.data);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory compacting the spool");
    }
    tmp_fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (tmp_fd < 0 || write_all_at(tmp_fd, b.data, b.len, 0) != 0 || fsync(tmp_fd) != 0) {
        rc = pisync_spool_io_error(s, err, "writing the compacted file");
        goto fail;
    }
    close(tmp_fd);
    tmp_fd = -1;
    /* After the rename the new file is the spool; fsyncing the directory makes the
       rename itself survive a power cut. */
    if (rename(s->tmp_path, s->path) != 0) {
        rc = pisync_spool_io_error(s, err, "renaming the compacted file");
        goto fail;
    }
    (void)fsync_parent_dir(s->path);
    new_fd = open(s->path, O_RDWR);
    if (new_fd < 0) {
        rc = pisync_spool_io_error(s, err, "reopening after compaction");
        close(s->fd);
        s->fd = -1;
        free(b.data);
        return rc;
    }
    close(s->fd);
    s->fd = new_fd;
    s->file_end = b.len;
    s->dead_records = 0;
    free(b.data);
    return pisync_ok(err);
fail:
    if (tmp_fd >= 0)
        close(tmp_fd);
    (void)unlink(s->tmp_path);
    free(b.data);
    return rc;
}

/* Compacts when the file is mostly dead weight. A failed compaction is not an error of
   the operation that triggered it: the log is still valid, and the next one retries. */
void pisync_spool_maybe_compact(pisync_spool *s)
{
    int emptied = s->count == 0 && s->dead_records > 1;
    int mostly_dead = s->dead_records >= COMPACT_MIN_DEAD && s->dead_records > s->count;

    if (s->fd >= 0 && (emptied || mostly_dead))
        (void)compact(s, NULL);
}

/* ---- loading ---- */

static pisync_status read_file(pisync_spool *s, uint8_t **data, size_t *size, pisync_error *err)
{
    struct stat st;
    size_t done = 0;

    *data = NULL;
    *size = 0;
    if (fstat(s->fd, &st) != 0)
        return pisync_spool_io_error(s, err, "stat");
    *data = malloc((size_t)st.st_size + 1);
    if (*data == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading the spool");
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(s->fd, *data + done, (size_t)st.st_size - done, (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pisync_spool_io_error(s, err, "read");
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *size = done;
    return pisync_ok(err);
}

/* Writes the magic into an empty (or torn-at-creation) file. */
static pisync_status initialize_file(pisync_spool *s, pisync_error *err)
{
    if (ftruncate(s->fd, 0) != 0 ||
        write_all_at(s->fd, (const uint8_t *)SPOOL_MAGIC, SPOOL_MAGIC_LEN, 0) != 0 ||
        fsync(s->fd) != 0)
        return pisync_spool_io_error(s, err, "initialize");
    (void)fsync_parent_dir(s->path);
    s->file_end = SPOOL_MAGIC_LEN;
    return pisync_ok(err);
}

/* Cuts a torn or corrupt tail off the file so new records follow valid ones. */
static pisync_status cut_tail(pisync_spool *s, uint64_t valid_end, uint64_t size,
                              pisync_error *err)
{
    s->file_end = valid_end;
    if (valid_end == size)
        return pisync_ok(err);
    s->discarded_bytes = size - valid_end;
    if (ftruncate(s->fd, (off_t)valid_end) != 0 || fsync(s->fd) != 0)
        return pisync_spool_io_error(s, err, "truncating a torn record");
    return pisync_ok(err);
}

pisync_status pisync_spool_load(pisync_spool *s, pisync_error *err)
{
    uint8_t *data;
    size_t size;
    long long valid;
    pisync_status rc = read_file(s, &data, &size, err);

    if (rc != PISYNC_OK) {
        free(data);
        return rc;
    }
    if (size < SPOOL_MAGIC_LEN && memcmp(data, SPOOL_MAGIC, size) == 0) {
        /* New, or a power cut hit while it was being created. */
        free(data);
        return initialize_file(s, err);
    }
    if (size < SPOOL_MAGIC_LEN || memcmp(data, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0) {
        free(data);
        return pisync_fail(err, PISYNC_ERR_SPOOL, 0, "%s is not a pisync spool file", s->path);
    }
    valid = pisync_spool_replay(s, data + SPOOL_MAGIC_LEN, size - SPOOL_MAGIC_LEN);
    free(data);
    if (valid < 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading the spool");
    return cut_tail(s, SPOOL_MAGIC_LEN + (uint64_t)valid, size, err);
}
