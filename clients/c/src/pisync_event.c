/*
 * pisync_event.c - the library's event type, its conversion to and from protobuf, and
 * the result types' destructors.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pisync_internal.h"

void pisync_event_init(pisync_event *event, const char *device_id, int64_t timestamp,
                       uint32_t total_files_synced, uint32_t total_errors,
                       float internet_speed)
{
    memset(event, 0, sizeof *event);
    pisync_copy_string(event->device_id, sizeof event->device_id, device_id);
    event->timestamp = timestamp;
    event->total_files_synced = total_files_synced;
    event->total_errors = total_errors;
    event->internet_speed = internet_speed;
}

int64_t pisync_now_ms(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 0;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int device_id_char_valid(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

int pisync_device_id_valid(const char *device_id)
{
    size_t i;

    if (device_id == NULL || device_id[0] == '\0')
        return 0;
    for (i = 0; device_id[i] != '\0'; i++) {
        if (i >= PISYNC_DEVICE_ID_MAX || !device_id_char_valid(device_id[i]))
            return 0;
    }
    return 1;
}

void pisync_event_to_message(const pisync_event *event, Pisync__V1__SyncEvent *message)
{
    pisync__v1__sync_event__init(message);
    /* protobuf-c only reads the string; the cast drops const for its char * field. */
    message->device_id = (char *)event->device_id;
    message->timestamp = event->timestamp;
    message->total_files_synced = event->total_files_synced;
    message->total_errors = event->total_errors;
    message->internet_speed = event->internet_speed;
    /* sync_status is derived by the server and never sent. */
}

void pisync_event_from_message(const Pisync__V1__SyncEvent *message, pisync_event *event)
{
    memset(event, 0, sizeof *event);
    pisync_copy_string(event->device_id, sizeof event->device_id, message->device_id);
    event->timestamp = message->timestamp;
    event->total_files_synced = message->total_files_synced;
    event->total_errors = message->total_errors;
    event->internet_speed = message->internet_speed;
    event->sync_status = (int)message->sync_status;
}

void pisync_record_result_free(pisync_record_result *result)
{
    if (result == NULL)
        return;
    free(result->rejected);
    memset(result, 0, sizeof *result);
}

void pisync_history_free(pisync_history *history)
{
    if (history == NULL)
        return;
    free(history->events);
    memset(history, 0, sizeof *history);
}
