/*
 * test_spool.c - the offline spool file: durability, torn records, the bound, acks.
 */
#define _DEFAULT_SOURCE /* flock() in the lock test */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pisync_internal.h"
#include "test.h"

#define BASE_TS 1700000000000LL

typedef struct {
    char *dir;
    char path[4200];
} spool_dir;

static int spool_dir_new(spool_dir *d)
{
    d->dir = test_temp_dir();
    if (d->dir == NULL)
        return -1;
    snprintf(d->path, sizeof d->path, "%s/events.spool", d->dir);
    return 0;
}

static pisync_spool *open_spool(const char *path, size_t max_events)
{
    pisync_spool_options options;
    pisync_spool *spool = NULL;
    pisync_error err;

    options.max_events = max_events;
    if (pisync_spool_open(path, &options, &spool, &err) != PISYNC_OK) {
        char text[600];

        test_note("open %s: %s", path, pisync_error_format(&err, text, sizeof text));
        return NULL;
    }
    return spool;
}

/* A new directory `d` and an open spool in it. Records a directory that cannot be made;
   returns NULL also when the spool cannot be opened. */
static pisync_spool *new_spool(spool_dir *d, size_t max_events)
{
    REQUIRE_OR_RETURN(spool_dir_new(d) == 0, NULL);
    return open_spool(d->path, max_events);
}

/* Closes `spool` and opens its file again, as after a restart. */
static pisync_spool *reopen_spool(pisync_spool *spool, const char *path, size_t max_events)
{
    pisync_spool_close(spool);
    return open_spool(path, max_events);
}

/* Closes the spool and removes its directory. */
static void spool_done(pisync_spool *spool, spool_dir *d)
{
    pisync_spool_close(spool);
    test_remove_dir(d->dir);
}

/* Event i: a distinct timestamp and counts, so each one can be recognized. */
static pisync_event event_n(int i)
{
    pisync_event e;

    pisync_event_init(&e, "pibox-042", BASE_TS + i * 1000, (uint32_t)i, (uint32_t)(i % 3),
                      (float)i + 0.5f);
    return e;
}

static int append_n(pisync_spool *spool, int from, int to)
{
    int i;

    for (i = from; i < to; i++) {
        pisync_event e = event_n(i);

        if (pisync_spool_append(spool, &e, NULL) != PISYNC_OK)
            return -1;
    }
    return 0;
}

/* Whether the pending events are exactly event_n(from .. to-1), oldest first. */
static int holds(const pisync_spool *spool, int from, int to)
{
    int i;

    if (pisync_spool_pending(spool) != (size_t)(to - from))
        return 0;
    for (i = from; i < to; i++) {
        const pisync_event *got = pisync_spool_peek(spool, (size_t)(i - from));
        pisync_event want = event_n(i);

        if (got == NULL || strcmp(got->device_id, want.device_id) != 0 ||
            got->timestamp != want.timestamp ||
            got->total_files_synced != want.total_files_synced ||
            got->total_errors != want.total_errors || got->internet_speed != want.internet_speed)
            return 0;
    }
    return pisync_spool_peek(spool, (size_t)(to - from)) == NULL;
}

static long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A new directory `d` with a closed spool file holding event_n(0 .. count-1). Returns 0
   when it was made (a failure is recorded). */
static int spool_file_with_events(spool_dir *d, int count)
{
    pisync_spool *spool = new_spool(d, 0);

    REQUIRE_OR_RETURN(spool != NULL, -1);
    CHECK(append_n(spool, 0, count) == 0);
    pisync_spool_close(spool);
    return 0;
}

void test_spool_append_and_read_back(void)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;

    spool = new_spool(&d, 0);
    REQUIRE(spool != NULL);
    CHECK(pisync_spool_pending(spool) == 0);
    CHECK(append_n(spool, 0, 3) == 0);
    CHECK(holds(spool, 0, 3));

    spool = reopen_spool(spool, d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 3));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.pending == 3 && stats.delivered == 0 && stats.rejected == 0 &&
          stats.dropped_full == 0 && stats.discarded_bytes == 0);
    /* An event must name its device. */
    {
        pisync_event nameless = event_n(9);
        pisync_error err;

        nameless.device_id[0] = '\0';
        CHECK(pisync_spool_append(spool, &nameless, &err) == PISYNC_ERR_ARGUMENT);
    }
    spool_done(spool, &d);
}

