#!/bin/sh
# Dependencies point one way: sim -> backends -> core. Fails (exit 1) naming each
# include that points the wrong way, and each wall-clock or libc-random call in core/
# or sim/ outside the files allowed to read the clock (sim/env_real.c: folder names;
# sim/env_rt.c: the real-time loop for runs against a real ZooKeeper), and each file of
# sim/ that names the in-process coordination model.
top=${1:-.}
cd "$top" || exit 2
bad=0
report() { echo "check_layers: $1"; bad=1; }
for f in $(find core -name '*.[ch]'); do
  grep -nE '#include +"(sim|backends)/' "$f" | while read -r l; do echo "check_layers: $f:$l: core/ must not include sim/ or backends/"; done
  grep -qE '#include +"(sim|backends)/' "$f" && bad=1
done
for f in $(find backends -name '*.[ch]'); do
  grep -nE '#include +"sim/' "$f" | while read -r l; do echo "check_layers: $f:$l: backends/ must not include sim/"; done
  grep -qE '#include +"sim/' "$f" && bad=1
done
for f in $(find core sim -name '*.[ch]' ! -name env_real.c ! -name env_rt.c); do
  if grep -nE '(^|[^_a-zA-Z0-9.>])(rand|srand|random|srandom|drand48|time|clock|gettimeofday|clock_gettime)[[:space:]]*\(' "$f" \
      | grep -vE '^[0-9]+:[[:space:]]*(/\*|\*|//)'; then
    report "$f: wall-clock or libc random call (determinism rule)"
  fi
done
# Coordination is pluggable: outside backends/ (and the mock's own tests) nothing names
# the in-process model; the simulator chooses a backend by name from the registry.
for f in $(find sim -name '*.[ch]'); do
  if grep -nE 'mock_|backends/mock/' "$f"; then
    report "$f: names the coordination model; go through coord.h and the registry"
  fi
done
[ $bad -eq 0 ] && echo "check_layers: ok"
exit $bad
