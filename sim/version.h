/* version.h -- the shardsim version string, recorded in every result manifest. */
#ifndef SHARDSIM_SIM_VERSION_H
#define SHARDSIM_SIM_VERSION_H

/* "0.1.0": the project version from CMakeLists.txt. */
const char *sim_version(void);

#endif
