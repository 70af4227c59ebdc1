/* test_assert.c -- the engine's assertions (core/assert.h) bite: a child process that
 * breaks an invariant dies by SIGABRT with "file:line: assertion failed: expr" on
 * stderr. The always-on case (an event pushed before the last popped one: time going
 * backwards in sim/queue.c) runs in every build; the hot case (a key moved to another
 * key group in sim/state.c) only where SHARDSIM_HOT_ASSERTS is compiled in. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/assert.h"
#include "sim/queue.h"
#include "sim/state.h"

/* Run violate() in a child with stderr into a pipe; check that it died by SIGABRT and
 * that its stderr names `file` and says an assertion failed. */
static void expect_abort(void (*violate)(void), const char *file) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL); /* the test framework's handlers are not the child's */
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        violate();
        _exit(0); /* the assertion did not fire */
    }
    close(fds[1]);
    char text[4096];
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof text && (got = read(fds[0], text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)got;
    text[used] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("child did not die by SIGABRT (status %d); stderr: %s", status, text);
    if (!strstr(text, file) || !strstr(text, ": assertion failed: "))
        fail_msg("stderr does not name %s in an assertion failure: %s", file, text);
}

/* Pop an event at 100, then push one at 50: virtual time would go backwards. */
static void push_into_the_past(void) {
    queue *q;
    if (queue_create(8, &q) != 0)
        _exit(2);
    queue_event ev;
    queue_push(q, 100, 1, NULL, 0, NULL);
    queue_pop(q, &ev);
    queue_push(q, 50, 1, NULL, 0, NULL); /* aborts here */
    queue_free(q);
}

static void time_going_backwards_aborts(void **state) {
    (void)state;
    expect_abort(push_into_the_past, "sim/queue.c:");
}

/* Add a key to group 1 after it went to group 0: a key left its key group. */
static void key_changes_group(void) {
    state_store st;
    if (state_init(&st, 4) != 0)
        _exit(2);
    state_add(&st, 42, 0, 1);
    state_add(&st, 42, 1, 1); /* aborts here with hot asserts */
    state_free(&st);
}

static void hot_assert_aborts(void **state) {
    (void)state;
    if (!SS_HOT_ASSERTS_ON) {
        print_message("skipped: built without SHARDSIM_HOT_ASSERTS (the debug and asan "
                      "presets define it)\n");
        skip();
    }
    expect_abort(key_changes_group, "sim/state.c:");
}

/* A true condition passes; a hot one is not even evaluated without hot asserts. */
static void passing_and_compiled_out(void **state) {
    (void)state;
    int evaluated = 0;
    SS_ASSERT(1 + 1 == 2);
    SS_ASSERT_HOT(++evaluated == 1); /* a side effect only to observe evaluation */
    assert_int_equal(evaluated, SS_HOT_ASSERTS_ON);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_going_backwards_aborts),
        cmocka_unit_test(hot_assert_aborts),
        cmocka_unit_test(passing_and_compiled_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
