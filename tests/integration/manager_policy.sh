#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What an admin token may make the manager do on its machine is the
# operator's choice (doc/manager.md section 1, "What a job may use"):
# workload files only under the store and --workload-dir directories (no
# "..", no link out), workload URLs only with --allow-workload-url and never
# to link-local or metadata addresses (redirects included), no LD_* and
# similar variables for replicas (plus --env-deny), and jobs' own commands
# unless --allow-cmd=no, which also stops such a job that was running.
# Every refusal is a 403 naming the field.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 28

A=$COFFER_SRC/tests/integration/asperathos
start_redis
start_manager
make_items 3
mkdir -p "$T/outside" "$T/www"
printf 'in/i-1\nin/i-2\n' | tee "$T/store/w.txt" "$T/outside/w.txt" > "$T/www/w.txt"
ln -s "$T/outside/w.txt" "$T/store/link.txt"

# forbidden FIELD DESC -- METHOD PATH [curl args]: a 403 naming the field.
forbidden() {
	local field=$1 desc=$2 body
	shift 2
	HTTP_CODE=
	"$@" > "$T/forbidden.out"   # not in $(...): api sets HTTP_CODE here
	body=$(cat "$T/forbidden.out")
	if [ "$HTTP_CODE" = 403 ] && [ "$(printf '%s' "$body" | jq -r .error.code)" = forbidden ] &&
		[ "$(printf '%s' "$body" | jq -r .error.field)" = "$field" ]; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		diag "status $HTTP_CODE, body: $body"
	fi
}
job() { # inputs-json [extra members]
	printf '{"app":"fault","inputs":%s,"expected_time_s":60,"replicas":{"max":1},"controller":{"name":"static"}%s}' \
		"$1" "${2:+,$2}"
}
submit_ok() { # desc state-wanted job-json
	local id
	api POST /v1/jobs -d "$3" > "$T/sub.json"
	id=$(jq -r .id "$T/sub.json")
	wait_state 30 "$id" "$2" failed completed stopped
	eq "$1" "201 $2" "$HTTP_CODE $(job_state "$id")"
	LAST_ID=$id
}

# 1. The defaults: files under the store only, no URLs, cmd allowed.
submit_ok "a workload file in the store is read" completed "$(job '{"items_file":"'"$T/store/w.txt"'"}')"
forbidden inputs.items_file "a workload file elsewhere is 403" \
	api POST /v1/jobs -d "$(job '{"items_file":"'"$T/outside/w.txt"'"}')"
forbidden inputs.items_file "so is one reached with .." \
	api POST /v1/jobs -d "$(job '{"items_file":"'"$T/store/../outside/w.txt"'"}')"
forbidden inputs.items_file "or through a link in the store" \
	api POST /v1/jobs -d "$(job '{"items_file":"'"$T/store/link.txt"'"}')"
forbidden inputs.items_url "a file:// URL elsewhere is 403" \
	api POST /v1/jobs -d "$(job '{"items_url":"file://'"$T/outside/w.txt"'"}')"
submit_ok "a file:// URL in the store is read" completed "$(job '{"items_url":"file://'"$T/store/w.txt"'"}')"
forbidden inputs.items_url "an http:// workload is 403 without --allow-workload-url" \
	api POST /v1/jobs -d "$(job '{"items_url":"http://127.0.0.1:1/w.txt"}')"
forbidden env.LD_PRELOAD "LD_PRELOAD for replicas is 403" \
	api POST /v1/jobs -d "$(job '{"prefix":"in/"}' '"env":{"LD_PRELOAD":"/tmp/x.so"}')"
forbidden env.GCONV_PATH "so is GCONV_PATH" \
	api POST /v1/jobs -d "$(job '{"prefix":"in/"}' '"env":{"GCONV_PATH":"/tmp"}')"
forbidden env.OPENSSL_CONF "and OPENSSL_CONF" \
	api POST /v1/jobs -d "$(job '{"prefix":"in/"}' '"env":{"OPENSSL_CONF":"/tmp/o.cnf"}')"
sed -e "s|@CONSUMER@|$A/consumer.sh|" -e "s|@WORKLOAD_URL@|http://127.0.0.1:1/w.txt|" \
	"$A/quickstart.json" > "$T/aq-url.json"
forbidden plugin_info.redis_workload "an Asperathos http:// workload is 403" \
	api POST /submissions --data @"$T/aq-url.json"
