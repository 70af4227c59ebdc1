/* coord.c -- error names and the checked wrappers of coord.h. */
#include <string.h>

#include "backends/coord.h"
#include "core/error.h"

const char *coord_strerror(int rc) {
    switch (rc) {
#define COORD_MSG(name, code, msg)                                                                 \
    case code:                                                                                     \
        return msg;
        COORD_ERROR_MAP(COORD_MSG)
#undef COORD_MSG
    default:
        return rc < -1000 ? ss_strerror(rc) : "unknown";
    }
}

const char *coord_error_name(int rc) {
    switch (rc) {
#define COORD_NAME(name, code, msg)                                                                \
    case code:                                                                                     \
        return #name;
        COORD_ERROR_MAP(COORD_NAME)
#undef COORD_NAME
#define SS_NAME(name, code, msg)                                                                   \
    case code:                                                                                     \
        return "SS_E" #name;
        SS_ERROR_MAP(SS_NAME)
#undef SS_NAME
    default:
        return "UNKNOWN";
    }
}

const char *coord_op_type_name(int type) {
    static const char *const names[COORD_OPTYPES] = {"create",   "delete", "set",   "get", "exists",
                                                     "children", "multi",  "close", "sync"};
    return type >= 0 && type < COORD_OPTYPES ? names[type] : NULL;
}

void coord_config_defaults(coord_config *c) {
    memset(c, 0, sizeof *c);
    c->tick_ns = 2000000000ULL;
    c->servers = 1;
    c->read_ns = 500000;
    c->write_ns = 2000000;
    c->latency_dist = COORD_LATENCY_CONSTANT;
    c->latency_sigma = 0.5;
    c->connect_timeout_ns = 10000000000ULL;
}

int coord_path_valid(const char *path) {
    if (!path || path[0] != '/')
        return 0;
    if (path[1] == '\0')
        return 1; /* the root */
    size_t len = strlen(path);
    if (path[len - 1] == '/' || strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../"))
        return 0;
    return 1;
}

int coord_create(const coord_backend *b, coord_session *s, const char *path, const void *data,
                 size_t len, int flags, coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || strcmp(path, "/") == 0 || len > COORD_MAX_DATA ||
        (flags & ~(COORD_EPHEMERAL | COORD_SEQUENTIAL)) || !done)
        return COORD_BADARGUMENTS;
    return b->create(s, path, data, len, flags, done, arg);
}

int coord_remove(const coord_backend *b, coord_session *s, const char *path, int32_t version,
                 coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || strcmp(path, "/") == 0 || version < -1 || !done)
        return COORD_BADARGUMENTS;
    return b->remove(s, path, version, done, arg);
}

int coord_set(const coord_backend *b, coord_session *s, const char *path, const void *data,
              size_t len, int32_t version, coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || len > COORD_MAX_DATA || version < -1 || !done)
        return COORD_BADARGUMENTS;
    return b->set(s, path, data, len, version, done, arg);
}

int coord_get(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
              void *watch_arg, coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || !done)
        return COORD_BADARGUMENTS;
    return b->get(s, path, watch, watch_arg, done, arg);
}

int coord_exists(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
                 void *watch_arg, coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || !done)
        return COORD_BADARGUMENTS;
    return b->exists(s, path, watch, watch_arg, done, arg);
}

int coord_children(const coord_backend *b, coord_session *s, const char *path, coord_watch_fn watch,
                   void *watch_arg, coord_done_fn done, void *arg) {
    if (!coord_path_valid(path) || !done)
        return COORD_BADARGUMENTS;
    return b->children(s, path, watch, watch_arg, done, arg);
}

int coord_multi(const coord_backend *b, coord_session *s, const coord_op *ops, size_t count,
                coord_done_fn done, void *arg) {
    if (!ops || count == 0 || count > 1000 || !done)
        return COORD_BADARGUMENTS;
    for (size_t i = 0; i < count; i++)
        if (!coord_path_valid(ops[i].path) || ops[i].type < COORD_OP_CREATE ||
            ops[i].type > COORD_OP_CHECK || ops[i].data_len > COORD_MAX_DATA)
            return COORD_BADARGUMENTS;
    return b->multi(s, ops, count, done, arg);
}

int coord_sync(const coord_backend *b, coord_session *s, const char *path, coord_done_fn done,
               void *arg) {
    if (!coord_path_valid(path) || !done)
        return COORD_BADARGUMENTS;
    return b->sync(s, path, done, arg);
}
