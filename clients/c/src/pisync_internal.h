/*
 * pisync_internal.h - declarations shared by the library's source files and its tests.
 * Not installed; applications use pisync.h only.
 */
#ifndef PISYNC_INTERNAL_H
#define PISYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "pisync.h"
#include "pisync/v1/pisync.pb-c.h"

/* ---- errors (pisync_error.c) ---- */

/* Sets err (when not NULL) to a local failure; `fmt` is printf-style. Returns `status`. */
pisync_status pisync_fail(pisync_error *err, pisync_status status, int sys_errno,
                          const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Sets err to the server's Error. Returns PISYNC_ERR_SERVER. */
pisync_status pisync_fail_server(pisync_error *err, const Pisync__V1__Error *server_error,
                                 int connection_notice);
/* Resets err to "no error". Returns PISYNC_OK. */
pisync_status pisync_ok(pisync_error *err);

/* Bounded string copy that always NUL-terminates; NULL copies as "". */
void pisync_copy_string(char *dst, size_t size, const char *src);

/* ---- framing (pisync_framing.c) ---- */

#define PISYNC_VARINT_MAX 10
#define PISYNC_DEFAULT_MAX_FRAME ((size_t)1 << 20)

/* Writes `value` as a base-128 varint (shortest form) into `out`; returns its length, 1-10. */
size_t pisync_varint_encode(uint64_t value, uint8_t out[PISYNC_VARINT_MAX]);

typedef enum {
    PISYNC_VARINT_OK,        /* *value and *used are set */
    PISYNC_VARINT_INCOMPLETE, /* fewer than 10 bytes and the last one has the 0x80 bit */
    PISYNC_VARINT_MALFORMED  /* unfinished after 10 bytes, or overflows 64 bits */
} pisync_varint_result;

pisync_varint_result pisync_varint_decode(const uint8_t *bytes, size_t len, uint64_t *value,
                                          size_t *used);

/* Serializes `message` as one delimited frame (varint length + body) into a new malloc'd
   buffer. */
pisync_status pisync_frame_encode(const ProtobufCMessage *message, uint8_t **frame,
                                  size_t *frame_len, pisync_error *err);

/* An incremental frame reader: bytes go in as they arrive from the socket, whole frame
   bodies come out. */
typedef struct {
    uint8_t *data;
    size_t start; /* first byte not consumed yet */
    size_t end;   /* one past the last byte received */
    size_t cap;
} pisync_framebuf;

typedef enum {
    PISYNC_FRAME_READY,      /* *body and *body_len are set and the frame is consumed */
    PISYNC_FRAME_INCOMPLETE, /* need more bytes */
    PISYNC_FRAME_TOO_LONG,   /* the length prefix is above the limit */
    PISYNC_FRAME_MALFORMED   /* the length prefix is not a valid varint */
} pisync_frame_result;

void pisync_framebuf_init(pisync_framebuf *fb);
void pisync_framebuf_free(pisync_framebuf *fb);
void pisync_framebuf_clear(pisync_framebuf *fb);
/* Returns room for at least `want` bytes at the end of the buffer (*room is set to the
   actual room), or NULL when out of memory. Write into it, then commit what was written. */
uint8_t *pisync_framebuf_reserve(pisync_framebuf *fb, size_t want, size_t *room);
void pisync_framebuf_commit(pisync_framebuf *fb, size_t written);
pisync_status pisync_framebuf_append(pisync_framebuf *fb, const uint8_t *bytes, size_t len,
                                     pisync_error *err);
/* Takes the next whole frame. The body pointer stays valid until the next reserve/append. */
pisync_frame_result pisync_framebuf_next(pisync_framebuf *fb, size_t max_body,
                                         const uint8_t **body, size_t *body_len);
/* Bytes received and not consumed yet. */
size_t pisync_framebuf_buffered(const pisync_framebuf *fb);

/* ---- requests (pisync_client.c) ---- */

/* Builds and frames a RecordSync request exactly as pisync_send_record_batch sends it. */
pisync_status pisync_encode_record_request(uint64_t id, const char *device_id,
                                           const pisync_event *events, size_t count,
                                           uint8_t **frame, size_t *frame_len,
                                           pisync_error *err);

/* Converts between the library's event and the protobuf message. The message's device_id
   points into `event`, so `event` must outlive it. */
void pisync_event_to_message(const pisync_event *event, Pisync__V1__SyncEvent *message);
void pisync_event_from_message(const Pisync__V1__SyncEvent *message, pisync_event *event);

/* ---- spool (pisync_spool.c) ---- */

/* CRC-32 (IEEE 802.3, the one zlib computes). */
uint32_t pisync_crc32(const uint8_t *bytes, size_t len);

/* Note: the pending events are stored contiguously, so pisync_spool_peek(spool, 0) points
   to an array of all pisync_spool_pending(spool) of them (valid until the next change). */

/* ---- time (pisync_retry.c) ---- */

/* Milliseconds of a monotonic clock. */
int64_t pisync_monotonic_ms(void);
void pisync_sleep_ms(uint32_t ms);

#endif /* PISYNC_INTERNAL_H */
