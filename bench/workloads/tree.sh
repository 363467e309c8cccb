#!/bin/bash
# tree.sh MARK NODES LEAVES [honour|ignore]: a two-level tree of 1 + NODES + NODES*LEAVES processes, each
# carrying MARK in argv. With "ignore", every other node and its leaves ignore SIGTERM (SIG_IGN is
# inherited through fork and exec), so about half the tree needs SIGKILL.
mark=$1 nodes=$2 leaves=$3 mode=${4:-honour}
for ((i = 0; i < nodes; i++)); do
  (
    if [ "$mode" = ignore ] && ((i % 2)); then trap '' TERM; fi
    for ((j = 0; j < leaves; j++)); do (exec -a "$mark:leaf" sleep 1000) & done
    exec -a "$mark:node" sleep 1000
  ) &
done
exec -a "$mark:root" sleep 1000
