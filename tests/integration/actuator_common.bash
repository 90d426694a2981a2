# SPDX-License-Identifier: Apache-2.0
# Helpers for the actuator backends' tests (slurm_actuator.sh,
# k8s_actuator.sh), sourced after lib.sh. Not a test itself.
#
#   start_ctl BACKEND ARGS...   tests/tools/actuatorctl in the background,
#                               reading commands from a FIFO (fd 7) and
#                               answering into another (fd 8)
#   cmd LINE                    one command, its one-line answer
#   field NAME                  a field of `status`
#   ids                         the listed replica ids, one per line
#   stop_ctl                    quit, and wait for it
#   replica_script FILE DIR     a replica program: records its start (id,
#                               $COFFER_TEST_VAR) in DIR/<id>.start; on
#                               SIGTERM appends "term" to DIR/<id>.term and
#                               exits $COFFER_STOP_EXIT_STATUS (0), or
#                               ignores it while DIR/stubborn exists; exits
#                               0 by itself once DIR/finish exists
CTL=$COFFER_BUILD/tests/tools/actuatorctl

start_ctl() {
	rm -f "$T/ctl.in" "$T/ctl.out"
	mkfifo "$T/ctl.in" "$T/ctl.out"
	"$CTL" "$@" <"$T/ctl.in" >"$T/ctl.out" 2>>"$T/ctl.err" &
	CTL_PID=$!
	track $CTL_PID
	exec 7>"$T/ctl.in" 8<"$T/ctl.out"
}

cmd() { echo "$1" >&7; local l=""; read -r -t 120 l <&8; echo "$l"; }
field() { cmd status | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ids() { cmd list | tr ';' '\n' | cut -d' ' -f1 | grep .; }

stop_ctl() {
	echo quit >&7
	exec 7>&- 8<&-
	wait "$CTL_PID" 2>/dev/null
}

replica_script() {
	cat >"$1" <<'SH'
#!/bin/sh
D=$1
# Whole or absent: a reader never sees the file created and still empty.
echo "$COFFER_REPLICA_ID $COFFER_TEST_VAR $$" >"$D/.$COFFER_REPLICA_ID.start" &&
	mv "$D/.$COFFER_REPLICA_ID.start" "$D/$COFFER_REPLICA_ID.start"
trap 'if [ -e "$D/stubborn" ]; then echo ignored >>"$D/$COFFER_REPLICA_ID.term"; else echo term >>"$D/$COFFER_REPLICA_ID.term"; exit ${COFFER_STOP_EXIT_STATUS:-0}; fi' TERM
while [ ! -e "$D/finish" ]; do sleep 0.1; done
exit 0
SH
	chmod +x "$1"
}
