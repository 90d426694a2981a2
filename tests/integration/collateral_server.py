#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback HTTPS server laid out like Intel PCS v4, a PCCS and AMD KDS,
serving recorded collateral (tests/vectors/attestation), for
tests/integration/collateral_fetch.sh. Standard library only.

  collateral_server.py build --out SITE.json [--intel QVL.json --tee sgx|tdx
      --fmspc HEX --ca processor|platform [--pccs]] [--file PATH=FILE]...
      [--before PREFIX=STATUS[:RETRY_AFTER]]... [--drop PREFIX]...
      [--tamper PREFIX]... [--chain PREFIX=PEMFILE]... [--sleep PREFIX=SECONDS]...
  collateral_server.py serve --site SITE.json --cert PEM --key PEM
      --port-file FILE --log FILE

A site maps "path?query" (exactly as the client sends it) to an answer:
status, headers, body (hex), and "before": answers given, in order, to the
first requests (429 with Retry-After, 503, ...). PREFIX selects routes by
the start of their key. Every request is logged as "GET <key> <status>".
"""
import argparse
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse


def quote_chain(pem):
    # Intel sends the issuer chain URL-encoded (every reserved byte %XX).
    return urllib.parse.quote(pem, safe="")


def intel_routes(qvl, tee, fmspc, ca, pccs):
    """PCS v4 (or PCCS) answers rebuilt from a dcap-qvl collateral file:
    the signed JSON texts exactly as Intel signed them."""
    d = json.load(open(qvl))
    tcb = '{"tcbInfo":%s,"signature":"%s"}' % (d["tcb_info"], d["tcb_info_signature"])
    qe = '{"enclaveIdentity":%s,"signature":"%s"}' % (
        d["qe_identity"], d["qe_identity_signature"])
    tcb_hdr = "SGX-TCB-Info-Issuer-Chain" if pccs else "TCB-Info-Issuer-Chain"
    r = {}
    r["/%s/certification/v4/tcb?fmspc=%s" % (tee, fmspc.upper())] = {
        "headers": {tcb_hdr: quote_chain(d["tcb_info_issuer_chain"]),
                    "Content-Type": "application/json"},
        "body": tcb.encode().hex()}
    r["/%s/certification/v4/qe/identity" % tee] = {
        "headers": {"SGX-Enclave-Identity-Issuer-Chain":
                    quote_chain(d["qe_identity_issuer_chain"]),
                    "Content-Type": "application/json"},
        "body": qe.encode().hex()}
    pck = "/sgx/certification/v4/pckcrl?ca=%s" % ca + ("" if pccs else "&encoding=der")
    r[pck] = {
        "headers": {"SGX-PCK-CRL-Issuer-Chain": quote_chain(d["pck_crl_issuer_chain"]),
                    "Content-Type": "application/pkix-crl"},
        "body": d["pck_crl"]}
    if pccs:
        # PCCS answers the root CA CRL as hex text.
        r["/sgx/certification/v4/rootcacrl"] = {
            "headers": {"Content-Type": "text/plain"},
            "body": d["root_ca_crl"].encode().hex()}
    else:
        r["/IntelSGXRootCA.der"] = {
            "headers": {"Content-Type": "application/pkix-crl"},
            "body": d["root_ca_crl"]}
    return r


def select(routes, prefix):
    keys = [k for k in routes if k.startswith(prefix)]
    if not keys:
        sys.exit("no route starts with %s" % prefix)
    return keys


def tamper(route):
    """Change one hex digit of the signature of a signed JSON body, or one
    byte near the end of a DER body (inside the signature)."""
    body = bytearray(bytes.fromhex(route["body"]))
    i = body.find(b'"signature":"')
    if i >= 0:
        j = i + len(b'"signature":"') + 10
        body[j] = ord("1") if body[j] != ord("1") else ord("2")
    else:
        body[-5] ^= 0x01
    route["body"] = bytes(body).hex()


def build(a):
    routes = {}
    if a.intel:
        routes.update(intel_routes(a.intel, a.tee, a.fmspc, a.ca, a.pccs))
    for spec in a.file:
        path, f = spec.rsplit("=", 1)
        routes[path] = {"headers": {"Content-Type": "application/octet-stream"},
                        "body": open(f, "rb").read().hex()}
    for spec in a.before:
        prefix, what = spec.split("=", 1)
        status, _, retry = what.partition(":")
        for k in select(routes, prefix):
            hdr = {"Retry-After": retry} if retry else {}
            routes[k].setdefault("before", []).append(
                {"status": int(status), "headers": hdr})
    for prefix in a.drop:
        for k in select(routes, prefix):
            del routes[k]
    for prefix in a.tamper:
        for k in select(routes, prefix):
            tamper(routes[k])
    for spec in a.chain:
        prefix, f = spec.split("=", 1)
        for k in select(routes, prefix):
            for h in routes[k]["headers"]:
                if h.endswith("Issuer-Chain"):
                    routes[k]["headers"][h] = quote_chain(open(f).read())
    for spec in a.sleep:
        prefix, secs = spec.split("=", 1)
        for k in select(routes, prefix):
            routes[k]["sleep"] = float(secs)
    json.dump({"routes": routes}, open(a.out, "w"), indent=1, sort_keys=True)


class Handler(http.server.BaseHTTPRequestHandler):
    site = {}
    lock = threading.Lock()
    log = None

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        key = self.path
        with Handler.lock:
            route = Handler.site.get(key)
            step = None
            if route is not None and route.get("before"):
                step = route["before"].pop(0)
            status = step["status"] if step else (200 if route else 404)
            Handler.log.write("GET %s %d\n" % (key, status))
            Handler.log.flush()
        if route is None:
            self.answer(404, {"Error-Code": "NotFound",
                              "Error-Message": "No such resource"}, b"")
        elif step is not None:
            self.answer(step["status"], step.get("headers", {}), b"")
        else:
            if route.get("sleep"):
                time.sleep(route["sleep"])
            try:
                self.answer(200, route.get("headers", {}), bytes.fromhex(route["body"]))
            except (BrokenPipeError, ConnectionResetError):
                pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(a):
    Handler.site = json.load(open(a.site))["routes"]
    Handler.log = open(a.log, "a")
    srv = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--intel")
    b.add_argument("--tee", default="sgx")
    b.add_argument("--fmspc")
    b.add_argument("--ca", default="processor")
    b.add_argument("--pccs", action="store_true")
    b.add_argument("--file", action="append", default=[])
    b.add_argument("--before", action="append", default=[])
    b.add_argument("--drop", action="append", default=[])
    b.add_argument("--tamper", action="append", default=[])
    b.add_argument("--chain", action="append", default=[])
    b.add_argument("--sleep", action="append", default=[])
    s = sub.add_parser("serve")
    s.add_argument("--site", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    a = p.parse_args()
    build(a) if a.cmd == "build" else serve(a)


if __name__ == "__main__":
    main()