/* Writes 3 events, cuts `cut` bytes off the end, and checks that reopening keeps the
   first 2 and that new appends land after them. */
static void check_torn_tail(size_t cut)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;
    long before_third, full;

    spool = new_spool(&d, 0);
    REQUIRE(spool != NULL);
    CHECK(append_n(spool, 0, 2) == 0);
    before_third = file_size(d.path);
    CHECK(append_n(spool, 2, 3) == 0);
    pisync_spool_close(spool);
    full = file_size(d.path);
    REQUIRE(full > before_third && (long)cut < full - before_third);

    /* The power cut: the third record is only partly on disk. */
    CHECK(truncate(d.path, (off_t)(full - (long)cut)) == 0);
    spool = open_spool(d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 2));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.discarded_bytes == (uint64_t)(full - (long)cut - before_third));
    CHECK(file_size(d.path) == before_third); /* the torn bytes are cut off */
    CHECK(append_n(spool, 2, 4) == 0);

    spool = reopen_spool(spool, d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 4));
    spool_done(spool, &d);
}

void test_spool_torn_last_record(void)
{
    size_t cuts[] = {1, 2, 5, 9, 14, 20};
    size_t i;

    for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        check_torn_tail(cuts[i]);
}

/* Flips one byte of the last record: its CRC no longer matches. */
void test_spool_corrupt_last_record(void)
{
    spool_dir d;
    pisync_spool *spool;
    long size;
    int fd;
    unsigned char byte;

    REQUIRE(spool_file_with_events(&d, 3) == 0);
    size = file_size(d.path);
    fd = open(d.path, O_RDWR);
    REQUIRE(fd >= 0);
    CHECK(pread(fd, &byte, 1, size - 3) == 1);
    byte ^= 0x40;
    CHECK(pwrite(fd, &byte, 1, size - 3) == 1);
    close(fd);

    spool = open_spool(d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 2));
    spool_done(spool, &d);
}

/* Some file systems leave zeros (not a short file) after a power cut. */
void test_spool_zero_filled_tail(void)
{
    static const unsigned char zeros[64];
    spool_dir d;
    pisync_spool *spool;
    int fd;

    REQUIRE(spool_file_with_events(&d, 3) == 0);
    fd = open(d.path, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    CHECK(write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros);
    close(fd);

    spool = open_spool(d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 3));
    spool_done(spool, &d);
}

void test_spool_bound_drops_oldest(void)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;

    spool = new_spool(&d, 3);
    REQUIRE(spool != NULL);
    CHECK(append_n(spool, 0, 5) == 0);
    CHECK(holds(spool, 2, 5)); /* events 0 and 1 were the oldest */
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.dropped_full == 2);

    spool = reopen_spool(spool, d.path, 3);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 2, 5));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.dropped_full == 2); /* the count survives reopening */
    spool_done(spool, &d);
}

void test_spool_lower_bound_on_reopen(void)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;

    spool = new_spool(&d, 10);
    REQUIRE(spool != NULL);
    CHECK(append_n(spool, 0, 6) == 0);
    spool = reopen_spool(spool, d.path, 4);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 2, 6));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.dropped_full == 2);
    spool = reopen_spool(spool, d.path, 10);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 2, 6));
    spool_done(spool, &d);
}

