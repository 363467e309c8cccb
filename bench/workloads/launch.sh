#!/bin/sh
# launch.sh FIXTURE TOKEN: starts a test fixture with a derived mark. The supervisor's own argv carries
# TOKEN; every process of the workload carries wl_TOKEN (in argv, and in the environment where the
# fixture keeps it), so a count of wl_TOKEN never mistakes a supervisor for a leftover.
BENCH_MARK="wl_$2"
export BENCH_MARK
exec "$1" "$BENCH_MARK" wait
