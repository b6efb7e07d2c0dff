/*
 * pisync_framing.c - protobuf's delimited form: a base-128 varint length, then the body.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"

size_t pisync_varint_encode(uint64_t value, uint8_t out[PISYNC_VARINT_MAX])
{
    size_t n = 0;

    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

pisync_varint_result pisync_varint_decode(const uint8_t *bytes, size_t len, uint64_t *value,
                                          size_t *used)
{
    uint64_t result = 0;
    size_t i;

    for (i = 0; i < len && i < PISYNC_VARINT_MAX; i++) {
        uint8_t byte = bytes[i];

        /* The 10th byte holds bit 63 only: anything above 1 overflows 64 bits. */
        if (i == PISYNC_VARINT_MAX - 1 && byte > 1)
            return PISYNC_VARINT_MALFORMED;
        result |= (uint64_t)(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            *value = result;
            *used = i + 1;
            return PISYNC_VARINT_OK;
        }
    }
    return i == PISYNC_VARINT_MAX ? PISYNC_VARINT_MALFORMED : PISYNC_VARINT_INCOMPLETE;
}

pisync_status pisync_frame_encode(const ProtobufCMessage *message, uint8_t **frame,
                                  size_t *frame_len, pisync_error *err)
{
    uint8_t prefix[PISYNC_VARINT_MAX];
    size_t body_len = protobuf_c_message_get_packed_size(message);
    size_t prefix_len = pisync_varint_encode(body_len, prefix);
    uint8_t *buf = malloc(prefix_len + body_len + 1); /* +1: never malloc(0) */

    *frame = NULL;
    *frame_len = 0;
    if (buf == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory encoding a frame");
    memcpy(buf, prefix, prefix_len);
    protobuf_c_message_pack(message, buf + prefix_len);
    *frame = buf;
    *frame_len = prefix_len + body_len;
    return pisync_ok(err);
}

void pisync_framebuf_init(pisync_framebuf *fb)
{
    memset(fb, 0, sizeof *fb);
}

void pisync_framebuf_free(pisync_framebuf *fb)
{
    free(fb->data);
    pisync_framebuf_init(fb);
}

void pisync_framebuf_clear(pisync_framebuf *fb)
{
    fb->start = 0;
    fb->end = 0;
}

size_t pisync_framebuf_buffered(const pisync_framebuf *fb)
{
    return fb->end - fb->start;
}

int pisync_bytes_reserve(uint8_t **data, size_t *cap, size_t used, size_t extra,
                         size_t first_cap)
{
    size_t new_cap;
    uint8_t *grown;

    if (*cap - used >= extra)
        return 0;
    new_cap = *cap ? *cap : first_cap;
    while (new_cap - used < extra)
        new_cap *= 2;
    grown = realloc(*data, new_cap);
    if (grown == NULL)
        return -1;
    *data = grown;
    *cap = new_cap;
    return 0;
}

uint8_t *pisync_framebuf_reserve(pisync_framebuf *fb, size_t want, size_t *room)
{
    if (fb->cap - fb->end < want && fb->start > 0) {
        /* Move the unconsumed bytes to the front before growing. */
        memmove(fb->data, fb->data + fb->start, fb->end - fb->start);
        fb->end -= fb->start;
        fb->start = 0;
    }
    if (pisync_bytes_reserve(&fb->data, &fb->cap, fb->end, want, 4096) != 0)
        return NULL;
    *room = fb->cap - fb->end;
    return fb->data + fb->end;
}

void pisync_framebuf_commit(pisync_framebuf *fb, size_t written)
{
    fb->end += written;
}

pisync_status pisync_framebuf_append(pisync_framebuf *fb, const uint8_t *bytes, size_t len,
                                     pisync_error *err)
{
    size_t room;
    uint8_t *dst = pisync_framebuf_reserve(fb, len, &room);

    if (dst == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory buffering a frame");
    if (len > 0)
        memcpy(dst, bytes, len);
    pisync_framebuf_commit(fb, len);
    return pisync_ok(err);
}

pisync_frame_result pisync_framebuf_next(pisync_framebuf *fb, size_t max_body,
                                         const uint8_t **body, size_t *body_len)
{
    const uint8_t *bytes;
    size_t available = fb->end - fb->start;
    uint64_t length = 0;
    size_t prefix_len = 0;

    if (available == 0)
        return PISYNC_FRAME_INCOMPLETE;
    bytes = fb->data + fb->start;
    switch (pisync_varint_decode(bytes, available, &length, &prefix_len)) {
    case PISYNC_VARINT_INCOMPLETE:
        return PISYNC_FRAME_INCOMPLETE;
    case PISYNC_VARINT_MALFORMED:
        return PISYNC_FRAME_MALFORMED;
    case PISYNC_VARINT_OK:
        break;
    }
    /* Judge the length before waiting for the body, so an absurd prefix never makes us
       buffer (or allocate) it. */
    if (length > max_body)
        return PISYNC_FRAME_TOO_LONG;
    if (available - prefix_len < length)
        return PISYNC_FRAME_INCOMPLETE;
    *body = bytes + prefix_len;
    *body_len = (size_t)length;
    fb->start += prefix_len + (size_t)length;
    if (fb->start == fb->end)
        pisync_framebuf_clear(fb);
    return PISYNC_FRAME_READY;
}
