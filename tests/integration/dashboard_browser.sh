#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The manager's dashboard in a real browser: `coffer up`, two jobs (one that
# dead-letters items, one confidential: a policy of three owners on coffer
# up's coordinator, INSECURE sim backend), then tests/browser/dashboard.js
# drives Debian's chromium with playwright-core: it signs in by keyboard
# with a read token, submits a third job (it runs for several seconds and
# its controller resizes it), checks the page against the API, follows that
# job to completion, checks the confidential job's approvals against
# `coffer policy status` before and after an owner revokes its approval,
# runs axe-core, checks where the token goes and that no
# secret is shown, and saves screenshots (to $COFFER_SCREENSHOTS if set, else
# the test's log directory). The npm packages come from
# tests/browser/package-lock.json (`npm ci`, once per lock file).
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/e2e_common.bash"

BROWSER_DIR=$COFFER_SRC/tests/browser
# npm ci replaces node_modules: one at a time, and only when the lock file
# changed since the last install.
(
	flock 9
	if ! cmp -s "$BROWSER_DIR/package-lock.json" "$BROWSER_DIR/node_modules/.coffer-installed"; then
		cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1 &&
			cp package-lock.json node_modules/.coffer-installed
	fi
) 9<"$BROWSER_DIR/package.json" || { sed 's/^/# /' "$T/npm.log"; bail "npm ci failed in tests/browser"; }
[ -x /usr/bin/chromium ] || bail "no /usr/bin/chromium (scripts/install-deps installs it)"

start_coffer_up --grace-ms 2000
URL=$(jq -r .url "$STATE")
ADMIN_TOKEN=$(jq -r .token "$STATE")
READ_TOKEN=$(coffer-manager token create --db "$DATA/manager.db" --name dashboard --scope read) ||
	bail "no read token"

# The confidential job's owners, their sealed items in coffer up's store,
# and their policy on coffer up's coordinator, pinned first.
COORD_URL=$(jq -r .coordinator.url "$STATE")
COORD_SIM_FP=$(jq -r .coordinator.sim_key_fingerprint "$STATE")
WORKER_MEAS=$(jq -r .coordinator.worker_measurement "$STATE")
coffer coordinator verify "$COORD_URL" --expect "$(jq -r .coordinator.measurement "$STATE")" \
	--trust-sim-key "$(jq -r .coordinator.sim_key "$STATE")" >/dev/null 2>&1 ||
	bail "coffer coordinator verify $COORD_URL failed"
e2e_owners 1
e2e_policy checksum '.apps[0].params = {"format": ["cksum"]}'
mkdir -p "$DATA/store/in"
cp -r "$T/store/a" "$T/store/b" "$T/store/c" "$DATA/store/"
for i in $(seq -w 1 60); do echo "m$i" > "$DATA/store/in/m-$i"; done
for i in $(seq -w 1 6); do echo "f$i" > "$DATA/store/in/f-$i"; done
# Secrets the API itself returns (a job's env values, its name) and that
# the page must never show: the dashboard masks or omits them.
ENV_SECRET=env-secret-$RANDOM$RANDOM
REDIS_PW=redis-pw-$RANDOM$RANDOM
NAME_TOKEN=cft_namedtoken$RANDOM$RANDOM
submit() { coffer job submit "$1" 2>>"$T/submit.err" || { sed 's/^/# /' "$T/submit.err"; bail "submit $1"; }; }
# 60 items of 0.3 s against a 12 s deadline: one replica is late, so the
# controller adds some while the page watches.
cat > "$T/main.json" <<JSON
{"name": "dashboard-demo", "app": "fault", "app_params": {"sleep_ms": 300},
 "inputs": {"prefix": "in/m-"}, "expected_time_s": 12, "env": {"API_KEY": "$ENV_SECRET"},
 "replicas": {"min": 1, "max": 4, "initial": 1},
 "controller": {"name": "asperathos-default", "check_interval_s": 1,
                "params": {"trigger_up": 0, "trigger_down": 0.1, "actuation_size": 1}}}
JSON
cat > "$T/fail.json" <<JSON
{"name": "copy redis://:$REDIS_PW@10.1.2.3:6379 with $NAME_TOKEN", "app": "fault",
 "app_params": {"sleep_ms": 10, "fail": "in/f-[24]"}, "max_attempts": 1,
 "inputs": {"prefix": "in/f-"}, "expected_time_s": 60, "replicas": {"min": 1, "max": 1},
 "controller": {"name": "static"}}
JSON
cat > "$T/tee.json" <<JSON
{"name": "cohort", "app": "checksum", "app_params": {"format": "cksum"}, "tee": {"policy": "$H"},
 "outputs": {"prefix": "out/"},
 "expected_time_s": 60, "replicas": {"min": 1, "max": 1}, "controller": {"name": "static"}}
JSON
JOB_FAIL=$(submit "$T/fail.json")
JOB_TEE=$(submit "$T/tee.json")
diag "jobs: fail $JOB_FAIL, confidential $JOB_TEE (policy $H) at $URL; dashboard.js submits $T/main.json"

OUT=${COFFER_SCREENSHOTS:-$COFFER_BUILD/test-logs/dashboard}
URL=$URL READ_TOKEN=$READ_TOKEN ADMIN_TOKEN=$ADMIN_TOKEN MAIN_SPEC=$T/main.json JOB_FAIL=$JOB_FAIL \
	JOB_TEE=$JOB_TEE POLICY=$H OWNER_ID=$T/c.id OUT=$OUT SECRETS="$ENV_SECRET
$REDIS_PW
$NAME_TOKEN" NODE_PATH=$BROWSER_DIR/node_modules node "$BROWSER_DIR/dashboard.js" 2>"$T/node.err"
rc=$?
sed 's/^/# /' "$T/node.err" | grep -v 'dbus\|unexpected operator' | tail -n 20
if [ "$rc" -ne 0 ]; then
	for j in $(curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/v1/jobs" | jq -r '.jobs[].id'); do
		diag "$(curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/v1/jobs/$j" |
			jq -c '{id, state, reason, items, confidential}')"
	done
	tail -n 15 "$DATA/manager.log" | sed 's/^/# manager: /'
fi
diag "screenshots in $OUT"
exit $rc
