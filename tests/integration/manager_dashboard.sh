#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard's routes over HTTP (the browser test, dashboard_browser.sh,
# drives the page itself): its files need no token and are what
# src/manager/ui/ holds, with their types and security headers; nothing
# else is served; GET /v1/jobs/{id}/dead_letters (and Asperathos's
# /submissions/{id}/errors) list a failed job's items with their errors,
# for a read token, after the job ended too.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/manager_common.bash"
plan 17

start_redis
start_manager
UI=$COFFER_SRC/src/manager/ui

curl -s -D "$T/h" -o "$T/index" "$MGR_URL/"
grep -q '^HTTP/1.1 200' "$T/h"; ok $? "GET / answers 200 without a token"
cmp -s "$T/index" "$UI/index.html"; ok $? "with index.html as it is in the source"
grep -qi "^Content-Type: text/html; charset=utf-8" "$T/h"; ok $? "as text/html"
grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"$'\r'"\?$" "$T/h"
ok $? "with a Content Security Policy that allows only the manager's own script, whole"
grep -qi '^X-Content-Type-Options: nosniff' "$T/h" && grep -qi '^X-Frame-Options: DENY' "$T/h" &&
	grep -qi '^Referrer-Policy: no-referrer' "$T/h"
ok $? "nosniff, no framing, no referrer"
for f in app.js style.css favicon.svg; do
	curl -s -o "$T/$f" "$MGR_URL/ui/$f"
	cmp -s "$T/$f" "$UI/$f" || break
done
ok $? "every file of src/manager/ui/ is served byte for byte"
eq "app.js is text/javascript" "text/javascript; charset=utf-8" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$MGR_URL/ui/app.js")"
eq "HEAD works" 200 "$(curl -s -I -o /dev/null -w '%{http_code}' "$MGR_URL/ui/style.css")"
eq "an unknown file is a 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$MGR_URL/ui/secrets.txt")"
eq "so is a path out of the folder" 404 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$MGR_URL/ui/../v1/jobs")"
eq "and POST to a file" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$MGR_URL/ui/app.js")"

make_items 5
api POST /v1/jobs --data-binary '{"app": "fault", "app_params": {"sleep_ms": 10, "fail": "in/i-[24]"},
  "max_attempts": 2, "inputs": {"prefix": "in/"}, "expected_time_s": 60,
  "replicas": {"min": 1, "max": 1}, "controller": {"name": "static"}}' > "$T/j.json"
id=$(jq -r .id "$T/j.json")
wait_state 60 "$id" failed completed
READ=$(coffer-manager token create --db "$MGR_DB" --scope read)
API_TOKEN=$READ api GET "/v1/jobs/$id/dead_letters" > "$T/dl.json"
eq "dead_letters answers a read token" 200 "$HTTP_CODE"
eq "with the two failed items of the finished job" "in/i-2 2 in/i-4 2" \
	"$(jq -r '[.dead_letters[] | "\(.item) \(.attempts)"] | sort | join(" ")' "$T/dl.json")"
jq -e '.dead_letters | all(.error | test("injected failure"))' "$T/dl.json" >/dev/null
ok $? "each with its last error"
eq "not truncated" false "$(jq -r .truncated "$T/dl.json")"
eq "Asperathos's /submissions/{id}/errors lists the same items once the job is over" "in/i-2 in/i-4" \
	"$(API_TOKEN=$READ api GET "/submissions/$id/errors" | jq -r '[.[].item] | sort | join(" ")')"
api GET /v1/jobs/job-nope/dead_letters >/dev/null
eq "an unknown job is a 404" 404 "$HTTP_CODE"
