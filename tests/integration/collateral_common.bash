# SPDX-License-Identifier: Apache-2.0
# Helpers for the collateral tests (collateral_fetch.sh,
# coordinator_collateral.sh), sourced after lib.sh. Not a test itself.
#
#   collateral_ca             make a test CA ($T/ca.pem) and a certificate for
#                             127.0.0.1 signed by it ($T/srv.pem, $T/srv.key)
#   serve NAME BUILD-ARGS...  build a site with collateral_server.py (its
#                             `build` options) and serve it over HTTPS on a
#                             free loopback port; sets URL and LOG
#   count PREFIX              the requests LOG has for paths starting so
#   run CMD...                CMD's output in $out, its exit status in $rc
#   has TEXT                  $out contains TEXT
#   show                      the end of $out as TAP comments

V=$COFFER_SRC/tests/vectors/attestation
SRV=$COFFER_SRC/tests/integration/collateral_server.py
PY=/usr/bin/python3

collateral_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/ca.key" -out "$T/ca.pem" -subj "/CN=coffer test CA" -days 2 \
		>/dev/null 2>&1 || bail "openssl req (CA)"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/srv.key" -out "$T/srv.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1 ||
		bail "openssl req (server)"
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$T/ext"
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -out "$T/srv.pem" -days 2 -extfile "$T/ext" >/dev/null 2>&1 ||
		bail "openssl x509 (server)"
}

serve() {
	local name=$1
	shift
	$PY "$SRV" build --out "$T/$name.json" "$@" || bail "site $name"
	serve_site "$name"
}

# serve_site NAME: serve $T/NAME.json as it is.
serve_site() {
	local name=$1
	LOG=$T/$name.log
	: >"$LOG"
	rm -f "$T/$name.port"
	$PY "$SRV" serve --site "$T/$name.json" --cert "$T/srv.pem" --key "$T/srv.key" \
		--port-file "$T/$name.port" --log "$LOG" 2>"$T/$name.err" &
	track $!
	wait_until 10 test -s "$T/$name.port" || bail "server $name did not start"
	URL=https://127.0.0.1:$(cat "$T/$name.port")
}

count() { grep -c "^GET $1" "$LOG"; }

run() { out=$("$@" 2>&1); rc=$?; }
has() { grep -qF -- "$1" <<<"$out"; }
show() { printf '%s\n' "$out" | sed 's/^/# /' | tail -n 20; }
