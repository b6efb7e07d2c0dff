/*
 * test_framing.c - varints and the incremental frame reader.
 */
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"
#include "test.h"

static int encodes_to(uint64_t value, const uint8_t *expected, size_t expected_len)
{
    uint8_t out[PISYNC_VARINT_MAX];
    size_t len = pisync_varint_encode(value, out);

    return len == expected_len && memcmp(out, expected, len) == 0;
}

void test_varint_encode_known_values(void)
{
    static const uint8_t zero[] = {0x00}, one[] = {0x01}, v127[] = {0x7f},
                         v128[] = {0x80, 0x01}, v300[] = {0xac, 0x02},
                         mib[] = {0x80, 0x80, 0x40},
                         max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

    CHECK(encodes_to(0, zero, 1));
    CHECK(encodes_to(1, one, 1));
    CHECK(encodes_to(127, v127, 1));
    CHECK(encodes_to(128, v128, 2));
    CHECK(encodes_to(300, v300, 2));          /* the protocol doc's example */
    CHECK(encodes_to(1048576, mib, 3));       /* 1 MiB, also from the doc */
    CHECK(encodes_to(UINT64_MAX, max, 10));
}

void test_varint_roundtrip(void)
{
    static const uint64_t values[] = {0, 1, 127, 128, 255, 16383, 16384, 1048575, 1048576,
                                      0xffffffffULL, 1ULL << 35, 1ULL << 63, UINT64_MAX};
    size_t i;

    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint8_t buf[PISYNC_VARINT_MAX];
        size_t len = pisync_varint_encode(values[i], buf);
        uint64_t decoded = 0;
        size_t used = 0;

        CHECK(pisync_varint_decode(buf, len, &decoded, &used) == PISYNC_VARINT_OK);
        CHECK(decoded == values[i]);
        CHECK(used == len);
    }
}

void test_varint_incomplete(void)
{
    static const uint8_t partial[] = {0x80, 0x80, 0x80};
    uint64_t value;
    size_t used;

    CHECK(pisync_varint_decode(partial, 0, &value, &used) == PISYNC_VARINT_INCOMPLETE);
    CHECK(pisync_varint_decode(partial, 1, &value, &used) == PISYNC_VARINT_INCOMPLETE);
    CHECK(pisync_varint_decode(partial, 3, &value, &used) == PISYNC_VARINT_INCOMPLETE);
}

void test_varint_malformed_and_edges(void)
{
    static const uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0x01};
    static const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0x02};
    static const uint8_t bit63[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                    0x01};
    static const uint8_t padded_zero[] = {0x80, 0x00}; /* not shortest, still valid */
    uint64_t value = 0;
    size_t used = 0;

    /* Unfinished after 10 bytes. */
    CHECK(pisync_varint_decode(eleven, sizeof eleven, &value, &used) == PISYNC_VARINT_MALFORMED);
    /* The 10th byte may carry bit 63 only. */
    CHECK(pisync_varint_decode(overflow, sizeof overflow, &value, &used) ==
          PISYNC_VARINT_MALFORMED);
    CHECK(pisync_varint_decode(bit63, sizeof bit63, &value, &used) == PISYNC_VARINT_OK);
    CHECK(value == 1ULL << 63 && used == 10);
    CHECK(pisync_varint_decode(padded_zero, 2, &value, &used) == PISYNC_VARINT_OK);
    CHECK(value == 0 && used == 2);
}

void test_frame_encode_ping(void)
{
    /* docs/protocol.md, worked example: Ping with id 1 is 04 08 01 3a 00. */
    static const uint8_t expected[] = {0x04, 0x08, 0x01, 0x3a, 0x00};
    Pisync__V1__PingRequest ping = PISYNC__V1__PING_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;
    uint8_t *frame = NULL;
    size_t len = 0;

    request.id = 1;
    request.call_case = PISYNC__V1__REQUEST__CALL_PING;
    request.ping = &ping;
    REQUIRE(pisync_frame_encode(&request.base, &frame, &len, NULL) == PISYNC_OK);
    CHECK(len == sizeof expected && memcmp(frame, expected, len) == 0);
    free(frame);
}

/* The doc's RecordSync example: 33 bytes, length prefix 0x20. */
static const uint8_t record_frame[] = {
    0x20, 0x08, 0x01, 0x12, 0x1c, 0x12, 0x1a, 0x0a, 0x0a, 0x70, 0x69, 0x62, 0x6f, 0x6f, 0x6b,
    0x2d, 0x30, 0x30, 0x31, 0x10, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31, 0x18, 0x0c, 0x2d, 0x00,
    0x00, 0x08, 0x41};

