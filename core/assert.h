/* assert.h -- the engine's invariant checks, in the TigerBeetle manner: assertions
 * live in the code next to what they protect and say what must always hold.
 *
 * Two strengths:
 *   SS_ASSERT(cond)      always compiled in, release builds included. For cheap checks
 *                        off the hot path: argument validation at API boundaries, state
 *                        machine transitions, anything done once per event or rarer.
 *   SS_ASSERT_HOT(cond)  compiled only when SHARDSIM_HOT_ASSERTS is defined (the debug
 *                        and asan presets: CMake option SHARDSIM_HOT_ASSERTS). For checks
 *                        in per-record and per-event loops, or checks that cost a walk
 *                        over a structure. Otherwise the condition is not evaluated.
 *
 * On failure either prints "file:line: assertion failed: expr" to stderr and calls
 * abort(). A condition must have no side effects: a build with hot asserts and one
 * without must produce byte-identical results. NDEBUG does not affect either macro. */
#ifndef SHARDSIM_CORE_ASSERT_H
#define SHARDSIM_CORE_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

/* Report a failed assertion and abort; only the macros below call it. */
_Noreturn static inline void ss_assert_fail(const char *file, int line, const char *expr) {
    fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}

#define SS_ASSERT(cond) ((cond) ? (void)0 : ss_assert_fail(__FILE__, __LINE__, #cond))

#ifdef SHARDSIM_HOT_ASSERTS
#define SS_HOT_ASSERTS_ON 1
#define SS_ASSERT_HOT(cond) SS_ASSERT(cond)
#else
#define SS_HOT_ASSERTS_ON 0
/* sizeof keeps the condition type-checked (and its variables used) without evaluating it */
#define SS_ASSERT_HOT(cond) ((void)sizeof(!(cond)))
#endif

#endif
