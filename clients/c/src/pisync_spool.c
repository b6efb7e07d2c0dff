/*
 * pisync_spool.c - the offline spool: a crash-safe, bounded queue of events in a file.
 *
 * File format (all integers little-endian):
 *
 *   "PISPOOL1"                                8-byte magic
 *   record*                                   appended one after another
 *
 *   record = u32 body_len | u32 crc32(body) | body
 *   body   = u8 type | payload
 *     type 1 EVENT:  payload = a serialized pisync.v1.SyncEvent (device_id included)
 *     type 2 REMOVE: payload = u32 count | u64 delivered | u64 rejected | u64 dropped_full
 *                    (removes the `count` oldest events; adds to the three counters)
 *
 * The file is a log of a FIFO queue: events are appended at the tail, and every removal
 * takes the oldest events (a flushed batch is always the oldest events, and so is the
 * overflow victim), so it is recorded as one small REMOVE record instead of rewriting the
 * file. Replaying the log from the start rebuilds the queue and the counters.
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
 *
 * Concurrency: PATH.lock is held with flock() while the spool is open, so a `send` and a
 * `flush` running at the same time take turns.
 */
#define _DEFAULT_SOURCE /* flock() */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "pisync_internal.h"

#define SPOOL_MAGIC "PISPOOL1"
#define SPOOL_MAGIC_LEN 8
#define RECORD_HEADER_LEN 8
#define RECORD_EVENT 1
#define RECORD_REMOVE 2
#define REMOVE_PAYLOAD_LEN (4 + 8 + 8 + 8)
/* A SyncEvent with a 128-character id is under 170 bytes; anything far larger is garbage. */
#define MAX_RECORD_BODY 1024
#define DEFAULT_MAX_EVENTS 10000
/* Don't compact for a handful of dead records: a rewrite costs a full file write. */
#define COMPACT_MIN_DEAD 256

struct pisync_spool {
    char *path;
    char *tmp_path;
    int fd;      /* the spool file, -1 after a failed compaction left it unusable */
    int lock_fd; /* PATH.lock, flock()ed while open */
    size_t max_events;
    pisync_event *events; /* live events are events[head .. head + count) */
    size_t head;
    size_t count;
    size_t cap;
    uint64_t file_end;   /* where the next record is written */
    size_t dead_records; /* records in the file that no longer hold a live event */
    uint64_t delivered;
    uint64_t rejected;
    uint64_t dropped_full;
    uint64_t discarded_bytes;
};

/* ---- little-endian integers and CRC-32 ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)v);
    put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* CRC-32 (IEEE 802.3, as zlib), bit by bit: records are small, and there is no table to
   initialize or keep in global memory. */
