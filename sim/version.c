/* version.c -- the version string, passed in by the build. */
#include "sim/version.h"

const char *sim_version(void) {
    return SHARDSIM_VERSION;
}