void test_frame_split_across_reads(void)
{
    pisync_framebuf fb;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    size_t i;

    pisync_framebuf_init(&fb);
    /* One byte per read: nothing comes out until the last byte is in. */
    for (i = 0; i < sizeof record_frame; i++) {
        pisync_frame_result r;

        CHECK(pisync_framebuf_append(&fb, &record_frame[i], 1, NULL) == PISYNC_OK);
        r = pisync_framebuf_next(&fb, 1024, &body, &body_len);
        if (i + 1 < sizeof record_frame)
            CHECK(r == PISYNC_FRAME_INCOMPLETE);
        else
            CHECK(r == PISYNC_FRAME_READY);
    }
    CHECK(body_len == sizeof record_frame - 1);
    CHECK(memcmp(body, record_frame + 1, body_len) == 0);
    CHECK(pisync_framebuf_buffered(&fb) == 0);
    CHECK(pisync_framebuf_next(&fb, 1024, &body, &body_len) == PISYNC_FRAME_INCOMPLETE);
    pisync_framebuf_free(&fb);
}

void test_frame_several_in_one_read(void)
{
    uint8_t chunk[3 * sizeof record_frame];
    pisync_framebuf fb;
    const uint8_t *body;
    size_t body_len;
    int frames = 0;

    memcpy(chunk, record_frame, sizeof record_frame);
    memcpy(chunk + sizeof record_frame, record_frame, sizeof record_frame);
    memcpy(chunk + 2 * sizeof record_frame, record_frame, sizeof record_frame);
    pisync_framebuf_init(&fb);
    /* Two and a half frames, then the rest: a split in the middle of the third body. */
    CHECK(pisync_framebuf_append(&fb, chunk, 2 * sizeof record_frame + 10, NULL) == PISYNC_OK);
    while (pisync_framebuf_next(&fb, 1024, &body, &body_len) == PISYNC_FRAME_READY) {
        CHECK(body_len == 32 && memcmp(body, record_frame + 1, 32) == 0);
        frames++;
    }
    CHECK(frames == 2);
    CHECK(pisync_framebuf_append(&fb, chunk + 2 * sizeof record_frame + 10,
                                 sizeof record_frame - 10, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1024, &body, &body_len) == PISYNC_FRAME_READY);
    CHECK(body_len == 32 && memcmp(body, record_frame + 1, 32) == 0);
    pisync_framebuf_free(&fb);
}

void test_frame_over_limit(void)
{
    uint8_t prefix[PISYNC_VARINT_MAX];
    size_t prefix_len = pisync_varint_encode(1048577, prefix);
    pisync_framebuf fb;
    const uint8_t *body;
    size_t body_len;

    pisync_framebuf_init(&fb);
    /* Refused as soon as the prefix is complete, without waiting for (or buffering) the
       1 MiB body. */
    CHECK(pisync_framebuf_append(&fb, prefix, prefix_len - 1, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_INCOMPLETE);
    CHECK(pisync_framebuf_append(&fb, prefix + prefix_len - 1, 1, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_TOO_LONG);
    pisync_framebuf_clear(&fb);
    /* Exactly at the limit is fine (just incomplete here). */
    prefix_len = pisync_varint_encode(1048576, prefix);
    CHECK(pisync_framebuf_append(&fb, prefix, prefix_len, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_INCOMPLETE);
    /* A 64-bit length far beyond any size_t we could buffer. */
    pisync_framebuf_clear(&fb);
    prefix_len = pisync_varint_encode(UINT64_MAX, prefix);
    CHECK(pisync_framebuf_append(&fb, prefix, prefix_len, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_TOO_LONG);
    pisync_framebuf_free(&fb);
}

void test_frame_bad_prefix(void)
{
    static const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    pisync_framebuf fb;
    const uint8_t *body;
    size_t body_len;

    pisync_framebuf_init(&fb);
    CHECK(pisync_framebuf_append(&fb, bad, 9, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_INCOMPLETE);
    CHECK(pisync_framebuf_append(&fb, bad + 9, 1, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_MALFORMED);
    pisync_framebuf_free(&fb);
}

void test_frame_empty_body(void)
{
    static const uint8_t empty_frame[] = {0x00};
    pisync_framebuf fb;
    const uint8_t *body = NULL;
    size_t body_len = 99;
    Pisync__V1__Response *response;

    pisync_framebuf_init(&fb);
    CHECK(pisync_framebuf_append(&fb, empty_frame, 1, NULL) == PISYNC_OK);
    CHECK(pisync_framebuf_next(&fb, 1048576, &body, &body_len) == PISYNC_FRAME_READY);
    CHECK(body_len == 0);
    /* A length of 0 is the empty message. */
    response = pisync__v1__response__unpack(NULL, body_len, body);
    CHECK(response != NULL);
    if (response != NULL) {
        CHECK(response->id == 0);
        CHECK(response->result_case == PISYNC__V1__RESPONSE__RESULT__NOT_SET);
        pisync__v1__response__free_unpacked(response, NULL);
    }
    pisync_framebuf_free(&fb);
}
