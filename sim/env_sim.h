/* env_sim.h -- the env (core/env.h) in virtual time, over the future-event list: a
 * small event loop that runs timer callbacks in (time, schedule order). Used by the
 * coordination mock's tests and by simulations that drive a backend. */
#ifndef SHARDSIM_SIM_ENV_SIM_H
#define SHARDSIM_SIM_ENV_SIM_H

#include <stdint.h>

#include "core/env.h"
#include "sim/queue.h"

typedef struct env_sim {
    env env; /* hand &env_sim.env to backends */
    queue *q;
    uint64_t now_ns;
    uint64_t fired;
} env_sim;

int env_sim_init(env_sim *s);
void env_sim_free(env_sim *s);

/* Run callbacks until the queue is empty or the next one is after until_ns (then time
 * stops at until_ns). Returns the number of callbacks run. */
uint64_t env_sim_run_until(env_sim *s, uint64_t until_ns);

#endif
