/*
 * fuzz_spool.c - libFuzzer target: opening a spool file of arbitrary bytes (replay, cutting a
 * torn tail, the bound), using it, and opening it again.
 *
 * Input: byte 0, bits 0-2: max_events (default, 1, 2, 3, 5, 8, 300, default); bits 4-7: how
 * many of the oldest events to acknowledge after appending one (half of them as rejected);
 * then the file's bytes. The file lives in a directory of its own under $TMPDIR (tmpfs
 * /dev/shm when there is one, so that fsync costs nothing).
 *
 * Beyond ASan, UBSan and LeakSanitizer, it checks what the spool promises: a file that is
 * not a spool is refused, the bound holds, every event is a terminated string of at most
 * PISYNC_DEVICE_ID_MAX characters, and what the spool holds when closed is exactly what it
 * holds when opened again (events, in order, and the counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "pisync_internal.h"

static const size_t max_events_choices[8] = {0, 1, 2, 3, 5, 8, 300, 0};

/* What a spool holds, to compare across a reopen. */
typedef struct {
    size_t pending;
    pisync_event *events;
    uint64_t delivered, rejected, dropped_full;
} spool_state;

static void capture(const pisync_spool *spool, spool_state *state)
{
    pisync_spool_stats stats;

    pisync_spool_get_stats(spool, &stats);
    state->pending = stats.pending;
    state->delivered = stats.delivered;
    state->rejected = stats.rejected;
    state->dropped_full = stats.dropped_full;
    state->events = malloc((stats.pending + 1) * sizeof *state->events);
    FUZZ_CHECK(state->events != NULL);
    if (stats.pending > 0)
        memcpy(state->events, pisync_spool_peek(spool, 0), stats.pending * sizeof *state->events);
}

static void check_spool(const pisync_spool *spool, size_t max_events)
{
    size_t i, pending = pisync_spool_pending(spool);

    FUZZ_CHECK(pending <= (max_events ? max_events : 10000));
    FUZZ_CHECK(pisync_spool_peek(spool, pending) == NULL);
    for (i = 0; i < pending; i++) {
        const pisync_event *event = pisync_spool_peek(spool, i);

        FUZZ_CHECK(event != NULL);
        FUZZ_CHECK(memchr(event->device_id, '\0', sizeof event->device_id) != NULL);
    }
}

static pisync_spool *open_checked(const char *path, size_t max_events)
{
    pisync_spool_options options;
    pisync_spool *spool = NULL;
    pisync_error err;
    pisync_status rc;

    options.max_events = max_events;
    rc = pisync_spool_open(path, &options, &spool, &err);
    if (rc != PISYNC_OK) {
        FUZZ_CHECK(spool == NULL);
        FUZZ_CHECK(rc == PISYNC_ERR_SPOOL && err.status == rc);
        FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
        return NULL;
    }
    check_spool(spool, max_events);
    return spool;
}

/* A directory of this process's own, made once (the target's only state), and removed
   when the process exits. */
static char spool_dir[4096];
static char path[4200];

static void remove_spool_dir(void)
{
    static const char *const suffixes[] = {"", ".lock", ".tmp"};
    char file[4300];
    size_t i;

    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
    rmdir(spool_dir);
}

static const char *spool_path(void)
{
    const char *base;

    if (path[0] != '\0')
        return path;
    base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(spool_dir, sizeof spool_dir, "%s/pisync-fuzz-spool-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(spool_dir) != NULL);
    snprintf(path, sizeof path, "%s/events.spool", spool_dir);
    atexit(remove_spool_dir);
    return path;
}

static void write_file(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");

    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(len == 0 || fwrite(bytes, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = spool_path();
    size_t max_events, acks;
    pisync_spool *spool;
    pisync_event event;
    spool_state before, after;
    pisync_error err;

    if (size < 1)
        return 0;
    max_events = max_events_choices[data[0] & 7];
    acks = data[0] >> 4;
    write_file(path, data + 1, size - 1);
    spool = open_checked(path, max_events);
    if (spool == NULL)
        return 0;
    pisync_event_init(&event, "fuzz-device", 1700000000000LL, 1, 0, 1.5f);
    FUZZ_CHECK(pisync_spool_append(spool, &event, &err) == PISYNC_OK);
    if (acks > pisync_spool_pending(spool))
        acks = pisync_spool_pending(spool);
    FUZZ_CHECK(pisync_spool_ack(spool, acks, acks / 2, &err) == PISYNC_OK);
    check_spool(spool, max_events);
    capture(spool, &before);
    pisync_spool_close(spool);

    spool = open_checked(path, max_events);
    FUZZ_CHECK(spool != NULL);
    capture(spool, &after);
    pisync_spool_close(spool);
    FUZZ_CHECK(after.pending == before.pending);
    FUZZ_CHECK(after.delivered == before.delivered && after.rejected == before.rejected &&
               after.dropped_full == before.dropped_full);
    FUZZ_CHECK(memcmp(after.events, before.events, before.pending * sizeof *before.events) == 0);
    free(before.events);
    free(after.events);
    return 0;
}

/* ---- the seeds: spool files the library writes ---- */

static void seed_from_spool(const char *dir, const char *name, uint8_t header, int appends,
                            size_t acks, size_t cut)
{
    uint8_t seed[4096];
    const char *path = spool_path();
    pisync_spool *spool;
    pisync_event event;
    size_t len;
    int i;

    unlink(path);
    spool = open_checked(path, 0);
    FUZZ_CHECK(spool != NULL);
    for (i = 0; i < appends; i++) {
        /* Two devices, successes and failures, as a device's spool holds. */
        pisync_event_init(&event, i % 3 ? "pibox-042" : "pibook-001", 1700000000000LL + i * 60000,
                          (uint32_t)(i % 2) * 5, (uint32_t)(i % 3), 0.25f * (float)i);
        FUZZ_CHECK(pisync_spool_append(spool, &event, NULL) == PISYNC_OK);
    }
    FUZZ_CHECK(pisync_spool_ack(spool, acks, acks / 2, NULL) == PISYNC_OK);
    pisync_spool_close(spool);
    seed[0] = header;
    len = fuzz_read_file("/", path, seed + 1, sizeof seed - 1);
    fuzz_write_seed(dir, name, header, seed, len + 1 - cut);
}

void fuzz_write_seeds(const char *dir, const char *golden)
{
    (void)golden; /* the golden vectors are frames; a spool holds SyncEvents in records */
    seed_from_spool(dir, "empty", 0x00, 0, 0, 0);
    seed_from_spool(dir, "events", 0x00, 6, 0, 0);
    seed_from_spool(dir, "events-acked", 0x21, 8, 3, 0);
    seed_from_spool(dir, "events-torn", 0x13, 5, 2, 3);
    seed_from_spool(dir, "events-bound", 0x02, 7, 0, 0);
}