uint32_t pisync_crc32(const uint8_t *bytes, size_t len)
{
    uint32_t crc = 0xffffffffu;
    size_t i;
    int bit;

    for (i = 0; i < len; i++) {
        crc ^= bytes[i];
        for (bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- building records in memory ---- */

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} byte_buffer;

static uint8_t *buffer_grow(byte_buffer *b, size_t extra)
{
    if (b->cap - b->len < extra) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *grown;

        while (cap - b->len < extra)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (grown == NULL)
            return NULL;
        b->data = grown;
        b->cap = cap;
    }
    return b->data + b->len;
}

/* Reserves room for a record with a body of `body_len` bytes and returns the body. */
static uint8_t *record_begin(byte_buffer *b, size_t body_len)
{
    uint8_t *record = buffer_grow(b, RECORD_HEADER_LEN + body_len);

    if (record == NULL)
        return NULL;
    put_u32(record, (uint32_t)body_len);
    return record + RECORD_HEADER_LEN;
}

/* Seals the record whose body was filled in: checksums it and counts it in. */
static void record_end(byte_buffer *b, size_t body_len)
{
    uint8_t *record = b->data + b->len;

    put_u32(record + 4, pisync_crc32(record + RECORD_HEADER_LEN, body_len));
    b->len += RECORD_HEADER_LEN + body_len;
}

static int add_event_record(byte_buffer *b, const pisync_event *event)
{
    Pisync__V1__SyncEvent message;
    size_t body_len;
    uint8_t *body;

    pisync_event_to_message(event, &message);
    body_len = 1 + pisync__v1__sync_event__get_packed_size(&message);
    body = record_begin(b, body_len);
    if (body == NULL)
        return -1;
    body[0] = RECORD_EVENT;
    pisync__v1__sync_event__pack(&message, body + 1);
    record_end(b, body_len);
    return 0;
}

static int add_remove_record(byte_buffer *b, uint32_t count, uint64_t delivered,
                             uint64_t rejected, uint64_t dropped_full)
{
    uint8_t *body = record_begin(b, 1 + REMOVE_PAYLOAD_LEN);

    if (body == NULL)
        return -1;
    body[0] = RECORD_REMOVE;
    put_u32(body + 1, count);
    put_u64(body + 5, delivered);
    put_u64(body + 13, rejected);
    put_u64(body + 21, dropped_full);
    record_end(b, 1 + REMOVE_PAYLOAD_LEN);
    return 0;
}

/* ---- the in-memory queue ---- */

/* Makes room for `extra` more events at the tail. */
static int reserve_events(pisync_spool *s, size_t extra)
{
    if (s->head + s->count + extra <= s->cap)
        return 0;
    if (s->head > 0) {
        memmove(s->events, s->events + s->head, s->count * sizeof *s->events);
        s->head = 0;
    }
    if (s->count + extra > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pisync_event *grown;

        while (cap < s->count + extra)
            cap *= 2;
        grown = realloc(s->events, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        s->events = grown;
        s->cap = cap;
    }
    return 0;
}

static void push_event(pisync_spool *s, const pisync_event *event)
{
    s->events[s->head + s->count] = *event;
    s->count++;
}

static void remove_oldest(pisync_spool *s, size_t n)
{
    if (n > s->count)
        n = s->count;
    s->head += n;
    s->count -= n;
    if (s->count == 0)
        s->head = 0;
}

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

static pisync_status spool_io_error(pisync_spool *s, pisync_error *err, const char *what)
{
    int saved = errno;

    return pisync_fail(err, PISYNC_ERR_SPOOL, saved, "spool %s: %s: %s", s->path, what,
                       strerror(saved));
}

/* Appends records durably. On failure the file is cut back to where it was, so a
   half-written record never sits in front of later appends. */
static pisync_status append_records(pisync_spool *s, const byte_buffer *b, pisync_error *err)
{
    if (s->fd < 0)
        return pisync_fail(err, PISYNC_ERR_SPOOL, 0, "spool %s is unusable after an error",
                           s->path);
    if (write_all_at(s->fd, b->data, b->len, s->file_end) != 0 || fsync(s->fd) != 0) {
        pisync_status rc = spool_io_error(s, err, "write");

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
static int build_compacted(const pisync_spool *s, byte_buffer *b)
{
    size_t i;
    uint8_t *magic = buffer_grow(b, SPOOL_MAGIC_LEN);

    if (magic == NULL)
        return -1;
    memcpy(magic, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
    b->len += SPOOL_MAGIC_LEN;
    if (add_remove_record(b, 0, s->delivered, s->rejected, s->dropped_full) != 0)
        return -1;
    for (i = 0; i < s->count; i++) {
        if (add_event_record(b, &s->events[s->head + i]) != 0)
            return -1;
    }
    return 0;
}

static pisync_status compact(pisync_spool *s, pisync_error *err)
{
    byte_buffer b = {NULL, 0, 0};
    int tmp_fd = -1;
    int new_fd;
    pisync_status rc;

    if (build_compacted(s, &b) != 0) {
        free(b.data);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory compacting the spool");
    }
    tmp_fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (tmp_fd < 0 || write_all_at(tmp_fd, b.data, b.len, 0) != 0 || fsync(tmp_fd) != 0) {
        rc = spool_io_error(s, err, "writing the compacted file");
        goto fail;
    }
    close(tmp_fd);
    tmp_fd = -1;
    /* After the rename the new file is the spool; fsyncing the directory makes the
       rename itself survive a power cut. */
    if (rename(s->tmp_path, s->path) != 0) {
        rc = spool_io_error(s, err, "renaming the compacted file");
        goto fail;
    }
    (void)fsync_parent_dir(s->path);
    new_fd = open(s->path, O_RDWR);
    if (new_fd < 0) {
        rc = spool_io_error(s, err, "reopening after compaction");
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
static void maybe_compact(pisync_spool *s)
{
    int emptied = s->count == 0 && s->dead_records > 1;
    int mostly_dead = s->dead_records >= COMPACT_MIN_DEAD && s->dead_records > s->count;

    if (s->fd >= 0 && (emptied || mostly_dead))
        (void)compact(s, NULL);
}

/* ---- loading ---- */

/* Applies one record's body during replay. Returns 0, or -1 when the body is invalid
   (replay stops there), or -2 when out of memory. */
static int replay_record(pisync_spool *s, const uint8_t *body, size_t body_len)
{
    if (body[0] == RECORD_EVENT) {
        Pisync__V1__SyncEvent *message =
            pisync__v1__sync_event__unpack(NULL, body_len - 1, body + 1);
        pisync_event event;

        if (message == NULL)
            return -1;
        pisync_event_from_message(message, &event);
        pisync__v1__sync_event__free_unpacked(message, NULL);
        if (reserve_events(s, 1) != 0)
            return -2;
        push_event(s, &event);
        return 0;
    }
    if (body[0] == RECORD_REMOVE && body_len == 1 + REMOVE_PAYLOAD_LEN) {
        size_t n = get_u32(body + 1);

        if (n > s->count)
            n = s->count;
        remove_oldest(s, n);
        s->delivered += get_u64(body + 5);
        s->rejected += get_u64(body + 13);
        s->dropped_full += get_u64(body + 21);
        s->dead_records += n + 1;
        return 0;
    }
    return -1;
}

/* Replays the records in `data` (the file after its magic). Returns the number of bytes
   that hold whole, valid records, or -1 when out of memory. */
static long long replay(pisync_spool *s, const uint8_t *data, size_t size)
{
    size_t pos = 0;

    while (size - pos >= RECORD_HEADER_LEN) {
        size_t body_len = get_u32(data + pos);
        uint32_t crc = get_u32(data + pos + 4);
        const uint8_t *body = data + pos + RECORD_HEADER_LEN;
        int rc;

        if (body_len == 0 || body_len > MAX_RECORD_BODY ||
            size - pos - RECORD_HEADER_LEN < body_len || pisync_crc32(body, body_len) != crc)
            break; /* torn or corrupt: keep what came before */
        rc = replay_record(s, body, body_len);
        if (rc == -2)
            return -1;
        if (rc != 0)
            break;
        pos += RECORD_HEADER_LEN + body_len;
    }
    return (long long)pos;
}

static pisync_status read_file(pisync_spool *s, uint8_t **data, size_t *size, pisync_error *err)
{
    struct stat st;
    size_t done = 0;

    *data = NULL;
    *size = 0;
    if (fstat(s->fd, &st) != 0)
        return spool_io_error(s, err, "stat");
    *data = malloc((size_t)st.st_size + 1);
    if (*data == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading the spool");
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(s->fd, *data + done, (size_t)st.st_size - done, (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return spool_io_error(s, err, "read");
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
        return spool_io_error(s, err, "initialize");
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
        return spool_io_error(s, err, "truncating a torn record");
    return pisync_ok(err);
}

static pisync_status load(pisync_spool *s, pisync_error *err)
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
    valid = replay(s, data + SPOOL_MAGIC_LEN, size - SPOOL_MAGIC_LEN);
    free(data);
    if (valid < 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory reading the spool");
    return cut_tail(s, SPOOL_MAGIC_LEN + (uint64_t)valid, size, err);
}

/* ---- removal ---- */

/* Durably removes the `n` oldest events, counting them in the given counters. */
static pisync_status remove_and_count(pisync_spool *s, size_t n, uint64_t delivered,
                                      uint64_t rejected, uint64_t dropped_full,
                                      pisync_error *err)
{
    byte_buffer b = {NULL, 0, 0};
    pisync_status rc;

    if (n == 0)
        return pisync_ok(err);
    if (add_remove_record(&b, (uint32_t)n, delivered, rejected, dropped_full) != 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    rc = append_records(s, &b, err);
    free(b.data);
    if (rc != PISYNC_OK)
        return rc;
    remove_oldest(s, n);
    s->delivered += delivered;
    s->rejected += rejected;
    s->dropped_full += dropped_full;
    s->dead_records += n + 1;
    maybe_compact(s);
    return pisync_ok(err);
}

/* ---- public API ---- */

static char *concat(const char *a, const char *b)
{
    char *out = malloc(strlen(a) + strlen(b) + 1);

    if (out != NULL) {
        strcpy(out, a);
        strcat(out, b);
    }
    return out;
}

/* Opens PATH.lock and waits for the exclusive lock. */
static pisync_status take_lock(pisync_spool *s, pisync_error *err)
{
    char *lock_path = concat(s->path, ".lock");

    if (lock_path == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    s->lock_fd = open(lock_path, O_RDWR | O_CREAT, 0644);
    free(lock_path);
    if (s->lock_fd < 0)
        return spool_io_error(s, err, "opening the lock file");
    while (flock(s->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return spool_io_error(s, err, "locking");
    }
    return pisync_ok(err);
}

pisync_status pisync_spool_open(const char *path, const pisync_spool_options *options,
                                pisync_spool **spool, pisync_error *err)
{
    pisync_spool *s;
    pisync_status rc;

    *spool = NULL;
    if (path == NULL || path[0] == '\0')
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "spool path is empty");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    s->fd = -1;
    s->lock_fd = -1;
    s->max_events = options && options->max_events ? options->max_events : DEFAULT_MAX_EVENTS;
    s->path = concat(path, "");
    s->tmp_path = concat(path, ".tmp");
    if (s->path == NULL || s->tmp_path == NULL) {
        pisync_spool_close(s);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    rc = take_lock(s, err);
    if (rc == PISYNC_OK) {
        (void)unlink(s->tmp_path); /* left by a compaction that a crash interrupted */
        s->fd = open(s->path, O_RDWR | O_CREAT, 0644);
        rc = s->fd < 0 ? spool_io_error(s, err, "open") : load(s, err);
    }
    /* The bound may have been lowered since the file was written. */
    if (rc == PISYNC_OK && s->count > s->max_events) {
        size_t excess = s->count - s->max_events;

        rc = remove_and_count(s, excess, 0, 0, excess, err);
    }
    if (rc != PISYNC_OK) {
        pisync_spool_close(s);
        return rc;
    }
    maybe_compact(s);
    *spool = s;
    return pisync_ok(err);
}

void pisync_spool_close(pisync_spool *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    free(s->events);
    free(s->path);
    free(s->tmp_path);
    free(s);
}

pisync_status pisync_spool_append(pisync_spool *s, const pisync_event *event,
                                  pisync_error *err)
{
    byte_buffer b = {NULL, 0, 0};
    size_t overflow = s->count >= s->max_events ? s->count - s->max_events + 1 : 0;
    pisync_status rc;

    if (event == NULL || event->device_id[0] == '\0')
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "a spooled event must name its device");
    if (reserve_events(s, 1) != 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    /* The event first, then the removal of the oldest: if a power cut tears the REMOVE,
       the next open sees one event too many and drops the oldest again. */
    if (add_event_record(&b, event) != 0 ||
        (overflow > 0 && add_remove_record(&b, (uint32_t)overflow, 0, 0, overflow) != 0)) {
        free(b.data);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    rc = append_records(s, &b, err);
    free(b.data);
    if (rc != PISYNC_OK)
        return rc;
    push_event(s, event);
    if (overflow > 0) {
        remove_oldest(s, overflow);
        s->dropped_full += overflow;
        s->dead_records += overflow + 1;
        maybe_compact(s);
    }
    return pisync_ok(err);
}

size_t pisync_spool_pending(const pisync_spool *s)
{
    return s->count;
}

const pisync_event *pisync_spool_peek(const pisync_spool *s, size_t i)
{
    return i < s->count ? &s->events[s->head + i] : NULL;
}

pisync_status pisync_spool_ack(pisync_spool *s, size_t count, size_t rejected,
                               pisync_error *err)
{
    if (count > s->count || rejected > count)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                           "cannot acknowledge %zu events (%zu rejected) of %zu pending", count,
                           rejected, s->count);
    return remove_and_count(s, count, count - rejected, rejected, 0, err);
}

void pisync_spool_get_stats(const pisync_spool *s, pisync_spool_stats *stats)
{
    stats->pending = s->count;
    stats->delivered = s->delivered;
    stats->rejected = s->rejected;
    stats->dropped_full = s->dropped_full;
    stats->discarded_bytes = s->discarded_bytes;
}
