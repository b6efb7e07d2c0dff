/*
 * test_main.c - runs every test (or those named on the command line) and prints a summary.
 */
#define _XOPEN_SOURCE 700 /* nftw() */

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* The harness's own state (tests only: the library has none). */
static int current_failures;
static int current_skipped;

void test_failure(const char *file, int line, const char *what)
{
    current_failures++;
    fprintf(stderr, "    check failed at %s:%d: %s\n", file, line, what);
}

void test_note(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fputs("    ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

void test_skip(const char *reason)
{
    current_skipped = 1;
    fprintf(stderr, "    skipped: %s\n", reason);
}

const char *test_server_bin(void)
{
    const char *bin = getenv("PISYNC_SERVER_BIN");
    const char *ci = getenv("CI");

    if (bin != NULL && bin[0] != '\0')
        return bin;
    if (ci != NULL && strcmp(ci, "true") == 0) {
        test_failure(__FILE__, __LINE__,
                     "PISYNC_SERVER_BIN is not set, and CI=true requires the integration tests");
        return NULL;
    }
    test_skip("PISYNC_SERVER_BIN is not set: set it to a pisync binary to run this "
              "integration test");
    return NULL;
}

char *test_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);

    if (dir == NULL)
        return NULL;
    snprintf(dir, 4096, "%s/pisync-c-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (mkdtemp(dir) == NULL) {
        free(dir);
        return NULL;
    }
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

void test_remove_dir(char *dir)
{
    if (dir == NULL)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

typedef struct {
    const char *name;
    void (*run)(void);
} test_case;

#define PISYNC_TEST_ENTRY(name) {#name, test_##name},
static const test_case all_tests[] = {PISYNC_TESTS(PISYNC_TEST_ENTRY)};

static int selected(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2)
        return 1;
    for (i = 1; i < argc; i++) {
        if (strstr(name, argv[i]) != NULL)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;
    int passed = 0, failed = 0, skipped = 0;

    /* A test that talks to a closed socket must see EPIPE, not die. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        if (!selected(all_tests[i].name, argc, argv))
            continue;
        current_failures = 0;
        current_skipped = 0;
        all_tests[i].run();
        fflush(stderr);
        if (current_failures > 0) {
            failed++;
            printf("FAIL %s\n", all_tests[i].name);
        } else if (current_skipped) {
            skipped++;
            printf("SKIP %s\n", all_tests[i].name);
        } else {
            passed++;
            printf("PASS %s\n", all_tests[i].name);
        }
    }
    printf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed > 0 ? 1 : 0;
}
