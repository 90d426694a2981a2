# SPDX-License-Identifier: Apache-2.0
# Shared harness for integration tests (bash). Source it first:
#   . "$(dirname "$0")/lib.sh"
# It gives TAP output helpers, a private temp dir ($T) removed at exit, and
# starters for real servers on free loopback ports, each stopped by PID at
# exit. Binaries are in $COFFER_BUILD (set by tests/run; default build/).
set -u
COFFER_SRC=${COFFER_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
COFFER_BUILD=${COFFER_BUILD:-$COFFER_SRC/build}
BIN=$COFFER_BUILD/bin
export PATH="$BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/coffer-test.XXXXXX")
_tap_n=0
_tap_failed=0
_pids=()

_cleanup_hooks=()

_cleanup() {
	local p h
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${_pids[@]}"; do
		# Give each server up to 5 s to exit, then SIGKILL.
		wait_exit 5 "$p" || kill -9 "$p" 2>/dev/null
	done
	for h in "${_cleanup_hooks[@]}"; do "$h"; done
	if [ "$_tap_failed" -eq 0 ] || [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$T"
	else
		echo "# kept $T" >&2
	fi
}
trap _cleanup EXIT

# plan N: print the TAP plan.
plan() { echo "1..$1"; }

# ok COND_STATUS "description": pass if the status is 0.
ok() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $2"
	fi
}

# check "description" cmd args...: run cmd, pass if it exits 0; on failure
# its output is shown as TAP comments.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	ok $rc "$desc"
	[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /' | tail -n 30
	return $rc
}

# check_fails "description" cmd args...: pass if cmd exits non-zero.
check_fails() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then ok 0 "$desc"; else ok 1 "$desc"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}

# eq "description" expected actual
eq() {
	if [ "$2" = "$3" ]; then ok 0 "$1"; else ok 1 "$1"; echo "#   expected: $2"; echo "#   actual:   $3"; fi
}

diag() { echo "# $*"; }

# bail "reason": stop the file; tests/run counts the unrun tests as failed.
bail() { echo "Bail out! $*"; exit 1; }

# track PID: stop it at exit.
track() { _pids+=("$1"); }

# at_exit FUNCTION: run it at exit, after the tracked processes are stopped
# (a cluster outlives the clients it serves: a manager stops first).
at_exit() { _cleanup_hooks+=("$1"); }

# flip FILE OFFSET: xor the byte at OFFSET with 0xff (always a change,
# whatever the byte was).
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# random_port: a random loopback port that nothing listens on right now,
# below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by
# default): a port from inside it can be taken by any client's outgoing
# connection (curl, redis-cli) between this check and the server's bind,
# which made busy full runs fail with "port in use". Starters still retry
# on a bind race.
random_port() {
	local p lo=32768 hi
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	hi=$((lo - 1))
	[ "$hi" -gt 12000 ] || hi=59999
	for _ in $(seq 50); do
		p=$(shuf -i 10000-"$hi" -n 1)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# now_ms: the wall clock in milliseconds (bash's EPOCHREALTIME, no fork).
now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}

# wait_until SECONDS cmd args...: poll cmd every 0.05 s until it succeeds,
# for at most SECONDS (whole) seconds by the clock: a deadline, not a count
# of polls, so a slow cmd (a client waiting on a busy server) does not
# stretch the wait to many times SECONDS. cmd always runs at least once.
wait_until() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# wait_secs: the same (its older name, from when wait_until counted polls).
wait_secs() { wait_until "$@"; }

