#!/bin/bash
# crowd.sh MARK N: N idle processes (sleep) carrying MARK in argv, under one parent, for the scan benchmark.
mark=$1 n=$2
for ((i = 0; i < n; i++)); do (exec -a "$mark:idle" sleep 1000) & done
exec -a "$mark:crowd" sleep 1000
