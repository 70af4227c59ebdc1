/* registry.c -- the coordination backends by name: the in-process model always, the
 * real ZooKeeper when built with it (SHARDSIM_ZOOKEEPER). Callers choose a backend
 * here and never name one directly. */
#include <string.h>

#include "backends/coord.h"
#include "backends/mock/mock.h"
#ifdef SHARDSIM_HAVE_ZOOKEEPER
#include "backends/zookeeper/zk.h"
#endif

static const coord_backend *const backends[] = {
    &mock_backend,
#ifdef SHARDSIM_HAVE_ZOOKEEPER
    &zookeeper_backend,
#endif
};

const coord_backend *coord_backend_find(const char *name) {
    for (size_t i = 0; name && i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

const char *coord_backend_names(void) {
#ifdef SHARDSIM_HAVE_ZOOKEEPER
    return "mock, zookeeper";
#else
    return "mock";
#endif
}
