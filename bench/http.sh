#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The HTTP server against the goals of doc/http.md, next to the two
# alternatives it was chosen over: libevent's evhttp (the server before,
# from a coffer-manager binary given as EVHTTP_MANAGER, e.g. one built
# from commit b1f6f1d) and Debian's libmicrohttpd (bench/http/mhd_server.c,
# built here when libmicrohttpd-dev is installed). Same misbehaving
# clients for each (tests/integration/http_probe.py). Prints a Markdown
# table: peak RSS growth under 50 unauthenticated 8 MiB bodies, idle
# connections kept out of 300, when a trickled head and body are cut, and
# keep-alive GETs per second on one connection.
set -u
. "$(dirname "$0")/../tests/integration/lib.sh"
P=$COFFER_SRC/tests/integration/http_probe.py
py() { /usr/bin/python3 "$P" "$@"; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

measure() { # name pid port token
	local name=$1 pid=$2 port=$3 tok=$4 before after b idle th tb rps
	before=$(hwm "$pid")
	b=$(py bodies 127.0.0.1 "$port" 50 $((8 << 20)) | cut -d' ' -f1)
	after=$(hwm "$pid")
	idle=$(py idle 127.0.0.1 "$port" 300 | cut -d' ' -f1)
	sleep 1.5
	th=$(py trickle-head 127.0.0.1 "$port")
	tb=$(py trickle-body 127.0.0.1 "$port" "$tok")
	rps=$(py seq 127.0.0.1 "$port" 2000 | cut -d= -f2)
	kill -0 "$pid" 2>/dev/null && alive=yes || alive=NO
	printf '| %s | +%d MB (%s) | %s | %s | %s | %s | %s |\n' "$name" \
		$(((after - before) / 1024)) "$b" "$idle" "$th" "$tb" "$rps" "$alive"
}

echo "| server | peak RSS, 50 x 8 MiB unauthenticated | idle of 300 | trickled head | trickled body | GET/s keep-alive | alive |"
echo "|---|---|---|---|---|---|---|"
start_redis
mkdir -p "$T/store"
for which in evhttp coffer; do
	bin=$COFFER_BUILD/bin/coffer-manager
	extra=(--max-connections 40 --max-connections-per-client 10
		--header-timeout-ms 1000 --body-timeout-ms 1500)
	if [ $which = evhttp ]; then
		[ -x "${EVHTTP_MANAGER:-}" ] || { echo "| evhttp | (set EVHTTP_MANAGER) |"; continue; }
		bin=$EVHTTP_MANAGER
		extra=()
	fi
	tok=$("$bin" token create --db "$T/$which.db")
	"$bin" serve --db "$T/$which.db" --listen 127.0.0.1:0 --ready-file "$T/$which.url" \
		--redis "$REDIS_URL" --store "$T/store" "${extra[@]}" > "$T/$which.log" 2>&1 &
	pid=$!
	track $pid
	wait_until 20 test -s "$T/$which.url"
	url=$(cat "$T/$which.url")
	measure "$which" "$pid" "${url##*:}" "$tok"
	kill $pid
done
if pkg-config --exists libmicrohttpd; then
	cc -O2 -o "$T/mhd" "$COFFER_SRC/bench/http/mhd_server.c" $(pkg-config --cflags --libs libmicrohttpd)
	port=$(random_port)
	"$T/mhd" "$port" > "$T/mhd.log" 2>&1 &
	pid=$!
	track $pid
	wait_until 10 curl -sf "http://127.0.0.1:$port/healthz"
	measure "libmicrohttpd 0.9.75" "$pid" "$port" cft_bench
else
	echo "| libmicrohttpd | (libmicrohttpd-dev not installed) |"
fi
