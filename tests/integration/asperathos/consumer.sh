#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An Asperathos-style consumer, as Asperathos's quick start writes it in
# Python (docs/quick-start.md, docs/job-item-flow.md): take items from the
# list "job" into "job:processing" with RPOPLPUSH, process, drop them from
# "job:processing" and push the result to "job:results"; exit when "job"
# is empty. It finds Redis through REDIS_HOST and REDIS_PORT only. On
# SIGTERM (a scale-down) it finishes the item in hand, then exits.
r() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"; }
stop=0
trap 'stop=1' TERM
while [ $stop -eq 0 ]; do
	item=$(r RPOPLPUSH job job:processing) || exit 1
	[ -z "$item" ] && exit 0
	sleep "${WORK_SECONDS:-0.05}"
	echo "processed $item"
	r LREM job:processing 1 "$item" >/dev/null || exit 1
	r RPUSH job:results "$item ${GREETING:-}" >/dev/null || exit 1
done
