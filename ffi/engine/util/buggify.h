/*
 * buggify.h — client fault injection, switched on by FoundationDB's
 * client_buggify_* network options, with FoundationDB's model: each
 * injection point ("section") is activated once, with the activated
 * probability, the first time it is reached after enabling; an active section
 * then fires on each pass with the fired probability — except the read-error
 * section, which fires with 1% as FoundationDB's read sites do
 * (CLIENT_BUGGIFY_WITH_PROB(.01)), unless the engine-only knob
 * found_client_buggify_read_fired_probability says otherwise (the
 * simulation's higher fault rates). Decisions come from one PRNG seeded by
 * FOUND_BUGGIFY_SEED (default 1), so one process running the same
 * operations sees the same faults.
 */
#ifndef FOUND_ENGINE_BUGGIFY_H
#define FOUND_ENGINE_BUGGIFY_H

#include <stdint.h>

/* Sections, also the indexes of found_engine_fault_counts(). */
enum buggify_section {
    BUG_READ_ERROR = 0,             /* a read fails: 1007 or 1009 */
    BUG_COMMIT_ERROR,               /* a commit fails before applying: 1020, 1007 or 1042 */
    BUG_COMMIT_UNKNOWN_APPLIED,     /* commit applied, reported as 1021 */
    BUG_COMMIT_UNKNOWN_NOT_APPLIED, /* commit dropped, reported as 1021 */
    BUG_READ_LATENCY,               /* a read completes 1-20 ms later */
    BUG_COMMIT_LATENCY,             /* a commit completes 1-50 ms later */
    BUG_SECTIONS
};

void buggify_set_enabled(int on);
int buggify_set_activated_probability(int64_t percent);
int buggify_set_fired_probability(int64_t percent);
/* The engine-only knob: the read-error section's fired probability. */
int buggify_set_read_fired_probability(int64_t percent);
/* 1 when `section` fires now (counted). Cheap when disabled. */
int buggify_fires(int section);
/* The same decision without counting it, for a fault that may turn out not
 * to happen (count it with buggify_count when it does). */
int buggify_decides(int section);
void buggify_count(int section);
/* A uniformly random integer in [0, n) from the same PRNG. */
uint64_t buggify_random(uint64_t n);
extern volatile int buggify_enabled;

#endif
