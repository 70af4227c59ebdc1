/* grow.c -- see grow.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"

int ss_grow(void *items, size_t *cap, size_t need, size_t elem_size) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return SS_ENOMEM;
        n *= 2;
    }
    if (elem_size && n > SIZE_MAX / elem_size)
        return SS_ENOMEM;
    void *old;
    memcpy(&old, items, sizeof old); /* items is a T **: read the T * it holds */
    void *p = realloc(old, n * elem_size);
    if (!p)
        return SS_ENOMEM;
    memcpy(items, &p, sizeof p);
    *cap = n;
    return 0;
}
