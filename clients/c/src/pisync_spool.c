/*
 * pisync_spool.c - the offline spool: a crash-safe, bounded queue of events in a file.
 * This file holds the in-memory queue, removals, and the public API; the record format
 * is in pisync_spool_format.c, and writing, loading and compacting the file in
 * pisync_spool_file.c.
 *
 * The file is a log of a FIFO queue: events are appended at the tail, and every removal
 * takes the oldest events (a flushed batch is always the oldest events, and so is the
 * overflow victim), so it is recorded as one small REMOVE record instead of rewriting the
 * file. Replaying the log from the start rebuilds the queue and the counters.
 *
 * Concurrency: PATH.lock is held with flock() while the spool is open, so a `send` and a
 * `flush` running at the same time take turns.
 */
#define _DEFAULT_SOURCE /* flock() */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include "pisync_internal.h"

#define DEFAULT_MAX_EVENTS 10000

/* ---- the in-memory queue ---- */

/* Makes room for `extra` more events at the tail. */
int pisync_spool_reserve_events(pisync_spool *s, size_t extra)
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

void pisync_spool_push_event(pisync_spool *s, const pisync_event *event)
{
    s->events[s->head + s->count] = *event;
    s->count++;
}

void pisync_spool_remove_oldest(pisync_spool *s, size_t n)
{
    if (n > s->count)
        n = s->count;
    s->head += n;
    s->count -= n;
    if (s->count == 0)
        s->head = 0;
}

/* ---- removal ---- */

/* Durably removes the `n` oldest events, counting them in the given counters. */
static pisync_status remove_and_count(pisync_spool *s, size_t n, uint64_t delivered,
                                      uint64_t rejected, uint64_t dropped_full,
                                      pisync_error *err)
{
    pisync_spool_buffer b = {NULL, 0, 0};
    pisync_status rc;

    if (n == 0)
        return pisync_ok(err);
    if (pisync_spool_add_remove_record(&b, (uint32_t)n, delivered, rejected, dropped_full) != 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    rc = pisync_spool_append_records(s, &b, err);
    free(b.data);
    if (rc != PISYNC_OK)
        return rc;
    pisync_spool_remove_oldest(s, n);
    s->delivered += delivered;
    s->rejected += rejected;
    s->dropped_full += dropped_full;
    s->dead_records += n + 1;
    pisync_spool_maybe_compact(s);
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
        return pisync_spool_io_error(s, err, "opening the lock file");
    while (flock(s->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return pisync_spool_io_error(s, err, "locking");
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
        rc = s->fd < 0 ? pisync_spool_io_error(s, err, "open") : pisync_spool_load(s, err);
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
    pisync_spool_maybe_compact(s);
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
    pisync_spool_buffer b = {NULL, 0, 0};
    size_t overflow = s->count >= s->max_events ? s->count - s->max_events + 1 : 0;
    pisync_status rc;

    if (event == NULL || event->device_id[0] == '\0')
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0, "a spooled event must name its device");
    if (pisync_spool_reserve_events(s, 1) != 0)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    /* The event first, then the removal of the oldest: if a power cut tears the REMOVE,
       the next open sees one event too many and drops the oldest again. */
    if (pisync_spool_add_event_record(&b, event) != 0 ||
        (overflow > 0 &&
         pisync_spool_add_remove_record(&b, (uint32_t)overflow, 0, 0, overflow) != 0)) {
        free(b.data);
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    }
    rc = pisync_spool_append_records(s, &b, err);
    free(b.data);
    if (rc != PISYNC_OK)
        return rc;
    pisync_spool_push_event(s, event);
    if (overflow > 0) {
        pisync_spool_remove_oldest(s, overflow);
        s->dropped_full += overflow;
        s->dead_records += overflow + 1;
        pisync_spool_maybe_compact(s);
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