jq --arg w "$T/store/w.txt" '.plugin_info.redis_workload = $w |
	.plugin_info.env_vars.LD_AUDIT = "/tmp/a.so"' "$T/aq-url.json" > "$T/aq-env.json"
forbidden plugin_info.env_vars.LD_AUDIT "an Asperathos job's LD_AUDIT is 403" \
	api POST /submissions --data @"$T/aq-env.json"
# A job's own command: allowed by default (Asperathos compatibility).
api POST /v1/jobs -d '{"cmd":["/bin/sleep","60"],"inputs":{"items":["a","b"]},"expected_time_s":600,"replicas":{"max":1},"controller":{"name":"static"}}' > "$T/cmd.json"
cmd_id=$(jq -r .id "$T/cmd.json")
wait_state 20 "$cmd_id" running
eq "a cmd job runs by default" "201 running" "$HTTP_CODE $(job_state "$cmd_id")"

# 2. --allow-cmd=no: refused, and the running one cannot resume.
stop_manager
restart_manager --allow-cmd=no
wait_state 20 "$cmd_id" failed
eq "the running cmd job fails on restart with --allow-cmd=no" failed "$(job_state "$cmd_id")"
api GET "/v1/jobs/$cmd_id" | jq -e '.reason | contains("--allow-cmd=no")' >/dev/null
ok $? "saying why"
forbidden cmd "a cmd job is 403" \
	api POST /v1/jobs -d '{"cmd":["/bin/true"],"inputs":{"items":["a"]},"expected_time_s":60,"replicas":{"max":1},"controller":{"name":"static"}}'
jq --arg w "$T/store/w.txt" '.plugin_info.redis_workload = $w' "$T/aq-url.json" > "$T/aq.json"
forbidden plugin_info.cmd "so is an Asperathos submission" \
	api POST /submissions --data @"$T/aq.json"

# 3. --workload-dir, --allow-workload-url (loopback is fine; link-local and
# metadata addresses never, also behind a redirect), --env-deny.
cat > "$T/srv.py" <<'EOF'
import http.server, sys, functools
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        super().do_GET()
    def log_message(self, *a):
        pass
h = functools.partial(H, directory=sys.argv[2])
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), h).serve_forever()
EOF
start_http /w.txt /usr/bin/python3 "$T/srv.py" @PORT@ "$T/www"
HP=$HTTP_PORT
stop_manager
restart_manager --allow-workload-url --workload-dir "$T/outside" --env-deny 'FOO_*'
submit_ok "a file in a --workload-dir is read" completed "$(job '{"items_file":"'"$T/outside/w.txt"'"}')"
submit_ok "an http:// workload is fetched with --allow-workload-url" completed \
	"$(job '{"items_url":"http://127.0.0.1:'"$HP"'/w.txt"}')"
forbidden inputs.items_url "169.254.169.254 is 403 even so" \
	api POST /v1/jobs -d "$(job '{"items_url":"http://169.254.169.254/latest/meta-data/"}')"
forbidden inputs.items_url "and so is fe80::/10" \
	api POST /v1/jobs -d "$(job '{"items_url":"http://[fe80::1]/w.txt"}')"
submit_ok "a redirect to 169.254.169.254 is accepted, then fails" failed \
	"$(job '{"items_url":"http://127.0.0.1:'"$HP"'/redirect"}')"
api GET "/v1/jobs/$LAST_ID" | jq -e '.reason | contains("refused to connect to 169.254.169.254")' >/dev/null
ok $? "without connecting: the reason names the address"
forbidden env.FOO_BAR "--env-deny FOO_* refuses FOO_BAR" \
	api POST /v1/jobs -d "$(job '{"prefix":"in/"}' '"env":{"FOO_BAR":"1"}')"
submit_ok "other variables are fine" completed "$(job '{"prefix":"in/"}' '"env":{"BAR_FOO":"1"}')"

# 4. Bad switches stop the manager at start.
coffer-manager serve --db "$T/x.db" --workload-dir "$T/nonexistent" >/dev/null 2>&1
eq "a missing --workload-dir is a usage error" 2 $?
coffer-manager serve --db "$T/x.db" --env-deny '1BAD' >/dev/null 2>&1
eq "so is a bad --env-deny name" 2 $?
coffer-manager serve --db "$T/x.db" --allow-cmd=maybe >/dev/null 2>&1
eq "and --allow-cmd=maybe" 2 $?