# alive PID: PID runs. A zombie does not: kill -0 succeeds on one, and an
# orphan (a replica of a killed manager) stays a zombie until its new
# parent reaps it, which a container's init may never do.
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r st </proc/"$1"/stat 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# wait_exit SECONDS PID: until PID has exited (or is a zombie); 1 if it
# still runs.
wait_exit() {
	local end=$(($(now_ms) + $1 * 1000))
	while alive "$2"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# start_http PROBE CMD ARGS...: start a loopback HTTP server whose command
# line takes its port as @PORT@; wait until GET PROBE (a path) answers.
# Retries on another port if the first does not come up (a port race).
# Sets HTTP_PORT and HTTP_PID.
start_http() {
	local probe=$1 tries a
	shift
	for tries in 1 2 3 4 5; do
		HTTP_PORT=$(random_port) || bail "no free port"
		local args=()
		for a in "$@"; do args+=("${a//@PORT@/$HTTP_PORT}"); done
		"${args[@]}" >"$T/http-$HTTP_PORT.log" 2>&1 &
		HTTP_PID=$!
		track $HTTP_PID
		wait_until 10 curl -sf "http://127.0.0.1:$HTTP_PORT$probe" && return 0
		kill -9 $HTTP_PID 2>/dev/null
	done
	bail "the HTTP server did not start (see $T/http-*.log)"
}

# start_redis [extra redis-server args...]: start a private redis-server with
# AOF on, data in $T/redis-$port. Sets REDIS_PORT, REDIS_PID, REDIS_DIR,
# REDIS_URL. Restartable: stop_redis then start_redis_again keeps the data.
start_redis() {
	local tries
	for tries in 1 2 3 4 5; do
		REDIS_PORT=$(random_port) || bail "no free port"
		REDIS_DIR=$T/redis-$REDIS_PORT
		mkdir -p "$REDIS_DIR"
		_REDIS_ARGS=("$@")
		start_redis_again && return 0
	done
	bail "redis-server did not start (see $REDIS_DIR/redis.log)"
}

start_redis_again() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
		--save '' --appendonly yes --daemonize no \
		--logfile "$REDIS_DIR/redis.log" "${_REDIS_ARGS[@]}" &
	REDIS_PID=$!
	track $REDIS_PID
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT
	export REDIS_URL
	if wait_until 10 redis_ping; then
		return 0
	fi
	kill -9 $REDIS_PID 2>/dev/null
	return 1
}

redis_ping() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# stop_redis: SIGTERM (Redis fsyncs the AOF) and wait for the PID to end.
stop_redis() {
	kill "$REDIS_PID" 2>/dev/null
	wait_exit 5 "$REDIS_PID" && return 0
	kill -9 "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
}

# start_coordinator [extra serve args...]: start coffer-coordinator on the
# sim backend (INSECURE SIMULATION) on a free loopback port, data in
# $COORD_DIR (default $T/coord), sim platform key in $COFFER_SIM_DIR
# (default $T/sim). Sets COORD_PORT, COORD_URL, COORD_PID, COORD_LOG, and
# COORD_MEASUREMENT and COORD_SIM_KEY (a file) for `coffer coordinator
# verify`, and COORD_SIM_FP (that key's fingerprint, for the
# sim_platform_keys of a policy's verification object). Restartable on the
# same port: stop_coordinator, then start_coordinator_again.
start_coordinator() {
	local tries
	COORD_DIR=${COORD_DIR:-$T/coord}
	export COFFER_SIM_DIR=${COFFER_SIM_DIR:-$T/sim}
	COORD_SIM_KEY=$T/sim-key.pem
	[ -s "$COORD_SIM_KEY" ] || coffer attest sim-key >"$COORD_SIM_KEY" 2>/dev/null
	COORD_SIM_FP=$(coffer attest sim-key --fingerprint 2>/dev/null)
	_COORD_ARGS=("$@")
	for tries in 1 2 3 4 5; do
		COORD_PORT=$(random_port) || bail "no free port"
		start_coordinator_again && break
		[ "$tries" -eq 5 ] && bail "coffer-coordinator did not start (see $COORD_LOG)"
	done
	COORD_MEASUREMENT=$(coffer attest measure "$BIN/coffer-coordinator")
}

start_coordinator_again() {
	COORD_URL=http://127.0.0.1:$COORD_PORT
	COORD_LOG=$T/coord-$COORD_PORT.log
	coffer-coordinator serve --data "$COORD_DIR" --backend sim \
		--listen "127.0.0.1:$COORD_PORT" "${_COORD_ARGS[@]}" >>"$COORD_LOG" 2>&1 &
	COORD_PID=$!
	track $COORD_PID
	wait_until 10 curl -sf "$COORD_URL/healthz" && return 0
	kill -9 $COORD_PID 2>/dev/null
	return 1
}

# stop_coordinator [SIGNAL]: send SIGTERM (or SIGNAL), wait for the PID to
# end; sets COORD_RC to its exit status.
stop_coordinator() {
	kill -"${1:-TERM}" "$COORD_PID" 2>/dev/null
	wait "$COORD_PID" 2>/dev/null
	COORD_RC=$?
}