void test_spool_ack_deletes_only_acknowledged(void)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;
    pisync_error err;

    spool = new_spool(&d, 0);
    REQUIRE(spool != NULL);
    CHECK(append_n(spool, 0, 5) == 0);
    /* The server answered for the two oldest: one acknowledged, one rejected. */
    CHECK_STATUS(pisync_spool_ack(spool, 2, 1, &err), PISYNC_OK, &err);
    CHECK(holds(spool, 2, 5));
    /* Invalid acks change nothing. */
    CHECK(pisync_spool_ack(spool, 4, 0, &err) == PISYNC_ERR_ARGUMENT);
    CHECK(pisync_spool_ack(spool, 1, 2, &err) == PISYNC_ERR_ARGUMENT);
    CHECK(holds(spool, 2, 5));

    /* Unacknowledged events are still there after a restart; acknowledged ones are not. */
    spool = reopen_spool(spool, d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 2, 5));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.delivered == 1 && stats.rejected == 1 && stats.dropped_full == 0);
    CHECK_STATUS(pisync_spool_ack(spool, 3, 0, &err), PISYNC_OK, &err);
    CHECK(pisync_spool_pending(spool) == 0);

    spool = reopen_spool(spool, d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(pisync_spool_pending(spool) == 0);
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.delivered == 4 && stats.rejected == 1);
    spool_done(spool, &d);
}

void test_spool_compaction_keeps_file_small(void)
{
    spool_dir d;
    pisync_spool *spool;
    pisync_spool_stats stats;
    long after_fill, size;

    spool = new_spool(&d, 100);
    REQUIRE(spool != NULL);
    CHECK(append_n(spool, 0, 100) == 0);
    after_fill = file_size(d.path);
    /* 2000 more appends to a full spool: each drops the oldest, and compaction keeps the
       file within a small multiple of 100 events. */
    CHECK(append_n(spool, 100, 2100) == 0);
    size = file_size(d.path);
    CHECK(size > 0 && size < 8 * after_fill);
    CHECK(holds(spool, 2000, 2100));
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.dropped_full == 2000);
    /* Acknowledging everything compacts to the magic and the counters. */
    CHECK(pisync_spool_ack(spool, 100, 0, NULL) == PISYNC_OK);
    CHECK(file_size(d.path) < 64);

    spool = reopen_spool(spool, d.path, 100);
    REQUIRE(spool != NULL);
    pisync_spool_get_stats(spool, &stats);
    CHECK(stats.pending == 0 && stats.dropped_full == 2000 && stats.delivered == 100);
    spool_done(spool, &d);
}

static int write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (f == NULL)
        return -1;
    ok = fwrite(bytes, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

void test_spool_rejects_foreign_file(void)
{
    static const char text[] = "this is somebody's important file\n";
    spool_dir d;
    pisync_spool *spool = NULL;
    pisync_spool_options options = {0};
    pisync_error err;

    REQUIRE(spool_dir_new(&d) == 0);
    REQUIRE(write_file(d.path, text, strlen(text)) == 0);
    CHECK(pisync_spool_open(d.path, &options, &spool, &err) == PISYNC_ERR_SPOOL);
    CHECK(spool == NULL && strstr(err.message, "not a pisync spool") != NULL);
    CHECK(file_size(d.path) == (long)strlen(text)); /* left alone */
    test_remove_dir(d.dir);
}

void test_spool_torn_header_and_leftover_tmp(void)
{
    spool_dir d;
    pisync_spool *spool;
    char tmp[4300];

    REQUIRE(spool_dir_new(&d) == 0);
    /* A power cut while the file was being created... */
    REQUIRE(write_file(d.path, "PISP", 4) == 0);
    /* ...and one during a compaction. */
    snprintf(tmp, sizeof tmp, "%s.tmp", d.path);
    REQUIRE(write_file(tmp, "PISPOOL1garbage", 15) == 0);
    spool = open_spool(d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(pisync_spool_pending(spool) == 0);
    CHECK(access(tmp, F_OK) != 0);
    CHECK(append_n(spool, 0, 2) == 0);
    spool = reopen_spool(spool, d.path, 0);
    REQUIRE(spool != NULL);
    CHECK(holds(spool, 0, 2));
    spool_done(spool, &d);
}

void test_spool_is_locked_while_open(void)
{
    spool_dir d;
    pisync_spool *spool;
    char lock[4300];
    pid_t child;
    int status = 0;

    spool = new_spool(&d, 0);
    REQUIRE(spool != NULL);
    snprintf(lock, sizeof lock, "%s.lock", d.path);
    fflush(NULL);
    child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        /* Another process (a concurrent `pisync-device send`) cannot take the lock. */
        int fd = open(lock, O_RDWR);
        int busy = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;

        _exit(busy ? 0 : 1);
    }
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    spool_done(spool, &d);
}
