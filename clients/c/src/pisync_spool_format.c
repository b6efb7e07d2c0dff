/*
 * pisync_spool_format.c - the spool file's records: little-endian integers, CRC-32,
 * building records in memory, and replaying them into the queue when the spool is opened.
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
 * Replaying the log from the start rebuilds the queue and the counters. Replay stops at
 * the first record that is incomplete or fails its CRC (a torn tail after a power cut);
 * pisync_spool_file.c cuts the file there.
 */
#include <stdlib.h>

#include "pisync_internal.h"

#define RECORD_HEADER_LEN 8
#define RECORD_EVENT 1
#define RECORD_REMOVE 2
#define REMOVE_PAYLOAD_LEN (4 + 8 + 8 + 8)
/* A SyncEvent with a 128-character id is under 170 bytes; anything far larger is garbage. */
#define MAX_RECORD_BODY 1024

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

uint8_t *pisync_spool_buffer_grow(pisync_spool_buffer *b, size_t extra)
{
    if (pisync_bytes_reserve(&b->data, &b->cap, b->len, extra, 256) != 0)
        return NULL;
    return b->data + b->len;
}

/* Reserves room for a record with a body of `body_len` bytes and returns the body. */
static uint8_t *record_begin(pisync_spool_buffer *b, size_t body_len)
{
    uint8_t *record = pisync_spool_buffer_grow(b, RECORD_HEADER_LEN + body_len);

    if (record == NULL)
        return NULL;
    put_u32(record, (uint32_t)body_len);
    return record + RECORD_HEADER_LEN;
}

/* Seals the record whose body was filled in: checksums it and counts it in. */
static void record_end(pisync_spool_buffer *b, size_t body_len)
{
    uint8_t *record = b->data + b->len;

    put_u32(record + 4, pisync_crc32(record + RECORD_HEADER_LEN, body_len));
    b->len += RECORD_HEADER_LEN + body_len;
}

int pisync_spool_add_event_record(pisync_spool_buffer *b, const pisync_event *event)
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

int pisync_spool_add_remove_record(pisync_spool_buffer *b, uint32_t count, uint64_t delivered,
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

/* ---- replaying records ---- */

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
        if (pisync_spool_reserve_events(s, 1) != 0)
            return -2;
        pisync_spool_push_event(s, &event);
        return 0;
    }
    if (body[0] == RECORD_REMOVE && body_len == 1 + REMOVE_PAYLOAD_LEN) {
        size_t n = get_u32(body + 1);

        if (n > s->count)
            n = s->count;
        pisync_spool_remove_oldest(s, n);
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
long long pisync_spool_replay(pisync_spool *s, const uint8_t *data, size_t size)
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