# start_slurm [NODES] [CPUS]: a real Slurm cluster (munged, slurmctld and
# NODES slurmd, default 2, each an emulated node n1, n2, ... declaring CPUS
# CPUs, default 8, whatever this machine has) on loopback, state in
# $T/slurm; partitions debug (the default) and high (whose jobs preempt
# debug's). Exports SLURM_CONF (every client needs it); sets SLURM_DIR.
# SchedulerParameters is $SLURM_SCHED_PARAMS, batch_sched_delay=0 unless
# set: without it a job submitted less than 3 s after the last scheduling
# pass waits for the next one (2.3 s against 0.45 s to run a job here),
# and the tests submit often; the bench sets it empty to measure Slurm's
# defaults.
# At exit, after the tracked processes (a manager), every job of the
# cluster is cancelled before the daemons stop (a job's slurmstepd
# outlives its slurmd). Retries on a port race.
start_slurm() {
	local nodes=${1:-2} cpus=${2:-8} tries
	for tries in 1 2 3; do
		_start_slurm_once "$nodes" "$cpus" && return 0
		_stop_slurm
	done
	tail -n 20 "$SLURM_DIR"/log/*.log 2>/dev/null | sed 's/^/# /'
	bail "slurm did not start (see $SLURM_DIR/log)"
}

_start_slurm_once() {
	local nodes=$1 cpus=$2 i port user end p
	SLURM_DIR=$T/slurm
	rm -rf "$SLURM_DIR"
	mkdir -p "$SLURM_DIR"/{munge,state,log}
	# munged refuses a socket directory others cannot search, and a key
	# others can read.
	chmod 755 "$T" "$SLURM_DIR" "$SLURM_DIR/munge"
	head -c 1024 /dev/urandom >"$SLURM_DIR/munge/munge.key"
	chmod 400 "$SLURM_DIR/munge/munge.key"
	munged -F --socket="$SLURM_DIR/munge/munge.sock" \
		--key-file="$SLURM_DIR/munge/munge.key" \
		--pid-file="$SLURM_DIR/munge/munged.pid" \
		--seed-file="$SLURM_DIR/munge/munged.seed" \
		--log-file="$SLURM_DIR/log/munged.log" >/dev/null 2>&1 &
	_slurm_pids=($!)
	if [ ${#_slurm_hooked[@]} -eq 0 ]; then
		_slurm_hooked=(1)
		at_exit _stop_slurm
	fi
	wait_until 10 test -S "$SLURM_DIR/munge/munge.sock" || return 1
	user=$(id -un)
	port=$(random_port) || return 1
	{
		echo "ClusterName=coffertest"
		echo "SlurmctldHost=localhost(127.0.0.1)"
		echo "SlurmctldPort=$port"
		echo "SlurmUser=$user"
		echo "SlurmdUser=$user"
		echo "AuthType=auth/munge"
		echo "CredType=cred/munge"
		echo "AuthInfo=socket=$SLURM_DIR/munge/munge.sock"
		echo "StateSaveLocation=$SLURM_DIR/state"
		echo "SlurmdSpoolDir=$SLURM_DIR/spool/slurmd-%n"
		echo "SlurmctldPidFile=$SLURM_DIR/slurmctld.pid"
		echo "SlurmdPidFile=$SLURM_DIR/slurmd-%n.pid"
		echo "SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log"
		echo "SlurmdLogFile=$SLURM_DIR/log/slurmd-%n.log"
		# Emulated nodes: the configured CPUs count, not the machine's.
		echo "SlurmdParameters=config_overrides"
		echo "ProctrackType=proctrack/linuxproc"
		echo "TaskPlugin=task/none"
		echo "JobAcctGatherType=jobacct_gather/none"
		echo "AccountingStorageType=accounting_storage/none"
		echo "JobCompType=jobcomp/none"
		echo "SwitchType=switch/none"
		echo "MpiDefault=none"
		echo "MailProg=/bin/true"
		echo "SchedulerType=sched/backfill"
		[ -z "${SLURM_SCHED_PARAMS-batch_sched_delay=0}" ] ||
			echo "SchedulerParameters=${SLURM_SCHED_PARAMS-batch_sched_delay=0}"
		echo "SelectType=select/cons_tres"
		echo "SelectTypeParameters=CR_Core"
		echo "ReturnToService=2"
		echo "SlurmctldTimeout=30"
		echo "SlurmdTimeout=30"
		echo "InactiveLimit=0"
		echo "MinJobAge=300"
		echo "KillWait=2"
		echo "Waittime=0"
		echo "MaxArraySize=1001"
		for i in $(seq "$nodes"); do
			port=$(random_port) || return 1
			mkdir -p "$SLURM_DIR/spool/slurmd-n$i"
			echo "NodeName=n$i NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port CPUs=$cpus RealMemory=4000 State=UNKNOWN"
		done
		# Jobs of "high" preempt (cancel) jobs of "debug" they need
		# the CPUs of.
		echo "PreemptType=preempt/partition_prio"
		echo "PreemptMode=CANCEL"
		echo "PartitionName=debug Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP PriorityTier=1"
		echo "PartitionName=high Nodes=n[1-$nodes] Default=NO MaxTime=INFINITE State=UP PriorityTier=10"
	} >"$SLURM_DIR/slurm.conf"
	export SLURM_CONF=$SLURM_DIR/slurm.conf
	slurmctld -D -c -f "$SLURM_CONF" >"$SLURM_DIR/log/slurmctld.out" 2>&1 &
	_slurm_pids+=($!)
	for i in $(seq "$nodes"); do
		slurmd -D -N "n$i" -f "$SLURM_CONF" >"$SLURM_DIR/log/slurmd-n$i.out" 2>&1 &
		_slurm_pids+=($!)
	done
	# About 1 s here; much longer on a loaded machine. A daemon that
	# died (a port taken meanwhile) is a retry at once.
	end=$((SECONDS + 60))
	until slurm_idle "$nodes"; do
		for p in "${_slurm_pids[@]}"; do kill -0 "$p" 2>/dev/null || return 1; done
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
_slurm_hooked=()

# slurm_idle N: every one of the N nodes is idle.
slurm_idle() {
	[ "$(sinfo -h -N -p debug -o '%N %T' 2>/dev/null | grep -c ' idle$')" -eq "$1" ]
}

slurm_no_jobs() { [ -z "$(squeue -h -t running,completing,suspended 2>/dev/null)" ]; }

# _stop_slurm: cancel every job (their slurmstepd would outlive slurmd),
# wait for them to end, then stop the daemons by PID.
_stop_slurm() {
	local p
	[ -n "${SLURM_CONF:-}" ] || return 0
	scancel --user="$(id -un)" >/dev/null 2>&1
	wait_until 10 slurm_no_jobs
	for p in "${_slurm_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_slurm_pids[@]}"; do
		wait_exit 5 "$p" || kill -9 "$p" 2>/dev/null
	done
	_slurm_pids=()
}
_slurm_pids=()

# start_k8s [server args...]: the Kubernetes API contract server
# (k8s_apiserver.py: no real API server can run here) on HTTPS, with a CA
# and a server certificate made here, a token for Coffer and an admin
# token for the test, state and pod logs in $T/k8s. Sets K8S_DIR,
# K8S_URL, K8S_CA, K8S_TOKEN_FILE, K8S_ADMIN (the admin token) and
# K8S_KUBECONFIG (YAML, as kubectl writes it). k8s_curl METHOD PATH [curl
# args]: a request with the admin token. Retries on a port race.
start_k8s() {
	local tries port
	K8S_DIR=$T/k8s
	mkdir -p "$K8S_DIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$K8S_DIR/ca.key" -out "$K8S_DIR/ca.crt" -days 2 \
		-subj /CN=coffer-test-ca >/dev/null 2>&1 || bail "openssl: CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$K8S_DIR/server.key" -out "$K8S_DIR/server.csr" \
		-subj /CN=kube-apiserver >/dev/null 2>&1 || bail "openssl: key"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$K8S_DIR/san.ext"
	openssl x509 -req -in "$K8S_DIR/server.csr" -CA "$K8S_DIR/ca.crt" \
		-CAkey "$K8S_DIR/ca.key" -CAcreateserial -days 2 \
		-extfile "$K8S_DIR/san.ext" -out "$K8S_DIR/server.crt" >/dev/null 2>&1 ||
		bail "openssl: server certificate"
	head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$K8S_DIR/token"
	head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$K8S_DIR/admin-token"
	chmod 600 "$K8S_DIR/token" "$K8S_DIR/admin-token"
	K8S_CA=$K8S_DIR/ca.crt
	K8S_TOKEN_FILE=$K8S_DIR/token
	K8S_ADMIN=$(cat "$K8S_DIR/admin-token")
	for tries in 1 2 3 4 5; do
		port=$(random_port) || bail "no free port"
		/usr/bin/python3 "$COFFER_SRC/tests/integration/k8s_apiserver.py" \
			--port "$port" --cert "$K8S_DIR/server.crt" \
			--key "$K8S_DIR/server.key" --token-file "$K8S_TOKEN_FILE" \
			--admin-token-file "$K8S_DIR/admin-token" --dir "$K8S_DIR" "$@" \
			>>"$K8S_DIR/server.log" 2>&1 &
		K8S_PID=$!
		track $K8S_PID
		K8S_URL=https://127.0.0.1:$port
		if wait_until 20 curl -sf --cacert "$K8S_CA" "$K8S_URL/healthz"; then
			break
		fi
		kill -9 $K8S_PID 2>/dev/null
		K8S_URL=
	done
	[ -n "$K8S_URL" ] || bail "the Kubernetes contract server did not start (see $K8S_DIR/server.log)"
	K8S_KUBECONFIG=$K8S_DIR/kubeconfig
	cat >"$K8S_KUBECONFIG" <<KC
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 <"$K8S_CA")
    server: $K8S_URL
  name: coffer-test
contexts:
- context:
    cluster: coffer-test
    namespace: coffer
    user: coffer-manager
  name: coffer-test
current-context: coffer-test
kind: Config
preferences: {}
users:
- name: coffer-manager
  user:
    token: $(cat "$K8S_TOKEN_FILE")
KC
	chmod 600 "$K8S_KUBECONFIG"
}

k8s_curl() {
	local m=$1 p=$2
	shift 2
	curl -s --cacert "$K8S_CA" -H "Authorization: Bearer $K8S_ADMIN" -X "$m" \
		"$@" "$K8S_URL$p"
}

# start_prometheus TARGET TOKEN: a real Prometheus scraping TARGET
# (host:port) every second with the bearer TOKEN, data in $T/prom; waits
# until it is ready (its first scrape comes a few seconds later). Sets
# PROM_URL. Retries on another port if it does not come up.
start_prometheus() {
	local target=$1 token=$2 port pid
	mkdir -p "$T/prom"
	cat > "$T/prom/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: coffer
    authorization: {type: Bearer, credentials: "$token"}
    static_configs: [{targets: ['$target']}]
YAML
	for _ in 1 2 3; do
		port=$(random_port) || bail "no free port"
		prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
			--web.listen-address="127.0.0.1:$port" >>"$T/prom/log" 2>&1 &
		pid=$!
		track $pid
		if wait_until 30 curl -sf "http://127.0.0.1:$port/-/ready"; then
			PROM_URL=http://127.0.0.1:$port
			return 0
		fi
		kill -9 $pid 2>/dev/null
	done
	bail "prometheus did not start (see $T/prom/log)"
}

# prom_query EXPR: Prometheus's JSON answer to an instant query.
prom_query() { curl -s "$PROM_URL/api/v1/query" --data-urlencode "query=$1"; }

# coffer_up_env: a private home ($T/home) and runtime directory for
# `coffer up` and `coffer job`, none of the caller's COFFER_URL/TOKEN. Sets
# STATE (coffer up's state file) and DATA (its data directory).
coffer_up_env() {
	export HOME=$T/home XDG_RUNTIME_DIR=$T/run
	unset XDG_DATA_HOME COFFER_URL COFFER_TOKEN
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	STATE=$XDG_RUNTIME_DIR/coffer/up.json
	DATA=$HOME/.local/share/coffer/up
}

# start_coffer_up [args...]: `coffer up` in coffer_up_env; waits for its
# state file and its banner. Sets STATE, DATA and UP (its PID).
start_coffer_up() {
	coffer_up_env
	coffer up "$@" > "$T/up.out" 2>&1 &
	UP=$!
	track $UP
	wait_until 30 test -s "$STATE" || { sed 's/^/# /' "$T/up.out"; bail "coffer up did not come up"; }
	# The state file is written before the banner is printed.
	wait_until 10 grep -q "Press Ctrl-C" "$T/up.out"
}
