/* fuzz_history.c -- libFuzzer target for the coordination history reader
 * (backends/history.h) and the checker behind it (backends/lincheck.h).
 *
 * The input is parsed as a JSON Lines history; a history that parses must write back
 * to text that parses again to the same text (the writer and the reader agree), and
 * must check to some verdict within a small step bound, without a crash, leak or
 * hang. A refused input must have produced a one-line "name:line: reason". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/history.h"
#include "backends/lincheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256] = "";
    coord_history *h;
    if (coord_history_parse((const char *)data, size, "in", &h, err, sizeof err) != 0) {
        if (strncmp(err, "in:", 3) != 0 || strchr(err, '\n'))
            abort();
        return 0;
    }
    char *text = coord_history_text(h);
    coord_history *again;
    if (!text || coord_history_parse(text, strlen(text), "again", &again, err, sizeof err) != 0)
        abort();
    char *text2 = coord_history_text(again);
    if (!text2 || strcmp(text, text2) != 0)
        abort();
    lincheck_options opt = {.max_steps = 20000};
    lincheck_result r;
    if (lincheck_run(h, &opt, &r) != 0 || r.verdict < LINCHECK_OK || r.verdict > LINCHECK_UNKNOWN)
        abort();
    free(text);
    free(text2);
    coord_history_free(again);
    coord_history_free(h);
    return 0;
}
