/*
 * test_archive.c - reading a server's archive files: whole records, a record cut short at
 * the end (the server appending), a damaged record, a file that is not an archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"
#include "test.h"

static size_t put_record(uint8_t *out, const char *device, int64_t timestamp, uint32_t errors)
{
    Pisync__V1__SyncEvent message;
    size_t length;
    uint32_t crc;
    int i;

    pisync__v1__sync_event__init(&message);
    message.device_id = (char *)device;
    message.timestamp = timestamp;
    message.total_files_synced = 2;
    message.total_errors = errors;
    message.internet_speed = 1.5f;
    message.sync_status = errors ? PISYNC__V1__SYNC_STATUS__SYNC_STATUS_PARTIAL
                                 : PISYNC__V1__SYNC_STATUS__SYNC_STATUS_SUCCESS;
    length = pisync__v1__sync_event__pack(&message, out + 8);
    crc = pisync_crc32(out + 8, length);
    for (i = 0; i < 4; i++) {
        out[i] = (uint8_t)(length >> (8 * i));
        out[4 + i] = (uint8_t)(crc >> (8 * i));
    }
    return 8 + length;
}

/* Writes a header, two records and `tail` bytes of a third into DIR/day.pisync. */
static char *write_archive(const char *dir, size_t tail, int damage_second)
{
    uint8_t bytes[1024];
    size_t len = 0, second, third;
    char *path = malloc(strlen(dir) + 32);
    FILE *f;

    memcpy(bytes, "PISYNCAR\1\0\0\0\0\0\0\0", 16);
    len = 16;
    len += put_record(bytes + len, "pibox-1", 1795852800000LL, 0);
    second = len;
    len += put_record(bytes + len, "pibox-2", 1795852801000LL, 3);
    if (damage_second)
        bytes[second + 10] ^= 0xff;
    third = put_record(bytes + len, "pibox-3", 1795852802000LL, 0);
    len += tail < third ? tail : third;
    sprintf(path, "%s/day.pisync", dir);
    f = fopen(path, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    return path;
}

void test_archive_reads_whole_records_and_stops_at_a_cut_short_tail(void)
{
    char *dir = test_temp_dir();
    char *path = write_archive(dir, 11, 0);
    pisync_archive *archive;
    pisync_event e;
    pisync_error err;
    int done = 0;

    CHECK_STATUS(pisync_archive_open(path, &archive, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_archive_next(archive, &e, &done, &err), PISYNC_OK, &err);
    CHECK(!done && strcmp(e.device_id, "pibox-1") == 0 && e.timestamp == 1795852800000LL);
    CHECK(e.sync_status == PISYNC_SYNC_SUCCESS && e.total_files_synced == 2);
    CHECK_STATUS(pisync_archive_next(archive, &e, &done, &err), PISYNC_OK, &err);
    CHECK(!done && strcmp(e.device_id, "pibox-2") == 0 && e.sync_status == PISYNC_SYNC_PARTIAL);
    CHECK_STATUS(pisync_archive_next(archive, &e, &done, &err), PISYNC_OK, &err);
    CHECK(done);
    pisync_archive_close(archive);
    free(path);
    test_remove_dir(dir);
}

void test_archive_refuses_a_damaged_record_and_a_foreign_file(void)
{
    char *dir = test_temp_dir();
    char *path = write_archive(dir, 0, 1);
    pisync_archive *archive;
    pisync_event e;
    pisync_error err;
    FILE *f;
    int done = 0;

    CHECK_STATUS(pisync_archive_open(path, &archive, &err), PISYNC_OK, &err);
    CHECK_STATUS(pisync_archive_next(archive, &e, &done, &err), PISYNC_OK, &err);
    CHECK(pisync_archive_next(archive, &e, &done, &err) == PISYNC_ERR_PROTOCOL);
    CHECK(strstr(err.message, "checksum mismatch") != NULL);
    pisync_archive_close(archive);

    f = fopen(path, "wb");
    fputs("PISPOOL1 and then something else", f);
    fclose(f);
    CHECK(pisync_archive_open(path, &archive, &err) == PISYNC_ERR_PROTOCOL);
    CHECK(archive == NULL);
    free(path);
    test_remove_dir(dir);
}
