# SPDX-License-Identifier: Apache-2.0
# Helpers for the manager's integration tests (manager_*.sh, asperathos_*.sh),
# sourced after lib.sh. Not a test itself (tests/run only runs *.sh).
#
#   start_manager [serve args...]   token + coffer-manager serve on a free port;
#                                   sets MGR_DB MGR_TOKEN MGR_URL MGR_PID MGR_LOG
#   restart_manager [args...]       serve again on the same store (new port)
#   api METHOD PATH [curl args...]  prints the body; HTTP_CODE gets the status
#                                   (with $API_TOKEN if set, else $MGR_TOKEN;
#                                   Content-Type $API_CTYPE, else JSON);
#                                   call it in this shell, not in $(...), to
#                                   see HTTP_CODE
#   job_state ID                    the job's state
#   kill_manager                    SIGKILL, and wait until it is gone

MGR_LOG=$T/manager.log

start_manager() {
	MGR_DB=$T/manager.db
	mkdir -p "$T/store"
	MGR_TOKEN=$(coffer-manager token create --db "$MGR_DB" --name test) ||
		bail "coffer-manager token create failed"
	restart_manager "$@"
}

restart_manager() {
	rm -f "$T/manager.url"
	coffer-manager serve --db "$MGR_DB" --listen 127.0.0.1:0 \
		--ready-file "$T/manager.url" --redis "$REDIS_URL" --store "$T/store" \
		--apps "$COFFER_BUILD/apps" --tick-ms 250 --grace-ms 3000 "$@" \
		>>"$MGR_LOG" 2>&1 &
	MGR_PID=$!
	track $MGR_PID
	if ! wait_until 30 test -s "$T/manager.url"; then
		tail -n 20 "$MGR_LOG" | sed 's/^/# /'
		bail "coffer-manager did not start"
	fi
	MGR_URL=$(cat "$T/manager.url")
}

# stop_manager: SIGTERM and wait for the PID.
stop_manager() {
	kill "$MGR_PID" 2>/dev/null
	wait_exit 15 "$MGR_PID" && return 0
	kill_manager
	return 1
}

# kill_manager: SIGKILL, and wait until the process is gone: kill returns
# before it dies, and until then it holds the store's lock (a manager
# started at once would refuse the store as in use).
kill_manager() {
	kill -9 "$MGR_PID" 2>/dev/null
	wait "$MGR_PID" 2>/dev/null
}

api() {
	local m=$1 p=$2
	shift 2
	HTTP_CODE=$(curl -s -o "$T/api.body" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer ${API_TOKEN:-$MGR_TOKEN}" \
		-H "Content-Type: ${API_CTYPE:-application/json}" "$@" "$MGR_URL$p")
	cat "$T/api.body"
}

job_state() { api GET "/v1/jobs/$1?view=status" | jq -r .state; }

# wait_state SECONDS ID STATE...: until the job is in one of the states.
wait_state() {
	local end=$(($(now_ms) + $1 * 1000)) id=$2 s
	shift 2
	while :; do
		s=$(job_state "$id")
		for want in "$@"; do [ "$s" = "$want" ] && return 0; done
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# make_items N [prefix]: N small objects in the store under in/.
make_items() {
	local n=$1 i
	mkdir -p "$T/store/in"
	for i in $(seq -w 1 "$n"); do printf 'item %s\n' "$i" > "$T/store/in/i-$i"; done
}
