/*
 * test.h - a minimal test harness: CHECK records a failure and goes on, REQUIRE returns
 * from the test. The runner (test_main.c) prints one PASS/FAIL/SKIP line per test.
 */
#ifndef PISYNC_TEST_H
#define PISYNC_TEST_H

#include <stddef.h>
#include <stdint.h>

void test_failure(const char *file, int line, const char *what);
void test_skip(const char *reason);
/* Whether the integration tests may run; when not, skips (or fails, with CI=true) the
   current test and returns NULL. Else returns the server binary. */
const char *test_server_bin(void);
/* A new empty directory under $TMPDIR (malloc'd), and its recursive removal. */
char *test_temp_dir(void);
void test_remove_dir(char *dir);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            test_failure(__FILE__, __LINE__, #cond);                                       \
    } while (0)

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_failure(__FILE__, __LINE__, #cond);                                       \
            return;                                                                        \
        }                                                                                  \
    } while (0)

/* REQUIRE for helpers that return a value: records the failure and returns `value`. */
#define REQUIRE_OR_RETURN(cond, value)                                                     \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_failure(__FILE__, __LINE__, #cond);                                       \
            return (value);                                                                \
        }                                                                                  \
    } while (0)

/* Checks a pisync call and prints its error when it is not the expected status. */
#define CHECK_STATUS(call, expected, errp)                                                 \
    do {                                                                                   \
        int check_rc_ = (int)(call);                                                       \
        if (check_rc_ != (int)(expected)) {                                                \
            char check_buf_[600];                                                          \
            pisync_error_format((errp), check_buf_, sizeof check_buf_);                    \
            test_failure(__FILE__, __LINE__, #call);                                       \
            test_note("  got %s: %s", pisync_status_name((pisync_status)check_rc_),      \
                      check_buf_);                                                         \
        }                                                                                  \
    } while (0)

void test_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The TLS tests of this build (make TLS=1, or not). */
#ifdef PISYNC_TLS
#define PISYNC_TLS_TESTS(X)                                                                \
    X(tls_round_trip_and_reconnect)                                                        \
    X(tls_certificate_must_verify)                                                         \
    X(tls_mutual)                                                                          \
    X(tls_setup_files_must_load)                                                           \
    X(tls_against_plain_server_fails_cleanly)                                              \
    X(integration_tls_round_trip)                                                          \
    X(integration_tls_mutual)                                                              \
    X(integration_tls_client_against_plain_server)
#else
#define PISYNC_TLS_TESTS(X) X(tls_not_built_in)
#endif

/* Every test, by file. */
#define PISYNC_TESTS(X)                                                                    \
    X(varint_encode_known_values)                                                          \
    X(varint_roundtrip)                                                                    \
    X(varint_incomplete)                                                                   \
    X(varint_malformed_and_edges)                                                          \
    X(frame_encode_ping)                                                                   \
    X(frame_split_across_reads)                                                            \
    X(frame_several_in_one_read)                                                           \
    X(frame_over_limit)                                                                    \
    X(frame_bad_prefix)                                                                    \
    X(frame_empty_body)                                                                    \
    X(golden_record_sync_single)                                                           \
    X(golden_record_sync_batch)                                                            \
    X(golden_response_error)                                                               \
    X(golden_response_alert)                                                               \
    X(golden_response_record_sync)                                                         \
    X(client_bad_server_address)                                                           \
    X(client_connect_refused)                                                              \
    X(client_pipelined_out_of_order)                                                       \
    X(client_id0_notice_fails_all_pending)                                                 \
    X(client_reconnects_after_idle_close)                                                  \
    X(client_unknown_result_fails_only_that_call)                                          \
    X(client_response_over_limit)                                                          \
    X(client_timeout)                                                                      \
    X(client_server_closes_mid_frame)                                                      \
    X(auth_first_on_every_connection)                                                      \
    X(auth_refused_token_is_not_retried)                                                   \
    X(auth_bad_tokens_refused_locally)                                                     \
    PISYNC_TLS_TESTS(X)                                                                    \
    X(retry_backoff_bounds)                                                                \
    X(retry_backoff_deterministic_with_seed)                                               \
    X(retry_classification)                                                                \
    X(retry_until_success)                                                                 \
    X(retry_gives_up_after_max_attempts)                                                   \
    X(retry_stops_on_rejection)                                                            \
    X(retry_error_format_shows_retry_after)                                                \
    X(retry_waits_for_retry_after)                                                         \
    X(retry_gives_up_when_retry_after_is_over_max_delay)                                   \
    X(archive_reads_whole_records_and_stops_at_a_cut_short_tail)                           \
    X(archive_refuses_a_damaged_record_and_a_foreign_file)                                 \
    X(spool_append_and_read_back)                                                          \
    X(spool_torn_last_record)                                                              \
    X(spool_corrupt_last_record)                                                           \
    X(spool_zero_filled_tail)                                                              \
    X(spool_bound_drops_oldest)                                                            \
    X(spool_lower_bound_on_reopen)                                                         \
    X(spool_ack_deletes_only_acknowledged)                                                 \
    X(spool_compaction_keeps_file_small)                                                   \
    X(spool_rejects_foreign_file)                                                          \
    X(spool_torn_header_and_leftover_tmp)                                                  \
    X(spool_is_locked_while_open)                                                          \
    X(flush_empty_spool_is_noop)                                                           \
    X(flush_acks_only_answered_batches)                                                    \
    X(flush_batches_by_device)                                                             \
    X(flush_drops_whole_rejected_batch)                                                    \
    X(flush_shrinks_batches_for_low_server_limit)                                          \
    X(flush_keeps_events_on_unavailable_and_notices)                                       \
    X(flush_retries_unavailable_with_backoff)                                              \
    X(integration_record_history_ping_errors)                                              \
    X(integration_pipelining_and_reuse)                                                    \
    X(integration_offline_spool_then_flush)                                                \
    X(integration_shutdown_notice)                                                         \
    X(integration_auth_tokens)                                                             \
    X(integration_auth_off_accepts_token)                                                  \
    X(integration_rate_limit_retry_after)

#define PISYNC_DECLARE_TEST(name) void test_##name(void);
PISYNC_TESTS(PISYNC_DECLARE_TEST)

#endif /* PISYNC_TEST_H */
