/*
 * pisync_retry.c - retrying with exponential backoff and jitter, and the clocks it uses.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "pisync_internal.h"

#define DEFAULT_MAX_ATTEMPTS 5
#define DEFAULT_BASE_DELAY_MS 200
#define DEFAULT_MAX_DELAY_MS 30000

int64_t pisync_monotonic_ms(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void pisync_sleep_ms(uint32_t ms)
{
    struct timespec left;

    left.tv_sec = (time_t)(ms / 1000);
    left.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* xorshift64*: a small PRNG whose whole state is the caller's variable, so the library
   keeps no global random state (and does not disturb the application's rand()). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static void effective_policy(const pisync_retry_policy *policy, pisync_retry_policy *out)
{
    pisync_retry_policy none = {0, 0, 0, 0};

    *out = policy ? *policy : none;
    if (out->max_attempts <= 0)
        out->max_attempts = DEFAULT_MAX_ATTEMPTS;
    if (out->base_delay_ms <= 0)
        out->base_delay_ms = DEFAULT_BASE_DELAY_MS;
    if (out->max_delay_ms <= 0)
        out->max_delay_ms = DEFAULT_MAX_DELAY_MS;
    if (out->max_delay_ms < out->base_delay_ms)
        out->max_delay_ms = out->base_delay_ms;
}

uint32_t pisync_backoff_delay_ms(const pisync_retry_policy *policy, int retry,
                                 uint64_t *rng_state)
{
    pisync_retry_policy p;
    uint64_t ceiling;
    uint64_t half;
    int i;

    effective_policy(policy, &p);
    ceiling = (uint64_t)p.base_delay_ms;
    for (i = 1; i < retry && ceiling < (uint64_t)p.max_delay_ms; i++)
        ceiling *= 2;
    if (ceiling > (uint64_t)p.max_delay_ms)
        ceiling = (uint64_t)p.max_delay_ms;
    /* "Equal jitter": half the delay is fixed, half random. Devices that lost the server
       at the same moment spread out, yet each one still backs off exponentially. */
    half = ceiling / 2;
    return (uint32_t)(ceiling - half + next_random(rng_state) % (half + 1));
}

/* The wait before retry number `retry` after the failure `last`: the backoff, or the
   server's retry_after_ms when that is longer (a rate limit refuses anything sooner).
   Returns -1 when the server asks for longer than one delay may last: give up now. */
static int64_t retry_delay_ms(const pisync_retry_policy *p, int retry, uint64_t *rng,
                              const pisync_error *last)
{
    uint32_t delay = pisync_backoff_delay_ms(p, retry, rng);

    if (last->retry_after_ms > (uint32_t)p->max_delay_ms)
        return -1;
    return last->retry_after_ms > delay ? last->retry_after_ms : delay;
}

pisync_status pisync_retry(pisync_client *client, const pisync_retry_policy *policy,
                           pisync_retry_fn attempt, void *context, pisync_error *err)
{
    pisync_retry_policy p;
    pisync_error last;
    uint64_t rng;
    pisync_status rc;
    int64_t delay;
    int n;

    effective_policy(policy, &p);
    rng = p.seed ? p.seed
                 : (uint64_t)pisync_monotonic_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
    for (n = 1;; n++) {
        pisync_ok(&last);
        rc = attempt(client, context, &last);
        if (rc != PISYNC_OK && last.status == PISYNC_OK)
            last.status = rc; /* an attempt that forgot to fill its error */
        if (rc == PISYNC_OK || n >= p.max_attempts || !pisync_error_is_retryable(&last))
            break;
        delay = retry_delay_ms(&p, n, &rng, &last);
        if (delay < 0)
            break;
        /* Start the next attempt on a fresh connection: after a failure or an UNAVAILABLE
           answer the old one is gone or going. */
        pisync_disconnect(client);
        pisync_sleep_ms((uint32_t)delay);
    }
    if (err != NULL)
        *err = last;
    return rc;
}
