/*
 * fuzz_common.c - checks and seeds for the libFuzzer targets.
 *
 * With PISYNC_FUZZ_WRITE_SEEDS=DIR (and PISYNC_FUZZ_GOLDEN=DIR, the golden vectors) a target
 * writes its starting corpus into DIR and exits instead of fuzzing (scripts/fuzz.sh does
 * this before every run, so that no corpus is committed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "fuzz check failed at %s:%d: %s\n", file, line, what);
    abort();
}

void fuzz_write_seed(const char *dir, const char *name, int variant, const uint8_t *bytes,
                     size_t len)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s-%d", dir, name, variant);
    f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(bytes, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

size_t fuzz_read_file(const char *dir, const char *name, uint8_t *out, size_t cap)
{
    char path[4096];
    FILE *f;
    size_t len;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    len = fread(out, 1, cap, f);
    fclose(f);
    return len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("PISYNC_FUZZ_WRITE_SEEDS");
    const char *golden = getenv("PISYNC_FUZZ_GOLDEN");

    (void)argc;
    (void)argv;
    if (dir == NULL)
        return 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot make %s\n", dir);
        exit(1);
    }
    fuzz_write_seeds(dir, golden != NULL ? golden : "../testdata/golden");
    exit(0);
}
