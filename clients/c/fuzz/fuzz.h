/*
 * fuzz.h - what the libFuzzer targets share: a check that aborts (libFuzzer keeps the input
 * that failed it), and writing the seeds.
 */
#ifndef PISYNC_FUZZ_H
#define PISYNC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Aborts with the failed condition: a crash, which libFuzzer records with its input. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond);                                          \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what);

/* Each target's seeds: written into `dir`, from the golden vectors in `golden` and from
   messages the library builds. */
void fuzz_write_seeds(const char *dir, const char *golden);

/* Writes DIR/NAME-VARIANT. */
void fuzz_write_seed(const char *dir, const char *name, int variant, const uint8_t *bytes,
                     size_t len);
/* Reads DIR/NAME into `out` (at most `cap` bytes); returns its length. */
size_t fuzz_read_file(const char *dir, const char *name, uint8_t *out, size_t cap);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
