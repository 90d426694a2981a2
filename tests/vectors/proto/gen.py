#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Test vectors for Coffer's coordinator family of formats, made by an
implementation independent of Coffer's C code, written from the specs:

  doc/format/policy.md, doc/protocol/key-release.md, doc/format/audit-log.md,
  doc/format/item-proof.md, doc/format/receipt.md

It uses only Python's standard library and Debian's python3-cryptography
(Ed25519, X25519, AES-256-GCM); JCS (RFC 8785), HKDF (RFC 5869), HPKE
(RFC 9180), RFC 9162 Merkle trees and every Coffer construction are written
out here. Run with Debian's Python:

    /usr/bin/python3 tests/vectors/proto/gen.py

It rewrites policy.json, keyrelease.json, standby.json, auditlog.json,
itemproof.json and receipt.json in this directory; with --corpus it also rewrites the
seed corpora of the src/proto fuzz targets (tests/fuzz/corpus/); with
--out DIR it writes the vector files to DIR instead (what
tests/integration/proto_vectors.sh does to check that the committed
vectors are exactly what this program makes). Everything is deterministic (fixed
seeds, fixed ephemeral keys and nonces), so a re-run gives the same bytes.
"""
import base64
import copy
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------
# Small helpers

def sha256(b):
    return hashlib.sha256(b).digest()


def sha512(b):
    return hashlib.sha512(b).digest()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def seed(name, n=32):
    """Deterministic test bytes named by a string."""
    out = b""
    i = 0
    while len(out) < n:
        out += sha256(b"coffer-test-vector/" + name.encode() + bytes([i]))
        i += 1
    return out[:n]


def raw(pub):
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed_pub(sk):
    return raw(Ed25519PrivateKey.from_private_bytes(sk).public_key())


def x_pub(sk):
    return raw(X25519PrivateKey.from_private_bytes(sk).public_key())


def x_dh(sk, pk):
    return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))


# ---------------------------------------------------------------------------
# RFC 8785 JCS for the values these formats use: objects, arrays, strings,
# integers within +-2^53, booleans and null (no fractions: the formats
# forbid them).

def jcs_string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\b':
            out.append('\\b')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\f':
            out.append('\\f')
        elif ch == '\r':
            out.append('\\r')
        elif c < 0x20:
            out.append('\\u%04x' % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def utf16_key(s):
    return s.encode("utf-16-be")


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        assert -(2 ** 53) <= v <= 2 ** 53
        return str(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v.keys(), key=utf16_key)
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError(type(v))


def jcsb(v):
    return jcs(v).encode("utf-8")


# ---------------------------------------------------------------------------
# HKDF (RFC 5869) and HPKE (RFC 9180): DHKEM(X25519, HKDF-SHA256),
# HKDF-SHA256, AES-256-GCM; base and auth modes, single shot.

def hkdf_extract(salt, ikm):
    if not salt:
        salt = bytes(32)
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


KEM_SUITE = b"KEM" + struct.pack(">H", 0x0020)


def hpke_suite(aead_id):
    return b"HPKE" + struct.pack(">HHH", 0x0020, 0x0001, aead_id)


def labeled_extract(salt, label, ikm, suite):
    return hkdf_extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(prk, label, info, n, suite):
    return hkdf_expand(prk, struct.pack(">H", n) + b"HPKE-v1" + suite + label + info, n)


def kem_shared(dh, kem_context):
    prk = labeled_extract(b"", b"eae_prk", dh, KEM_SUITE)
    return labeled_expand(prk, b"shared_secret", kem_context, 32, KEM_SUITE)


def hpke_key_schedule(mode, shared, info, aead_id):
    suite = hpke_suite(aead_id)
    nk = {1: 16, 2: 32}[aead_id]
    psk_id_hash = labeled_extract(b"", b"psk_id_hash", b"", suite)
    info_hash = labeled_extract(b"", b"info_hash", info, suite)
    ctx = bytes([mode]) + psk_id_hash + info_hash
    secret = labeled_extract(shared, b"secret", b"", suite)
    return (labeled_expand(secret, b"key", ctx, nk, suite),
            labeled_expand(secret, b"base_nonce", ctx, 12, suite))


def hpke_seal(pkR, skE, skS, info, aad, pt, aead_id=2):
    """Single-shot seal; skS None = base mode, else auth mode."""
    pkE = x_pub(skE)
    if skS is None:
        dh = x_dh(skE, pkR)
        ctx = pkE + pkR
        mode = 0
    else:
        dh = x_dh(skE, pkR) + x_dh(skS, pkR)
        ctx = pkE + pkR + x_pub(skS)
        mode = 2
    shared = kem_shared(dh, ctx)
    key, nonce = hpke_key_schedule(mode, shared, info, aead_id)
    return pkE, AESGCM(key).encrypt(nonce, pt, aad)


def hpke_selftest():
    """The generator's HPKE against RFC 9180's own vectors (modes 0 and 2)."""
    path = os.path.join(HERE, "..", "crypto", "hpke", "rfc9180_x25519_sha256.json")
    cases = json.load(open(path))
    n = 0
    for c in cases:
        if c["mode"] not in (0, 2) or c["aead_id"] not in (1, 2):
            continue
        skE = bytes.fromhex(c["skEm"])
        pkR = bytes.fromhex(c["pkRm"])
        skS = bytes.fromhex(c["skSm"]) if c["mode"] == 2 else None
        e = c["encryptions"][0]
        enc, ct = hpke_seal(pkR, skE, skS, bytes.fromhex(c["info"]),
                            bytes.fromhex(e["aad"]), bytes.fromhex(e["pt"]), c["aead_id"])
        assert enc.hex() == c["enc"], "HPKE enc"
        assert ct.hex() == e["ct"], "HPKE ct mode %d aead %d" % (c["mode"], c["aead_id"])
        n += 1
    assert n == 4, n


# doc/format/wrap.md
def wrap(pkR, skS, info, aad, secret, skE):
    mode = 2 if skS is not None else 0
    header = b"CFWK" + bytes([1, mode]) + struct.pack(">HHH", 0x0020, 0x0001, 0x0002)
    enc, ct = hpke_seal(pkR, skE, skS, b"coffer/v1/wrap\x00" + info, header + aad, secret)
    return header + enc + ct


# doc/crypto.md, "Box"
def box_seal(key, nonce, aad, msg):
    return nonce + AESGCM(key).encrypt(nonce, msg, aad)


# ---------------------------------------------------------------------------
# Identities and keys (doc/format/identity.md)

class Identity:
    def __init__(self, name, tag=None):
        self.name = name
        self.ed_sk = seed("ed25519/" + (tag or name))
        self.x_sk = seed("x25519/" + (tag or name))
        self.ed_pk = ed_pub(self.ed_sk)
        self.x_pk = x_pub(self.x_sk)
        keys = b64url(self.ed_pk + self.x_pk)
        body = "coffer-id1:%s:%s" % (keys, name)
        self.line = body + ":" + b64url(sha256(body.encode())[:6])
        self.fp = sha256(self.ed_pk + self.x_pk).hex()

    def sign(self, label, msg):
        m = b"coffer-sig-v1\x00" + label.encode() + b"\x00" + msg
        return Ed25519PrivateKey.from_private_bytes(self.ed_sk).sign(m)

    def secrets(self):
        return {"name": self.name, "ed25519_seed": self.ed_sk.hex(),
                "x25519_secret": self.x_sk.hex(), "line": self.line,
                "fingerprint": self.fp}


def key_id(key):
    return hkdf_expand(hkdf_extract(b"", key), b"coffer/v1/key-id", 16)


# doc/format/policy.md section 2.2
LABELS = {
    "coffer-approval": "coffer/approval/v1",
    "coffer-revocation": "coffer/revocation/v1",
    "coffer-key-upload": "coffer/key-upload/v1",
    "coffer-tree-head": "coffer/tree-head/v1",
    "coffer-receipt": "coffer/receipt/v1",
}


def envelope(ident, statement, label=None):
    label = label or LABELS[statement["type"]]
    sig = ident.sign(label, jcsb(statement))
    return {"signature": sig.hex(), "statement": statement}


# ---------------------------------------------------------------------------
# RFC 9162 Merkle trees (doc/format/audit-log.md sections 2 and 5)

EMPTY = sha256(b"")


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(l, r):
    return sha256(b"\x01" + l + r)


def split_point(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """leaves: list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return EMPTY
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    n = len(leaves)
    if n <= 1:
        return []
    k = split_point(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = split_point(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency(m, leaves):
    return subproof(m, leaves, True)


def verify_inclusion(leaf, index, size, p, root):
    """Returns None if it verifies, else the failing rule name."""
    if len(p) > 64:
        return "N1"
    if index >= size:
        return "N2"
    fn, sn, r = index, size - 1, leaf
    for h in p:
        if sn == 0:
            return "N3"
        if fn & 1 or fn == sn:
            r = node_hash(h, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, h)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        return "N4"
    return None


def verify_consistency(first, second, h1, h2, p):
    if len(p) > 65 or first > second:
        return "Q1"
    if first == second:
        if p:
            return "Q2"
        return None if h1 == h2 else "Q2"
    if first == 0:
        return None if not p else "Q3"
    if not p:
        return "Q4"
    p = list(p)
    if first & (first - 1) == 0:
        p = [h1] + p
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0:
            return "Q5"
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if fr != h1 or sr != h2 or sn != 0:
        return "Q6"
    return None


# ---------------------------------------------------------------------------
# The vector world: identities, keys, the policy

OWNERS = [Identity("hospital-a"), Identity("hospital-b"), Identity("hospital-c")]
ANALYST = Identity("analyst")
STRANGER = Identity("stranger")  # in no policy of the vectors but these
COORD = Identity("coordinator")
OTHER_COORD = Identity("coordinator", tag="other-coordinator")  # same name, other keys

DATA_KEYS = {d: seed("data-key/" + d) for d in
             ("a-wdbc", "a-dicom", "b-wdbc", "c-wdbc", "c-dicom")}
SIM_MEAS = seed("sim-measurement", 48).hex()
SGX_MEAS = seed("sgx-mrenclave", 32).hex()
TDX_MEAS = seed("tdx-mrtd-rtmrs", 240).hex()
SNP_MEAS = seed("snp-measurement", 48).hex()


def objects(ds, n):
    return [{"key": "%s/part-%d.sealed" % (ds, i),
             "digest": "sha256:" + seed("sealed/%s/%d" % (ds, i)).hex()} for i in range(n)]


def base_policy():
    return {
        "type": "coffer-policy",
        "version": 1,
        "name": "wdbc-pooled-2026",
        "coordinator": COORD.line,
        "expires": 1830297600,
        "owners": [
            {"id": OWNERS[0].line, "datasets": [
                {"name": "a-wdbc", "key_id": key_id(DATA_KEYS["a-wdbc"]).hex(), "objects": objects("a-wdbc", 3)},
                {"name": "a-dicom", "key_id": key_id(DATA_KEYS["a-dicom"]).hex(), "objects": objects("a-dicom", 2)}]},
            {"id": OWNERS[1].line, "datasets": [
                {"name": "b-wdbc", "key_id": key_id(DATA_KEYS["b-wdbc"]).hex(), "objects": objects("b-wdbc", 2)}]},
            {"id": OWNERS[2].line, "datasets": [
                {"name": "c-dicom", "key_id": key_id(DATA_KEYS["c-dicom"]).hex(), "objects": objects("c-dicom", 1)},
                {"name": "c-wdbc", "key_id": key_id(DATA_KEYS["c-wdbc"]).hex(), "objects": objects("c-wdbc", 2)}]},
        ],
        "apps": [
            {"name": "pooled-stats", "sha256": seed("app/pooled-stats").hex(),
             "datasets": ["c-wdbc", "a-wdbc", "b-wdbc"], "reduce": True,
             "measurements": [{"tee": "sgx", "value": SGX_MEAS}, {"tee": "sim", "value": SIM_MEAS}],
             "params": {"columns": ["radius_mean,texture_mean"], "alpha": ["0.05", "0.01"],
                        "label": ["\u00c9tude \"WDBC\"\t\u2028\u00e9\u0001"]}},
            {"name": "dicom-deid", "sha256": seed("app/dicom-deid").hex(),
             "datasets": ["a-dicom", "c-dicom"], "reduce": False,
             "measurements": [{"tee": "tdx", "value": TDX_MEAS}, {"tee": "sev-snp", "value": SNP_MEAS}],
             "params": {}},
        ],
        "verification": {"version": 1, "allow_debug": False,
                         "intel": {"tcb_statuses": ["UpToDate", "SWHardeningNeeded"]},
                         "sim_platform_keys": [seed("sim-platform-key").hex()]},
        "recipients": [ANALYST.line],
        "limits": {"min_owners": 2, "min_rows_per_owner": 10},
        "tolerance": {"fail_after": 2, "max_failed": 0, "max_abandoned": 0},
        "update": {"k": 2, "fields": ["apps", "expires"]},
    }


def policy_hash(p):
    return sha256(b"coffer/policy/v1\x00" + jcsb(p))


def items_of(p, app_name):
    """doc/format/policy.md section 6."""
    app = [a for a in p["apps"] if a["name"] == app_name][0]
    out = []
    for oi, o in enumerate(p["owners"]):
        for d in o["datasets"]:
            if d["name"] not in app["datasets"]:
                continue
            for ob in d["objects"]:
                out.append({"index": len(out), "key": ob["key"], "digest": ob["digest"],
                            "owner": oi, "dataset": d["name"]})
    return out


def pretty(v):
    """A non-canonical rendering: indented, members in an odd order."""
    def shuffle(x):
        if isinstance(x, dict):
            ks = sorted(x.keys(), key=lambda k: (len(k), k), reverse=True)
            return {k: shuffle(x[k]) for k in ks}
        if isinstance(x, list):
            return [shuffle(e) for e in x]
        return x
    return json.dumps(shuffle(v), indent=2, ensure_ascii=True)


# ---------------------------------------------------------------------------
# policy.json

def gen_policy():
    p = base_policy()
    h = policy_hash(p)
    out = {
        "identities": [o.secrets() for o in OWNERS] + [ANALYST.secrets(), COORD.secrets()],
        "policy": {"text": pretty(p), "jcs": jcs(p), "hash": h.hex(),
                   "items": {a["name"]: items_of(p, a["name"]) for a in p["apps"]}},
    }

    # One policy per rule P2 to P17, each breaking only that rule.
    inv = []

    def bad(rule, err, mutate, note):
        q = copy.deepcopy(p)
        mutate(q)
        inv.append({"rule": rule, "error": err, "note": note, "text": json.dumps(q)})

    def set_(path, value):
        def f(q):
            t = q
            for k in path[:-1]:
                t = t[k]
            t[path[-1]] = value
        return f

    def del_(path):
        def f(q):
            t = q
            for k in path[:-1]:
                t = t[k]
            del t[path[-1]]
        return f

    inv.append({"rule": "P1", "error": "format", "note": "not JSON", "text": "{\"type\": \"coffer-policy\","})
    inv.append({"rule": "P1", "error": "format", "note": "duplicate member",
                "text": json.dumps(p)[:-1] + ", \"name\": \"x\"}"})
    inv.append({"rule": "P1", "error": "limit", "note": "over 1 MiB", "pad_to": 1048577,
                "text": json.dumps(p)})
    bad("P2", "format", lambda q: q.update({"extra": 1}), "unknown member")
    bad("P2", "format", del_(["recipients"]), "missing member")
    inv.append({"rule": "P2", "error": "format", "note": "not an object", "text": "[1, 2]"})
    bad("P3", "format", set_(["type"], "coffer-policies"), "type")
    bad("P3", "version", set_(["version"], 2), "version 2")
    bad("P3", "format", set_(["version"], "1"), "version a string")
    bad("P4", "format", set_(["name"], "has space"), "name")
    bad("P4", "format", set_(["name"], ""), "empty name")
    bad("P4", "format", set_(["previous"], "ab" * 31), "previous too short")
    bad("P4", "format", set_(["previous"], "AB" * 32), "previous upper-case")
    bad("P4", "format", set_(["expires"], 0), "expires 0")
    bad("P4", "format", set_(["expires"], 2 ** 53), "expires 2^53")
    bad("P4", "format", set_(["expires"], 1.5), "expires not an integer")
    bad("P5", "format", set_(["coordinator"], COORD.line[:-1] + ("A" if COORD.line[-1] != "A" else "B")), "bad checksum")
    bad("P6", "format", set_(["owners"], []), "no owner")
    bad("P6", "format", lambda q: q["owners"].append(copy.deepcopy(q["owners"][0]) | {"datasets": []}), "same owner twice")
    bad("P6", "format", set_(["owners", 0, "id"], "coffer-id1:x:y:z"), "bad identity")
    bad("P6", "format", set_(["owners", 1, "extra"], True), "owner member")
    bad("P7", "format", set_(["owners", 1, "datasets", 0, "name"], "a-wdbc"), "dataset name twice")
    bad("P7", "format", set_(["owners", 1, "datasets", 0, "key_id"], key_id(DATA_KEYS["a-wdbc"]).hex()), "key id of two owners")
    bad("P7", "format", set_(["owners", 0, "datasets", 0, "key_id"], "00" * 15), "key id length")
    bad("P8", "format", set_(["owners", 0, "datasets", 0, "objects"], []), "no object")
    bad("P8", "format", set_(["owners", 1, "datasets", 0, "objects", 0, "key"], "a-wdbc/part-0.sealed"), "object key twice")
    bad("P8", "format", set_(["owners", 0, "datasets", 0, "objects", 0, "key"], "has space"), "object key with a space")
    bad("P8", "format", set_(["owners", 0, "datasets", 0, "objects", 0, "digest"], seed("x").hex()), "digest without sha256:")
    bad("P9", "format", set_(["apps", 1, "name"], "pooled-stats"), "app name twice")
    bad("P9", "format", set_(["apps", 0, "name"], "Pooled"), "app name upper-case")
    bad("P9", "format", set_(["apps", 0, "reduce"], 1), "reduce not a boolean")
    bad("P9", "format", set_(["apps"], []), "no app")
    bad("P10", "format", set_(["apps", 0, "datasets"], ["a-wdbc", "nope"]), "unknown dataset")
    bad("P10", "format", set_(["apps", 0, "datasets"], ["a-wdbc", "a-wdbc"]), "dataset twice")
    bad("P11", "format", set_(["apps", 0, "measurements", 0, "tee"], "sgx2"), "unknown tee")
    bad("P11", "format", set_(["apps", 0, "measurements", 0, "value"], SIM_MEAS), "sgx value of 48 bytes")
    bad("P11", "format", set_(["apps", 0, "measurements", 1], {"tee": "sgx", "value": SGX_MEAS}), "pair twice")
    bad("P12", "format", set_(["apps", 0, "params", "coffer.app_secret"], ["x"]), "reserved name")
    bad("P12", "format", set_(["apps", 0, "params", "alpha"], ["0.05", "0.05"]), "value twice")
    bad("P12", "format", set_(["apps", 0, "params", "alpha"], []), "no value")
    bad("P12", "format", set_(["apps", 0, "params", "alpha"], ["x" * 4097]), "value too long")
    bad("P13", "format", set_(["verification"], []), "verification not an object")
    bad("P13", "format", set_(["verification", "debug"], False), "verification: an unknown member")
    bad("P13", "version", set_(["verification", "version"], 2), "verification: version 2")
    bad("P13", "format", set_(["verification", "sim_platform_keys"], [seed("k").hex()] * 2),
        "verification: a sim key twice")
    bad("P1", "format", set_(["verification", "x"], 1e20), "a real in the verification object")
    bad("P14", "format", set_(["recipients"], [ANALYST.line, ANALYST.line]), "recipient twice")
    bad("P14", "format", set_(["recipients"], []), "no recipient")
    bad("P15", "format", set_(["limits", "Min"], 1), "limit name")
    bad("P15", "format", set_(["limits", "min_owners"], -1), "negative limit")
    bad("P16", "format", set_(["tolerance", "fail_after"], 17), "fail_after 17")
    bad("P16", "format", del_(["tolerance", "max_failed"]), "missing max_failed")
    bad("P17", "format", set_(["update", "k"], 4), "k above owners")
    bad("P17", "format", set_(["update", "fields"], ["owners"]), "owners not listable")
    bad("P17", "format", set_(["update", "fields"], ["apps", "apps"]), "field twice")
    out["invalid_policies"] = inv

    # Well-formed variants: optional members absent.
    q = copy.deepcopy(p)
    for k in ("limits", "tolerance", "update"):
        del q[k]
    q["previous"] = h.hex()
    out["minimal"] = {"text": json.dumps(q), "hash": policy_hash(q).hex(), "jcs": jcs(q)}

    # Approvals (section 7) and the A rules.
    now = 1800000000
    log0 = {"size": 0, "root": EMPTY.hex()}

    def approval(ident, ph=h, signer=None, log=log0, extra=None, version=1):
        st = {"type": "coffer-approval", "version": version, "policy": ph.hex() if isinstance(ph, bytes) else ph,
              "signer": signer or ident.fp, "log": log}
        if extra:
            st.update(extra)
        return envelope(ident, st)

    aps = []
    for i, o in enumerate(OWNERS):
        aps.append({"name": "valid " + o.name, "envelope": json.dumps(approval(o, log={"size": 7, "root": seed("root7").hex()})),
                    "now": now, "owner": i})
    e = approval(OWNERS[0])
    e["extra"] = 1
    aps.append({"name": "G1 extra envelope member", "envelope": json.dumps(e), "now": now, "rule": "A1", "error": "format"})
    e = approval(OWNERS[0])
    e["statement"]["type"] = "coffer-revocation"
    aps.append({"name": "G2 other statement type", "envelope": json.dumps(e), "now": now, "rule": "A1", "error": "format"})
    e = approval(OWNERS[0])
    e["signature"] = e["signature"][:-2]
    aps.append({"name": "G3 short signature", "envelope": json.dumps(e), "now": now, "rule": "A1", "error": "format"})
    txt = json.dumps(approval(OWNERS[0])).replace('"version": 1', '"version": 1.0')
    aps.append({"name": "G4 version 1.0", "envelope": txt, "now": now, "rule": "A1", "error": "format"})
    aps.append({"name": "A1 extra statement member", "envelope": json.dumps(approval(OWNERS[0], extra={"time": 1})),
                "now": now, "rule": "A1", "error": "format"})
    aps.append({"name": "A1 version 2", "envelope": json.dumps(approval(OWNERS[0], version=2)),
                "now": now, "rule": "A1", "error": "version"})
    aps.append({"name": "A1 log without root", "envelope": json.dumps(approval(OWNERS[0], log={"size": 0})),
                "now": now, "rule": "A1", "error": "format"})
    aps.append({"name": "A2 another policy hash", "envelope": json.dumps(approval(OWNERS[0], ph=policy_hash(q))),
                "now": now, "rule": "A2", "error": "policy"})
    aps.append({"name": "A3 not an owner", "envelope": json.dumps(approval(ANALYST)),
                "now": now, "rule": "A3", "error": "untrusted"})
    forged = approval(OWNERS[1], signer=OWNERS[0].fp)
    aps.append({"name": "A4 signed by another owner", "envelope": json.dumps(forged),
                "now": now, "rule": "A4", "error": "signature"})
    e = approval(OWNERS[0])
    sig = bytearray(bytes.fromhex(e["signature"]))
    sig[5] ^= 1
    e["signature"] = sig.hex()
    aps.append({"name": "A4 flipped bit", "envelope": json.dumps(e), "now": now, "rule": "A4", "error": "signature"})
    e = approval(OWNERS[0])
    e["statement"]["log"]["size"] = 1
    aps.append({"name": "A4 statement changed after signing", "envelope": json.dumps(e), "now": now,
                "rule": "A4", "error": "signature"})
    aps.append({"name": "A5 expired", "envelope": json.dumps(approval(OWNERS[0])), "now": p["expires"],
                "rule": "A5", "error": "expired"})
    out["approvals"] = aps

    # Revocations (section 8) and the V rules.
    def revocation(ident, what="approval", ph=h, tee=None, meas=None, signer=None, extra=None):
        st = {"type": "coffer-revocation", "version": 1, "policy": ph.hex(), "signer": signer or ident.fp,
              "what": what}
        if tee is not None:
            st["tee"] = tee
        if meas is not None:
            st["measurement"] = meas
        if extra:
            st.update(extra)
        return envelope(ident, st)

    rvs = [
        {"name": "valid approval", "envelope": json.dumps(revocation(OWNERS[1])), "owner": 1, "what": "approval"},
        {"name": "valid measurement", "envelope": json.dumps(revocation(OWNERS[2], "measurement", tee="sim", meas=SIM_MEAS)),
         "owner": 2, "what": "measurement", "tee": "sim", "measurement": SIM_MEAS},
        {"name": "RK1 measurement without tee", "envelope": json.dumps(revocation(OWNERS[2], "measurement", meas=SIM_MEAS)),
         "rule": "RK1", "error": "format"},
        {"name": "RK1 approval with a tee", "envelope": json.dumps(revocation(OWNERS[2], tee="sim")),
         "rule": "RK1", "error": "format"},
        {"name": "RK1 unknown what", "envelope": json.dumps(revocation(OWNERS[2], what="everything")),
         "rule": "RK1", "error": "format"},
        {"name": "RK2 another policy", "envelope": json.dumps(revocation(OWNERS[0], ph=policy_hash(q))),
         "rule": "RK2", "error": "policy"},
        {"name": "RK3 not an owner", "envelope": json.dumps(revocation(ANALYST)), "rule": "RK3", "error": "untrusted"},
        {"name": "RK4 forged", "envelope": json.dumps(revocation(OWNERS[1], signer=OWNERS[0].fp)),
         "rule": "RK4", "error": "signature"},
        {"name": "RK5 unknown measurement", "envelope": json.dumps(revocation(OWNERS[0], "measurement", tee="sgx", meas=SIM_MEAS[:64])),
         "rule": "RK5", "error": "policy"},
    ]
    out["revocations"] = rvs

    # Status and the update rule (section 10).
    v1 = copy.deepcopy(p)
    v1["previous"] = h.hex()
    v1["expires"] = p["expires"] + 86400
    v1["apps"][0]["params"]["alpha"] = ["0.05"]
    v1_recip = copy.deepcopy(v1)
    v1_recip["recipients"] = [ANALYST.line, OWNERS[0].line]
    v1_owners = copy.deepcopy(v1)
    v1_owners["owners"][0]["datasets"][0]["objects"] = objects("a-wdbc", 2)
    v1_update = copy.deepcopy(v1)
    v1_update["update"]["k"] = 1
    v1_other_prev = copy.deepcopy(v1)
    v1_other_prev["previous"] = policy_hash(q).hex()
    # Section 9.1: a version keeps every owner of its predecessor.
    v1_drop = copy.deepcopy(v1)
    v1_drop["owners"][2]["id"] = STRANGER.line
    v1_stranger = copy.deepcopy(v1)
    v1_stranger["owners"] = [{"id": STRANGER.line,
                              "datasets": [d for o in v1["owners"] for d in o["datasets"]]}]
    v1_stranger["update"]["k"] = 1
    v1_add = copy.deepcopy(v1)
    v1_add["owners"].append({"id": STRANGER.line, "datasets": []})
    st = []

    def case(name, policy, approved, revoked, expect, prev=None, prev_approved=False, reason=None, field=None,
             changed=None):
        c = {"name": name, "policy": jcs(policy), "approved": approved, "revoked": revoked,
             "expect": expect}
        if prev is not None:
            c["prev"] = jcs(prev)
            c["prev_approved"] = prev_approved
        if reason:
            c["reason"] = reason
        if field:
            c["field"] = field
        if changed is not None:
            c["changed"] = changed
        st.append(c)

    case("S2 all three approve", p, [0, 1, 2], [], "approved-all")
    case("S4 two of three", p, [0, 2], [], "pending", reason="policy.unapproved")
    case("S1 approved then one revokes", p, [0, 1, 2], [1], "revoked", reason="policy.revoked")
    case("S3 k of n on listed fields", v1, [0, 2], [], "approved-k-of-n", prev=p, prev_approved=True,
         changed=["apps", "expires"])
    case("S3 all approve the new version", v1, [0, 1, 2], [], "approved-all", prev=p, prev_approved=False,
         changed=["apps", "expires"])
    case("S3 too few distinct signers", v1, [2], [], "pending", prev=p, prev_approved=True,
         reason="policy.unapproved", changed=["apps", "expires"])
    case("S3 unlisted field", v1_recip, [0, 1], [], "pending", prev=p, prev_approved=True,
         reason="update.field_not_listed", field="recipients", changed=["apps", "expires", "recipients"])
    case("S3 owners never listable", v1_owners, [0, 1], [], "pending", prev=p, prev_approved=True,
         reason="update.field_not_listed", field="owners", changed=["apps", "expires", "owners"])
    case("S3 the rule itself", v1_update, [0, 1], [], "pending", prev=p, prev_approved=True,
         reason="update.field_not_listed", field="update", changed=["apps", "expires", "update"])
    case("S3 predecessor not approved", v1, [0, 1], [], "pending", prev=p, prev_approved=False,
         reason="policy.unapproved", changed=["apps", "expires"])
    case("S3 predecessor is another policy", v1_other_prev, [0, 1], [], "pending", prev=p, prev_approved=True,
         reason="policy.unapproved")
    case("S1 beats S3", v1, [0, 2], [1], "revoked", prev=p, prev_approved=True, reason="policy.revoked",
         changed=["apps", "expires"])
    case("S2 a version dropping an owner of its predecessor", v1_drop, [0, 1, 2], [], "pending", prev=p,
         prev_approved=True, reason="update.owner_removed", changed=["apps", "expires", "owners"])
    case("S2 a stranger's version of the owners' policy", v1_stranger, [0], [], "pending", prev=p,
         prev_approved=True, reason="update.owner_removed", changed=["apps", "expires", "owners", "update"])
    case("S2 a version adding an owner", v1_add, [0, 1, 2, 3], [], "approved-all", prev=p,
         prev_approved=True, changed=["apps", "expires", "owners"])
    case("S2 a version whose predecessor is not known", v1, [0, 1, 2], [], "pending",
         reason="policy.unapproved")
    out["status"] = st
    out["now"] = now
    return out, p, h


# ---------------------------------------------------------------------------
# Item proofs (doc/format/item-proof.md)

SESSION_KEY = seed("session-key")
JOB = seed("job", 16)
SESSION = seed("session", 16)


def item_proof(stage=0, result=1, job=JOB, session=SESSION, seq=0, item=0, attempt=None,
               din=None, dout=None, size=None, error=0, key=SESSION_KEY, magic=b"CFIP",
               version=1, r1=0, r2=0):
    attempt = attempt if attempt is not None else seed("attempt/%d/%d" % (item, seq), 16)
    din = din if din is not None else seed("in/%d" % item)
    if result == 1:
        dout = dout if dout is not None else seed("out/%d/%d" % (item, seq))
        size = size if size is not None else 1000 + item
    else:
        dout = dout if dout is not None else bytes(32)
        size = size if size is not None else 0
    body = (magic + bytes([version, stage, result, r1]) + job + session + struct.pack(">QQ", seq, item) +
            attempt + din + dout + struct.pack(">QII", size, error, r2))
    assert len(body) == 152
    mac = hmac.new(key, b"coffer/item-proof/v1\x00" + body, hashlib.sha256).digest()
    return body + mac


def item_ack(outcome, reason, log_index, proof_mac, key=SESSION_KEY):
    body = b"CFIA" + bytes([1, outcome]) + struct.pack(">HQ", reason, log_index) + proof_mac
    return body + hmac.new(key, b"coffer/item-ack/v1\x00" + body, hashlib.sha256).digest()


def proof_fields(b):
    return {"stage": b[5], "result": b[6], "job": b[8:24].hex(), "session": b[24:40].hex(),
            "seq": struct.unpack(">Q", b[40:48])[0], "item": struct.unpack(">Q", b[48:56])[0],
            "attempt": b[56:72].hex(), "input_digest": b[72:104].hex(), "output_digest": b[104:136].hex(),
            "output_size": struct.unpack(">Q", b[136:144])[0], "error": struct.unpack(">I", b[144:148])[0],
            "mac": b[152:184].hex()}


def gen_itemproof():
    out = {"session_key": SESSION_KEY.hex(), "job": JOB.hex(), "session": SESSION.hex()}
    proofs = {
        "map ok": item_proof(item=3, seq=0),
        "map failed": item_proof(item=4, seq=1, result=2, error=7),
        "reduce ok": item_proof(stage=1, item=0, seq=2, din=seed("map-root")),
    }
    out["proofs"] = [{"name": k, "bytes": v.hex(), "fields": proof_fields(v)} for k, v in proofs.items()]
    mac = proofs["map ok"][152:]
    # log_index -1 stands for 2^64 - 1 ("not logged"), which JSON parsers
    # of 64-bit signed integers cannot read.
    out["acks"] = [{"outcome": o, "reason": r, "log_index": li if li < 2 ** 63 else -1, "proof_mac": mac.hex(),
                    "bytes": item_ack(o, r, li, mac).hex()}
                   for o, r, li in ((1, 0, 42), (2, 0, 43), (3, 0, 44), (4, 0, 45), (5, 7, 46),
                                    (5, 14, 2 ** 64 - 1))]
    bad_acks = []
    a = bytearray(item_ack(1, 0, 42, mac))
    a[0] ^= 1
    bad_acks.append({"name": "magic", "bytes": a.hex(), "error": "format"})
    bad_acks.append({"name": "outcome 6", "bytes": item_ack(6, 0, 1, mac).hex(), "error": "format"})
    bad_acks.append({"name": "reason on a commit", "bytes": item_ack(1, 3, 1, mac).hex(), "error": "format"})
    bad_acks.append({"name": "refused without reason", "bytes": item_ack(5, 0, 1, mac).hex(), "error": "format"})
    a = bytearray(item_ack(1, 0, 42, mac))
    a[10] ^= 1
    bad_acks.append({"name": "log index changed", "bytes": a.hex(), "error": "auth"})
    bad_acks.append({"name": "other key", "bytes": item_ack(1, 0, 42, mac, key=seed("k2")).hex(), "error": "auth"})
    bad_acks.append({"name": "short", "bytes": item_ack(1, 0, 42, mac)[:79].hex(), "error": "truncated"})
    out["bad_acks"] = bad_acks

    ok = item_proof(item=3)
    inv = [
        {"rule": "IP1", "name": "183 bytes", "bytes": ok[:183].hex(), "error": "truncated"},
        {"rule": "IP1", "name": "185 bytes", "bytes": (ok + b"\x00").hex(), "error": "format"},
        {"rule": "IP2", "name": "magic", "bytes": item_proof(magic=b"CFIQ").hex(), "error": "format"},
        {"rule": "IP3", "name": "version 2", "bytes": item_proof(version=2).hex(), "error": "version"},
        {"rule": "IP4", "name": "stage 2", "bytes": item_proof(stage=2).hex(), "error": "format"},
        {"rule": "IP4", "name": "result 0", "bytes": item_proof(result=0).hex(), "error": "format"},
        {"rule": "IP4", "name": "result 3", "bytes": item_proof(result=3).hex(), "error": "format"},
        {"rule": "IP5", "name": "reserved byte 7", "bytes": item_proof(r1=1).hex(), "error": "format"},
        {"rule": "IP5", "name": "reserved 148", "bytes": item_proof(r2=1).hex(), "error": "format"},
        {"rule": "IP6", "name": "ok with error", "bytes": item_proof(error=3).hex(), "error": "format"},
        {"rule": "IP6", "name": "failed with output", "bytes": item_proof(result=2, error=1, dout=seed("o")).hex(), "error": "format"},
        {"rule": "IP6", "name": "failed with size", "bytes": item_proof(result=2, error=1, size=5).hex(), "error": "format"},
        {"rule": "IP6", "name": "failed without error", "bytes": item_proof(result=2).hex(), "error": "format"},
        {"rule": "IP7", "name": "reduce item 1", "bytes": item_proof(stage=1, item=1).hex(), "error": "format"},
    ]
    out["invalid"] = inv
    # IP8: every field that stays well-formed, changed after the MAC.
    tam = []
    for name, off in (("job", 8), ("session", 24), ("seq", 47), ("item", 55), ("attempt", 60),
                      ("input digest", 80), ("output digest", 120), ("output size", 143), ("mac", 170)):
        b = bytearray(ok)
        b[off] ^= 0x10
        tam.append({"field": name, "bytes": bytes(b).hex()})
    tam.append({"field": "other key", "bytes": item_proof(item=3, key=seed("other-session-key")).hex()})
    out["bad_mac"] = tam

    # Output salts (section 9): sealed outputs are deterministic.
    def output_salt(key, job, stage, item, pt):
        return hmac.new(key, b"coffer/output-salt/v1\x00" + job + bytes([stage]) + struct.pack(">Q", item) +
                        sha256(pt), hashlib.sha256).digest()

    out["output_salts"] = [
        {"key": k.hex(), "job": JOB.hex(), "stage": st, "item": it, "plaintext": pt.hex(),
         "salt": output_salt(k, JOB, st, it, pt).hex()}
        for k, st, it, pt in ((seed("output-key"), 0, 3, b"mean,12.5\n"),
                              (seed("output-key"), 0, 4, b"mean,12.5\n"),
                              (seed("intermediate-key"), 1, 0, b""))]

    # Commit rule sequences (section 6): outcome per proof.
    def seqcase(name, fail_after, steps, final):
        out.setdefault("ledger", []).append({"name": name, "fail_after": fail_after, "steps": steps,
                                             "final": final})

    def step(p, outcome):
        return {"proof": p.hex(), "outcome": outcome}

    a1, a2, a3 = seed("a1", 16), seed("a2", 16), seed("a3", 16)
    okp = item_proof(item=2, seq=10, attempt=a1)
    seqcase("first OK wins, same output is a duplicate", 1,
            [step(okp, "committed"), step(item_proof(item=2, seq=11, attempt=a2, dout=okp[104:136]), "duplicate")],
            {"status": "ok", "attempt": a1.hex(), "duplicates": 1, "disagreements": 0})
    seqcase("a second OK with another output disagrees", 1,
            [step(okp, "committed"), step(item_proof(item=2, seq=11, attempt=a2), "disagreement")],
            {"status": "ok", "attempt": a1.hex(), "duplicates": 1, "disagreements": 1})
    seqcase("FAILED after OK disagrees", 1,
            [step(okp, "committed"), step(item_proof(item=2, seq=11, attempt=a2, result=2, error=9), "disagreement")],
            {"status": "ok", "attempt": a1.hex(), "duplicates": 1, "disagreements": 1})
    f1 = item_proof(item=2, seq=20, attempt=a1, result=2, error=5)
    seqcase("fail_after 1: the first FAILED commits", 1,
            [step(f1, "committed"), step(item_proof(item=2, seq=21, attempt=a2, result=2, error=6), "duplicate"),
             step(item_proof(item=2, seq=22, attempt=a3), "disagreement")],
            {"status": "failed", "attempt": a1.hex(), "duplicates": 2, "disagreements": 1})
    seqcase("fail_after 2: distinct attempts count, one attempt once", 2,
            [step(f1, "failure"), step(item_proof(item=2, seq=21, attempt=a1, result=2, error=5), "failure"),
             step(item_proof(item=2, seq=22, attempt=a2, result=2, error=6), "committed"),
             step(item_proof(item=2, seq=23, attempt=a3, result=2, error=6), "duplicate")],
            {"status": "failed", "attempt": a2.hex(), "duplicates": 1, "disagreements": 0})
    seqcase("fail_after 2: an OK before the second failure wins", 2,
            [step(f1, "failure"), step(item_proof(item=2, seq=21, attempt=a2), "committed"),
             step(item_proof(item=2, seq=22, attempt=a3, result=2, error=1), "disagreement")],
            {"status": "ok", "attempt": a2.hex(), "duplicates": 1, "disagreements": 1})
    return out


# ---------------------------------------------------------------------------
# Audit log (doc/format/audit-log.md)

def proof_entry(job, proof, outcome, t, reason=None):
    e = {"event": "proof", "job": job.hex(), "proof": b64url(proof), "outcome": outcome, "time": t}
    if reason:
        e["reason"] = reason
    return e


def head_statement(size, root, t):
    return {"type": "coffer-tree-head", "version": 1, "size": size, "root": root.hex(), "time": t}


def gen_auditlog(p, ph, approvals):
    t = 1800000000
    ev = []
    ev.append({"event": "start", "identity": COORD.line, "evidence_sha256": seed("evidence").hex(), "time": t})
    ev.append({"event": "policy", "hash": ph.hex(), "policy": p, "time": t + 1})
    for i, a in enumerate(approvals):
        ev.append({"event": "approval", "policy": ph.hex(), "signed": a, "time": t + 2 + i})
    ev.append({"event": "key-upload", "policy": ph.hex(), "signer": OWNERS[0].fp,
               "key_id": key_id(DATA_KEYS["a-wdbc"]).hex(), "wrapped_sha256": seed("w").hex(), "time": t + 5})
    ev.append({"event": "job-open", "job": JOB.hex(), "policy": ph.hex(), "app": "pooled-stats",
               "params": {"alpha": "0.05", "columns": "radius_mean,texture_mean",
                          "label": "\u00c9tude \"WDBC\"\t\u2028\u00e9\u0001"},
               "items": 7, "input_root": seed("input-root").hex(), "stages": ["map", "reduce"], "time": t + 6})
    ev.append({"event": "release", "job": JOB.hex(), "session": SESSION.hex(), "tee": "sim",
               "measurement": SIM_MEAS, "worker_pk": seed("wpk").hex(), "nonce": seed("nonce").hex(),
               "evidence_sha256": seed("wev").hex(), "time": t + 7})
    ev.append({"event": "refusal", "job": JOB.hex(), "reason": "evidence.binding",
               "detail": "report data is not the binding of this job, nonce and key",
               "evidence_sha256": seed("wev2").hex(), "time": t + 8})
    ev.append({"event": "refusal", "job": JOB.hex(), "reason": "nonce.replayed", "detail": "", "time": t + 8})
    for i in range(3):
        ev.append(proof_entry(JOB, item_proof(item=i, seq=i), "committed", t + 9 + i))
    ev.append(proof_entry(JOB, item_proof(item=1, seq=3), "disagreement", t + 12))
    ev.append(proof_entry(JOB, item_proof(item=5, seq=4, din=seed("x")), "refused", t + 12, "input.mismatch"))
    ev.append({"event": "stage-close", "job": JOB.hex(), "stage": "map", "count": 7, "root": seed("mr").hex(),
               "ok": 3, "failed": 0, "abandoned": 4, "duplicates": 1, "disagreements": 1, "time": t + 13})
    ev.append({"event": "job-close", "job": JOB.hex(), "outcome": "failed", "reason": "job.cancelled", "time": t + 14})
    ev.append({"event": "receipt", "job": JOB.hex(), "receipt_sha256": seed("receipt").hex(), "time": t + 15})
    rv = envelope(OWNERS[1], {"type": "coffer-revocation", "version": 1, "policy": ph.hex(),
                              "signer": OWNERS[1].fp, "what": "approval"})
    ev.append({"event": "revocation", "policy": ph.hex(), "signed": rv, "time": t + 16})
    # 19 entries so far; the rollback event makes 20.
    presented = envelope(COORD, head_statement(30, seed("old-root"), t - 100))
    ev.append({"event": "rollback", "presented": presented, "size": 19, "time": t + 17})
    assert len(ev) == 20, len(ev)
    entries = [jcsb(e) for e in ev]
    leaves = [leaf_hash(e) for e in entries]
    out = {"entries": [e.decode() for e in entries],
           "leaf_hashes": [h.hex() for h in leaves],
           "roots": [mth(leaves[:n]).hex() for n in range(21)]}
    out["node"] = {"left": leaves[0].hex(), "right": leaves[1].hex(), "hash": node_hash(leaves[0], leaves[1]).hex()}
    inc = []
    for n in range(1, 21):
        for m in range(n):
            pth = path(m, leaves[:n])
            assert verify_inclusion(leaves[m], m, n, pth, mth(leaves[:n])) is None
            inc.append({"index": m, "size": n, "path": [h.hex() for h in pth]})
    out["inclusion"] = inc
    con = []
    for n in range(1, 21):
        for m in range(0, n + 1):
            pth = consistency(m, leaves[:n]) if 0 < m < n else []
            assert verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n]), pth) is None, (m, n)
            con.append({"from": m, "to": n, "path": [h.hex() for h in pth]})
    out["consistency"] = con

    # Invalid inclusion proofs, one per rule and a few mutations.
    R = lambda n: mth(leaves[:n])
    bi = []

    def binc(rule, leaf, index, size, pth, root, err, name):
        got = verify_inclusion(leaf, index, size, pth, root)
        assert got is not None and (got == rule or err == "auth"), (name, got, rule)
        rule = got
        bi.append({"name": name, "rule": rule, "leaf": leaf.hex(), "index": index, "size": size,
                   "path": [h.hex() for h in pth], "root": root.hex(), "error": err})
    p7 = path(5, leaves[:13])
    binc("N1", leaves[5], 5, 13, p7 + [EMPTY] * 62, R(13), "format", "65 hashes")
    binc("N2", leaves[5], 13, 13, p7, R(13), "format", "index = size")
    binc("N3", leaves[5], 5, 13, p7 + [EMPTY], R(13), "auth", "one hash too many")
    binc("N4", leaves[5], 5, 13, p7[:-1], R(13), "auth", "one hash too few")
    binc("N4", leaves[6], 5, 13, p7, R(13), "auth", "another leaf")
    binc("N4", leaves[5], 4, 13, p7, R(13), "auth", "another index")
    binc("N4", leaves[5], 5, 14, p7, R(14), "auth", "another size")
    bad = list(p7)
    bad[1] = bytes(a ^ b for a, b in zip(bad[1], b"\x01" + bytes(31)))
    binc("N4", leaves[5], 5, 13, bad, R(13), "auth", "a flipped hash")
    binc("N4", leaves[5], 5, 13, path(4, leaves[:13]), R(13), "auth", "a neighbour's path")
    binc("N4", leaves[0], 0, 1, [], R(2), "auth", "size 1 against another root")
    out["bad_inclusion"] = bi

    bc = []

    def bcon(rule, m, n, h1, h2, pth, err, name):
        got = verify_consistency(m, n, h1, h2, pth)
        assert got is not None and (got == rule or err == "auth"), (name, got, rule)
        rule = got
        bc.append({"name": name, "rule": rule, "from": m, "to": n, "first": h1.hex(), "second": h2.hex(),
                   "path": [h.hex() for h in pth], "error": err})
    c = consistency(6, leaves[:15])
    bcon("Q1", 6, 15, R(6), R(15), c + [EMPTY] * 62, "format", "66 hashes")
    bcon("Q1", 15, 6, R(15), R(6), c, "format", "from > to")
    bcon("Q2", 9, 9, R(9), R(9), [R(9)], "format", "equal sizes with a path")
    bcon("Q2", 9, 9, R(9), R(8), [], "auth", "equal sizes, other roots")
    bcon("Q3", 0, 9, EMPTY, R(9), [R(9)], "format", "from 0 with a path")
    bcon("Q4", 6, 15, R(6), R(15), [], "auth", "empty path")
    bcon("Q5", 6, 15, R(6), R(15), c + [EMPTY], "auth", "one hash too many")
    bcon("Q6", 6, 15, R(6), R(15), c[:-1], "auth", "one hash too few")
    bcon("Q6", 6, 15, R(7), R(15), c, "auth", "another first root")
    bcon("Q6", 6, 15, R(6), R(14), c, "auth", "another second root")
    bcon("Q6", 6, 15, R(6), R(15), consistency(5, leaves[:15]), "auth", "the path of another size")
    bcon("Q6", 4, 8, R(4), R(8), [R(4)] + consistency(4, leaves[:8]), "auth", "power of two given its own root")
    out["bad_consistency"] = bc

    # Entries: the canonical bytes of each event (E rules).
    be = []
    good = jcs(ev[8])
    be.append({"rule": "E1", "name": "not JSON", "text": good[:-1], "error": "format"})
    spaced = good[:1] + " " + good[1:]
    assert jcs(json.loads(spaced)) != spaced
    be.append({"rule": "E2", "name": "not canonical (space)", "text": spaced, "error": "format"})
    unordered = json.dumps(ev[8], separators=(",", ":"))
    assert unordered != good
    be.append({"rule": "E2", "name": "not canonical (order)", "text": unordered, "error": "format"})
    bad_ev = dict(ev[0])
    bad_ev["event"] = "begin"
    be.append({"rule": "E3", "name": "unknown event", "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(ev[0])
    del bad_ev["time"]
    be.append({"rule": "E3", "name": "missing time", "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(ev[0])
    bad_ev["extra"] = 1
    be.append({"rule": "E3", "name": "extra member", "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(ev[10])
    bad_ev["proof"] = b64url(item_proof()[:100])
    be.append({"rule": "E4", "name": "short proof", "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(ev[10])
    bad_ev["reason"] = "input.mismatch"
    be.append({"rule": "E3", "name": "reason on a commit", "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(ev[2])
    bad_ev["signed"] = rv
    be.append({"rule": "E4", "name": "a revocation as an approval", "text": jcs(bad_ev), "error": "format"})
    # The `collateral` event (a pushed item kept), not in the log above, so
    # that its roots and proofs stay as they are: one good entry of each
    # status, and one bad member each.
    coll = [{"event": "collateral", "sha256": seed("tcb-info").hex(), "kind": "tcb-info",
             "slot": "tcb-info/sgx/00a067110000", "status": "replaced", "time": t + 18},
            {"event": "collateral", "sha256": seed("chain").hex(), "kind": "certificates",
             "slot": "", "status": "added", "time": t + 18}]
    out["more_entries"] = [jcs(e) for e in coll]
    for member, value, name in [("kind", "mixed", "a collateral kind not kept"),
                                ("status", "older", "a collateral status not logged"),
                                ("slot", "tcb-info/sgx/00a0 67110000", "a space in a slot"),
                                ("slot", "x" * 64, "a slot of 64 characters")]:
        bad_ev = dict(coll[0])
        bad_ev[member] = value
        be.append({"rule": "E3", "name": name, "text": jcs(bad_ev), "error": "format"})
    bad_ev = dict(coll[1])
    del bad_ev["slot"]
    be.append({"rule": "E3", "name": "a collateral event without its slot", "text": jcs(bad_ev),
               "error": "format"})
    out["bad_entries"] = be

    # Signed tree heads (section 4) and the client rule (section 6.1).
    def sth(n, root=None, key=COORD, t=t + 20):
        return envelope(key, head_statement(n, root if root is not None else R(n), t))
    heads = {"valid": [json.dumps(sth(n)) for n in (0, 1, 7, 20)]}
    hb = []
    e = sth(7)
    e["statement"]["size"] = 8
    hb.append({"name": "size changed", "envelope": json.dumps(e), "error": "signature"})
    e = sth(7)
    e["statement"]["root"] = R(8).hex()
    hb.append({"name": "root changed", "envelope": json.dumps(e), "error": "signature"})
    hb.append({"name": "another key", "envelope": json.dumps(sth(7, key=OTHER_COORD)), "error": "signature"})
    hb.append({"name": "signed as a receipt", "envelope": json.dumps(envelope(COORD, head_statement(7, R(7), t), "coffer/receipt/v1")),
               "error": "signature"})
    hb.append({"name": "T1 size 0 with a root", "envelope": json.dumps(sth(0, root=R(1))), "error": "format"})
    hb.append({"name": "version 2", "envelope": json.dumps(envelope(COORD, dict(head_statement(3, R(3), t), version=2))),
               "error": "version"})
    heads["invalid"] = hb
    out["tree_heads"] = heads

    # A forked log: the first 3 entries, then others.
    fork_entries = entries[:3] + [jcsb({"event": "start", "identity": COORD.line,
                                        "evidence_sha256": seed("fork%d" % i).hex(), "time": t + 50 + i})
                                  for i in range(17)]
    fl = [leaf_hash(e) for e in fork_entries]
    FR = lambda n: mth(fl[:n])
    cl = []

    def client(rule, outcome, kept, new, proof):
        cl.append({"rule": rule, "outcome": outcome,
                   "kept": json.dumps(kept) if kept else None, "new": json.dumps(new),
                   "proof": [h.hex() for h in proof] if proof is not None else None})
    kept = sth(8)
    client("H1", "bad-signature", kept, sth(12, key=OTHER_COORD), consistency(8, leaves[:12]))
    client("H2", "first", None, sth(12), None)
    client("H3", "rollback", kept, sth(5), None)
    client("H4", "fork", kept, sth(8, root=FR(8)), None)
    client("H5", "same", kept, sth(8), None)
    client("H6", "fork", kept, sth(12, root=FR(12)), consistency(8, fl[:12]))
    client("H6", "fork", kept, sth(12), consistency(7, leaves[:12]))
    client("H7", "advanced", kept, sth(12), consistency(8, leaves[:12]))
    client("H7", "advanced", sth(0), sth(12), [])
    out["client"] = cl
    out["coordinator_sign_pk"] = COORD.ed_pk.hex()
    return out, entries, leaves, fl


# ---------------------------------------------------------------------------
# Key release (doc/protocol/key-release.md)

def gen_keyrelease(p, ph):
    out = {}
    rd = sha512(b"coffer/coordinator-identity/v1\x00" + COORD.ed_pk + COORD.x_pk)
    out["coordinator"] = dict(COORD.secrets(), sign_pk=COORD.ed_pk.hex(), kx_pk=COORD.x_pk.hex(),
                              report_data=rd.hex())
    w_sk = seed("worker-x25519")
    w_pk = x_pub(w_sk)
    nonce = seed("release-nonce")
    binding = sha512(b"coffer/release-binding/v1\x00" + JOB + nonce + w_pk)
    out["binding"] = {"job": JOB.hex(), "nonce": nonce.hex(), "worker_pk": w_pk.hex(),
                      "report_data": binding.hex()}

    # Key uploads (section 4).
    def upload(owner, ds, key=None, kid=None, info_policy=ph, skS=None, pkR=COORD.x_pk, blob_cut=0,
               signer=None, signing=None):
        key = key if key is not None else DATA_KEYS[ds]
        kid = kid if kid is not None else key_id(DATA_KEYS[ds])
        info = b"coffer/data-key/v1\x00" + info_policy + kid
        blob = wrap(pkR, skS if skS is not None else owner.x_sk, info, b"", key,
                    seed("ephemeral/%s/%s" % (owner.name, ds)))
        if blob_cut:
            blob = blob[:-blob_cut]
        st = {"type": "coffer-key-upload", "version": 1, "policy": ph.hex(), "signer": signer or owner.fp,
              "key_id": kid.hex(), "wrapped": b64url(blob)}
        return {"envelope": json.dumps(envelope(signing or owner, st)), "info": info.hex(),
                "wrapped": blob.hex()}
    ups = []
    u = upload(OWNERS[0], "a-wdbc")
    u.update(name="valid", owner=0, key=DATA_KEYS["a-wdbc"].hex())
    ups.append(u)
    u = upload(OWNERS[2], "c-dicom")
    u.update(name="valid c-dicom", owner=2, key=DATA_KEYS["c-dicom"].hex())
    ups.append(u)
    for name, rule, err, kw in (
            ("UP1 short blob", "UP1", "format", dict(owner=OWNERS[0], ds="a-wdbc", blob_cut=1)),
            ("UP3 not an owner", "UP3", "untrusted", dict(owner=ANALYST, ds="a-wdbc")),
            ("UP4 forged", "UP4", "signature", dict(owner=OWNERS[0], ds="a-wdbc", signing=OWNERS[1])),
            ("UP5 another owner's dataset", "UP5", "policy", dict(owner=OWNERS[1], ds="a-wdbc")),
            ("UP6 bound to another policy", "UP6", "auth", dict(owner=OWNERS[0], ds="a-wdbc", info_policy=seed("p2"))),
            ("UP6 sent by another identity", "UP6", "auth", dict(owner=OWNERS[0], ds="a-wdbc", skS=OWNERS[1].x_sk)),
            ("UP6 to another coordinator", "UP6", "auth", dict(owner=OWNERS[0], ds="a-wdbc", pkR=OTHER_COORD.x_pk)),
            ("UP7 another key under its id", "UP7", "wrong_key", dict(owner=OWNERS[0], ds="a-wdbc", key=DATA_KEYS["b-wdbc"]))):
        u = upload(**kw)
        u.update(name=name, rule=rule, error=err)
        ups.append(u)
    out["uploads"] = ups

    # The release answer (section 6.5).
    B = b"coffer/key-release/v1\x00" + JOB + nonce + w_pk
    K = seed("answer-key")
    app = p["apps"][0]
    payload = {
        "type": "coffer-release-payload", "version": 1, "job": JOB.hex(), "policy": ph.hex(),
        "app": app["name"], "app_sha256": app["sha256"], "reduce": True, "session": SESSION.hex(),
        "session_key": SESSION_KEY.hex(),
        "keys": [{"key_id": key_id(DATA_KEYS[d]).hex(), "key": DATA_KEYS[d].hex()} for d in ("a-wdbc", "b-wdbc", "c-wdbc")],
        "output_key": seed("output-key").hex(), "intermediate_key": seed("intermediate-key").hex(),
        "params": {"alpha": "0.05", "columns": "radius_mean,texture_mean",
                   "label": "\u00c9tude \"WDBC\"\t\u2028\u00e9\u0001"},
        "limits": p["limits"], "app_secret": seed("app-secret").hex(),
    }
    keyblob = wrap(w_pk, COORD.x_sk, B, b"", K, seed("ephemeral/release"))
    box = box_seal(K, seed("box-nonce", 12), B, jcsb(payload))
    answer = {"type": "coffer-release", "version": 1, "job": JOB.hex(), "session": SESSION.hex(),
              "key": b64url(keyblob), "payload": b64url(box)}
    out["release"] = {"worker_sk": w_sk.hex(), "B": B.hex(), "answer_key": K.hex(),
                      "answer": json.dumps(answer), "payload_jcs": jcs(payload)}
    bad = []

    def badans(name, err, **kw):
        a = dict(answer)
        a.update(kw)
        bad.append({"name": name, "answer": json.dumps(a), "error": err})
    kb = bytearray(keyblob)
    kb[50] ^= 1
    badans("key blob tampered", "auth", key=b64url(bytes(kb)))
    bx = bytearray(box)
    bx[30] ^= 1
    badans("payload tampered", "auth", payload=b64url(bytes(bx)))
    badans("not from the coordinator", "auth",
           key=b64url(wrap(w_pk, OTHER_COORD.x_sk, B, b"", K, seed("ephemeral/release"))))
    B2 = b"coffer/key-release/v1\x00" + seed("job2", 16) + nonce + w_pk
    badans("wrapped for another job", "auth", key=b64url(wrap(w_pk, COORD.x_sk, B2, b"", K, seed("e2"))))
    badans("payload for another job", "auth", payload=b64url(box_seal(K, seed("box-nonce", 12), B2, jcsb(payload))))
    badans("another job in the answer", "format", job=seed("job2", 16).hex())
    p2 = dict(payload, session=seed("s2", 16).hex())
    badans("payload session differs", "format", payload=b64url(box_seal(K, seed("box-nonce", 12), B, jcsb(p2))))
    p3 = dict(payload)
    del p3["intermediate_key"]
    badans("reduce without intermediate key", "format", payload=b64url(box_seal(K, seed("box-nonce", 12), B, jcsb(p3))))
    out["bad_answers"] = bad

    # Result key (section 7).
    okey = seed("output-key")
    rinfo = b"coffer/result-key/v1\x00" + JOB + ph
    rblob = wrap(ANALYST.x_pk, COORD.x_sk, rinfo, b"", okey, seed("ephemeral/result"))
    out["result_key"] = {"recipient": ANALYST.secrets(), "info": rinfo.hex(), "wrapped": rblob.hex(),
                         "output_key": okey.hex(), "key_id": key_id(okey).hex()}
    return out


# ---------------------------------------------------------------------------
# Standby and bind (doc/protocol/key-release.md section 6.7)

def gen_standby(p, ph, policy_text):
    out = {"coordinator": dict(COORD.secrets(), kx_pk=COORD.x_pk.hex())}
    w_sk = seed("worker-x25519")
    w_pk = x_pub(w_sk)
    nonce = seed("standby-nonce")
    out["binding"] = {
        "nonce": nonce.hex(), "worker_pk": w_pk.hex(), "job": JOB.hex(),
        "report_data": sha512(b"coffer/standby-binding/v1\x00" + nonce + w_pk).hex(),
        "release_report_data": sha512(b"coffer/release-binding/v1\x00" + JOB + nonce + w_pk).hex()}
    # 6.7.4: S (64 bytes: S_mac || S_box) wrapped to the worker.
    S = seed("standby-secret", 64)
    sid = seed("standby-id", 16)
    Bs = b"coffer/standby/v1\x00" + nonce + w_pk
    blob = wrap(w_pk, COORD.x_sk, Bs, b"", S, seed("ephemeral/standby"))
    answer = {"type": "coffer-standby", "version": 1, "standby": sid.hex(), "key": b64url(blob)}
    request = {"type": "coffer-standby-request", "version": 1, "nonce": nonce.hex(),
               "worker_pk": w_pk.hex(), "evidence": b64url(b"opaque evidence")}
    out["standby"] = {"worker_sk": w_sk.hex(), "B_s": Bs.hex(), "secret": S.hex(), "standby": sid.hex(),
                      "wrapped": blob.hex(), "answer": json.dumps(answer), "request": json.dumps(request)}
    bad = []

    def badst(name, err, drop=None, **kw):
        a = dict(answer)
        a.update(kw)
        if drop:
            del a[drop]
        bad.append({"name": name, "answer": json.dumps(a), "error": err})
    kb = bytearray(blob)
    kb[70] ^= 1
    badst("WS2 key tampered", "auth", key=b64url(bytes(kb)))
    badst("WS2 not from the coordinator", "auth",
          key=b64url(wrap(w_pk, OTHER_COORD.x_sk, Bs, b"", S, seed("ephemeral/standby"))))
    badst("WS2 for another nonce", "auth",
          key=b64url(wrap(w_pk, COORD.x_sk, b"coffer/standby/v1\x00" + seed("n2") + w_pk, b"", S,
                          seed("ephemeral/standby"))))
    badst("WS2 wrapped with the release's label", "auth",
          key=b64url(wrap(w_pk, COORD.x_sk, b"coffer/key-release/v1\x00" + nonce + w_pk, b"", S,
                          seed("ephemeral/standby"))))
    badst("WS1 a 32-byte secret", "format",
          key=b64url(wrap(w_pk, COORD.x_sk, Bs, b"", S[:32], seed("ephemeral/standby"))))
    badst("WS1 extra member", "format", expires=1)
    badst("WS1 missing member", "format", drop="standby")
    badst("WS1 version 2", "version", version=2)
    badst("WS1 another type", "format", type="coffer-release")
    out["bad_standby_answers"] = bad

    # 6.7.5: the bind request and its MAC under S_mac.
    Bb = b"coffer/bind/v1\x00" + JOB + sid
    mac = hmac.new(S[:32], Bb, hashlib.sha256).digest()
    breq = {"type": "coffer-bind-request", "version": 1, "job": JOB.hex(), "standby": sid.hex(), "mac": mac.hex()}
    out["bind"] = {"B_b": Bb.hex(), "mac": mac.hex(), "request": json.dumps(breq), "request_jcs": jcs(breq),
                   "mac_under_s_box": hmac.new(S[32:], Bb, hashlib.sha256).hexdigest()}
    badreq = []
    for name, kw in (("BD1 extra member", dict(extra=1)), ("BD1 version 2", dict(version=2)),
                     ("BD1 short mac", dict(mac=mac.hex()[:62])), ("BD1 upper-case hex", dict(job=JOB.hex().upper())),
                     ("BD1 another type", dict(type="coffer-release-request"))):
        q = dict(breq)
        q.update(kw)
        badreq.append({"name": name, "request": json.dumps(q), "error": "version" if "version" in kw else "format"})
    out["bad_bind_requests"] = badreq

    # 6.7.6: the bind answer, the payload boxed under S_box with aad B_b.
    app = p["apps"][0]
    payload = {
        "type": "coffer-release-payload", "version": 1, "job": JOB.hex(), "policy": ph.hex(),
        "app": app["name"], "app_sha256": app["sha256"], "reduce": True, "session": SESSION.hex(),
        "session_key": SESSION_KEY.hex(),
        "keys": [{"key_id": key_id(DATA_KEYS[d]).hex(), "key": DATA_KEYS[d].hex()} for d in ("a-wdbc", "b-wdbc", "c-wdbc")],
        "output_key": seed("output-key").hex(), "intermediate_key": seed("intermediate-key").hex(),
        "params": {"alpha": "0.05"}, "limits": p["limits"], "app_secret": seed("app-secret").hex(),
    }
    bn = seed("bind-box-nonce", 12)
    box = box_seal(S[32:], bn, Bb, jcsb(payload))
    pol = policy_text.encode()
    head = {"type": "coffer-bind", "version": 1, "job": JOB.hex(), "session": SESSION.hex(),
            "payload": b64url(box), "policy_len": len(pol)}

    def body(h, tail=pol, sep=b"\n"):
        return (jcs(h).encode() + sep + tail).decode()
    out["bind_answer"] = {"answer": body(head), "payload_jcs": jcs(payload), "policy": policy_text}
    bad = []

    def badbind(name, err, h=None, **kw):
        b = dict(h or head)
        b.update({k: v for k, v in kw.items() if k not in ("tail", "sep")})
        bad.append({"name": name, "answer": body(b, kw.get("tail", pol), kw.get("sep", b"\n")), "error": err})
    bx = bytearray(box)
    bx[40] ^= 1
    badbind("WB2 payload tampered", "auth", payload=b64url(bytes(bx)))
    badbind("WB2 sealed under S_mac", "auth", payload=b64url(box_seal(S[:32], bn, Bb, jcsb(payload))))
    badbind("WB2 sealed for another standby", "auth",
            payload=b64url(box_seal(S[32:], bn, b"coffer/bind/v1\x00" + JOB + seed("s2", 16), jcsb(payload))))
    badbind("WB2 sealed with the release's label", "auth",
            payload=b64url(box_seal(S[32:], bn, b"coffer/key-release/v1\x00" + JOB + sid, jcsb(payload))))
    badbind("WB1 another job", "format", job=seed("job2", 16).hex())
    badbind("WB1 policy_len one short", "format", policy_len=len(pol) - 1)
    badbind("WB1 policy_len zero", "format", policy_len=0, tail=b"")
    badbind("WB1 no line feed", "format", sep=b"", tail=b"")
    badbind("WB1 extra member", "format", extra=1)
    badbind("WB1 version 2", "version", version=2)
    p2 = dict(payload, session=seed("s2", 16).hex())
    badbind("WB3 payload for another session", "format", payload=b64url(box_seal(S[32:], bn, Bb, jcsb(p2))))
    out["bad_bind_answers"] = bad
    return out


# ---------------------------------------------------------------------------
# Receipts (doc/format/receipt.md)

def input_entry(it):
    k = it["key"].encode()
    return b"\x01" + struct.pack(">Q", it["index"]) + bytes.fromhex(it["digest"][7:]) + struct.pack(">H", len(k)) + k


def result_entry(stage, index, status, attempt=b"", session=b"", din=b"", dout=b"", size=0, error=0, log_index=0):
    attempt = attempt or bytes(16)
    session = session or bytes(16)
    dout = dout or bytes(32)
    e = (bytes([2, stage]) + struct.pack(">Q", index) + bytes([status]) + attempt + session + din + dout +
         struct.pack(">QIQ", size, error, log_index))
    assert len(e) == 127
    return e


def gen_receipt(p, ph, log_leaves, fork_leaves):
    app = "pooled-stats"
    items = items_of(p, app)
    ientries = [input_entry(it) for it in items]
    iroot = mth([leaf_hash(e) for e in ientries])
    evidence = b"coffer test evidence: opaque to src/proto"
    rd = sha512(b"coffer/coordinator-identity/v1\x00" + COORD.ed_pk + COORD.x_pk)

    def build(abandon=(), failed_job=False, params=None, coordinator=COORD, tweak=None, map_din=None):
        mentries = []
        for it in items:
            din = bytes.fromhex(it["digest"][7:])
            if map_din and it["index"] in map_din:
                din = map_din[it["index"]]
            if it["index"] in abandon:
                mentries.append(result_entry(0, it["index"], 3, din=din))
            else:
                mentries.append(result_entry(0, it["index"], 1, seed("att/%d" % it["index"], 16), SESSION, din,
                                             seed("mout/%d" % it["index"]), 2000 + it["index"], 0, 100 + it["index"]))
        mleaves = [leaf_hash(e) for e in mentries]
        mroot = mth(mleaves)
        rentry = result_entry(1, 0, 1, seed("att/r", 16), SESSION, mroot, seed("rout"), 512, 0, 200)
        rroot = mth([leaf_hash(rentry)])
        n = len(items)
        st = {
            "type": "coffer-receipt", "version": 1, "job": JOB.hex(), "policy": ph.hex(), "app": app,
            "app_sha256": p["apps"][0]["sha256"],
            "params": params or {"alpha": "0.05", "columns": "radius_mean,texture_mean",
                                 "label": "\u00c9tude \"WDBC\"\t\u2028\u00e9\u0001"},
            "inputs": {"count": n, "root": iroot.hex()},
            "stages": [
                {"stage": "map", "count": n, "root": mroot.hex(), "ok": n - len(abandon), "failed": 0,
                 "abandoned": len(abandon), "duplicates": 2, "disagreements": 1},
                {"stage": "reduce", "count": 1, "root": rroot.hex(), "ok": 1, "failed": 0, "abandoned": 0,
                 "duplicates": 0, "disagreements": 0}],
            "measurements": [{"tee": "sgx", "measurement": SGX_MEAS, "sessions": 1, "items": 1},
                             {"tee": "sim", "measurement": SIM_MEAS, "sessions": 2, "items": n - len(abandon)}],
            "outcome": "failed" if failed_job else "completed",
            "log": {"size": 20, "root": mth(log_leaves).hex()},
            "coordinator": {"identity": coordinator.line, "evidence": b64url(evidence)},
            "opened": 1800000006, "closed": 1800000014,
        }
        if failed_job:
            st["reason"] = "measurement.revoked"
        if tweak:
            tweak(st)
        return st, mentries, mleaves, rentry

    def bundle(owner_index, st, mentries, mleaves, rentry, signer=COORD, consistency_proof=None, mutate=None):
        env = envelope(signer, st)
        mine = [it["index"] for it in items if it["owner"] == owner_index]
        leaves = [{"entry": b64url(mentries[i]), "path": [h.hex() for h in path(i, mleaves)]} for i in mine]
        b = {"type": "coffer-receipt-bundle", "version": 1, "receipt": env, "owner": OWNERS[owner_index].fp,
             "results": [{"stage": "map", "leaves": leaves},
                         {"stage": "reduce", "leaves": [{"entry": b64url(rentry), "path": []}]}]}
        if consistency_proof:
            b["consistency"] = consistency_proof
        if mutate:
            mutate(b)
        return b

    out = {"policy_text": jcs(p), "owners": [o.fp for o in OWNERS],
           "pin": {"identity": COORD.line, "evidence": b64url(evidence), "report_data": rd.hex()},
           "input_entries": [e.hex() for e in ientries], "input_root": iroot.hex()}
    st, me, ml, re_ = build()
    out["result_entries"] = {"map": [e.hex() for e in me], "reduce": [re_.hex()]}
    out["stage_roots"] = {"map": mth(ml).hex(), "reduce": mth([leaf_hash(re_)]).hex()}
    out["receipt"] = {"statement_jcs": jcs(st), "envelope": json.dumps(envelope(COORD, st)),
                      "sha256": sha256(jcsb(st)).hex()}
    cases = []

    def add(name, owner, b, exit_, rule=None, kept=None):
        c = {"name": name, "owner": owner, "bundle": json.dumps(b), "exit": exit_}
        if rule:
            c["rule"] = rule
        if kept:
            c["kept"] = {"size": kept[0], "root": kept[1].hex()}
        cases.append(c)

    for oi in range(3):
        add("complete, owner %d" % oi, oi, bundle(oi, st, me, ml, re_), 0)
    # Log heads: consistent kept head, and one from a forked log.
    cons = {"from": 12, "to": 20, "path": [h.hex() for h in consistency(12, log_leaves)]}
    add("kept head consistent", 0, bundle(0, st, me, ml, re_, consistency_proof=cons), 0,
        kept=(12, mth(log_leaves[:12])))
    add("kept head equal", 0, bundle(0, st, me, ml, re_), 0, kept=(20, mth(log_leaves)))
    add("kept head without a proof: not checked", 0, bundle(0, st, me, ml, re_), 0, kept=(12, mth(log_leaves[:12])))
    add("RV10 kept head from a fork", 0, bundle(0, st, me, ml, re_, consistency_proof=cons), 11, "RV10",
        kept=(12, mth(fork_leaves[:12])))
    add("RV10 same size, other root", 0, bundle(0, st, me, ml, re_), 11, "RV10", kept=(20, mth(fork_leaves)))

    # RV11 incomplete.
    s2 = build(abandon=(5,))
    add("RV11 an abandoned item, its owner", 2, bundle(2, *s2), 12, "RV11")
    add("RV11 an abandoned item beyond tolerance, another owner", 0, bundle(0, *s2), 12, "RV11")
    s3 = build(failed_job=True)
    add("RV11 failed job", 1, bundle(1, *s3), 12, "RV11")

    # RV1 format.
    add("RV1 missing owner", 0, bundle(0, st, me, ml, re_, mutate=lambda b: b.pop("owner")), 5, "RV1")
    add("RV1 other owner's bundle", 1, bundle(0, st, me, ml, re_), 5, "RV1")
    add("RV1 short entry", 0, bundle(0, st, me, ml, re_,
                                     mutate=lambda b: b["results"][0]["leaves"][0].update(entry=b64url(me[0][:126]))),
        5, "RV1")
    add("RV1 receipt without log", 0, bundle(0, *build(tweak=lambda s: s.pop("log"))), 5, "RV1")
    add("RV1 stage count a string", 0, bundle(0, *build(tweak=lambda s: s["stages"][0].update(count="7"))), 5, "RV1")
    # RV2 another coordinator.
    add("RV2 another coordinator", 0, bundle(0, *build(coordinator=OTHER_COORD), signer=OTHER_COORD), 7, "RV2")
    # RV3 tampered.
    def tamper(b):
        b["receipt"]["statement"]["stages"][0]["disagreements"] = 0
    add("RV3 a signed value changed", 0, bundle(0, st, me, ml, re_, mutate=tamper), 4, "RV3")
    add("RV3 signed by another key", 0, bundle(0, st, me, ml, re_, signer=OTHER_COORD), 4, "RV3")
    # RV4 evidence.
    add("RV4 other evidence", 0, bundle(0, *build(tweak=lambda s: s["coordinator"].update(evidence=b64url(b"other")))),
        7, "RV4")
    # RV5 policy, app, params.
    add("RV5 another policy", 0, bundle(0, *build(tweak=lambda s: s.update(policy=seed("p9").hex()))), 7, "RV5")
    add("RV5 a parameter value not allowed", 0, bundle(0, *build(params={"alpha": "0.5", "columns": "radius_mean,texture_mean",
                                                                        "label": "\u00c9tude \"WDBC\"\t\u2028\u00e9\u0001"})),
        7, "RV5")
    add("RV5 a parameter missing", 0, bundle(0, *build(params={"alpha": "0.05", "columns": "radius_mean,texture_mean"})),
        7, "RV5")
    add("RV5 another app hash", 0, bundle(0, *build(tweak=lambda s: s.update(app_sha256=seed("x").hex()))), 7, "RV5")
    # RV6 inputs.
    add("RV6 another input root", 0, bundle(0, *build(tweak=lambda s: s["inputs"].update(root=seed("ir").hex()))),
        7, "RV6")
    add("RV6 another count", 0, bundle(0, *build(tweak=lambda s: s["inputs"].update(count=6))), 7, "RV6")
    # RV7 stages.
    add("RV7 counts do not add up", 0, bundle(0, *build(tweak=lambda s: s["stages"][0].update(ok=5))), 7, "RV7")
    add("RV7 no reduce stage", 0, bundle(0, *build(tweak=lambda s: s["stages"].pop())), 7, "RV7")
    add("RV7 reason on a completed job", 0, bundle(0, *build(tweak=lambda s: s.update(reason="job.cancelled"))), 7, "RV7")
    add("RV7 more disagreements than duplicates", 0,
        bundle(0, *build(tweak=lambda s: s["stages"][0].update(disagreements=3))), 7, "RV7")
    # RV8 measurements.
    add("RV8 an unapproved measurement", 0, bundle(0, *build(tweak=lambda s: s["measurements"].append(
        {"tee": "tdx", "measurement": TDX_MEAS, "sessions": 1, "items": 0}))), 7, "RV8")
    # RV9 leaves.
    def flip_path(b):
        lf = b["results"][0]["leaves"][1]
        h = bytearray(bytes.fromhex(lf["path"][0]))
        h[0] ^= 1
        lf["path"][0] = h.hex()
    add("RV9 a path hash changed", 0, bundle(0, st, me, ml, re_, mutate=flip_path), 4, "RV9")
    add("RV9 a leaf dropped", 0, bundle(0, st, me, ml, re_, mutate=lambda b: b["results"][0]["leaves"].pop()), 7, "RV9")
    s4 = build(map_din={1: seed("rolled-back-input")})
    add("RV9 a leaf with another input digest", 0, bundle(0, *s4), 7, "RV9")
    out["cases"] = cases
    return out


# ---------------------------------------------------------------------------

OUT = HERE


def write(name, obj):
    obj = dict(obj)
    obj["_generated_by"] = "tests/vectors/proto/gen.py (independent of Coffer's C code)"
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, ensure_ascii=True)
        f.write("\n")


def write_corpus(pol, item, log, kr, rc):
    """Seeds for the fuzz targets of src/proto (tests/fuzz/corpus/<name>/),
    small on purpose: a few valid and invalid inputs of each kind."""
    root = os.path.join(HERE, "..", "..", "fuzz", "corpus")

    def put(target, name, data):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    put("policy", "vector", pol["policy"]["text"])
    put("policy", "minimal", pol["minimal"]["text"])
    for i, c in enumerate(pol["invalid_policies"][3:12]):
        put("policy", "invalid-%d" % i, c["text"])
    for i, a in enumerate(pol["approvals"][:3] + pol["approvals"][8:10]):
        put("statement", "approval-%d" % i, b"\x00" + a["envelope"].encode())
    for i, r in enumerate(pol["revocations"][:3]):
        put("statement", "revocation-%d" % i, b"\x01" + r["envelope"].encode())
    for i, u in enumerate(kr["uploads"][:4]):
        put("statement", "upload-%d" % i, b"\x02" + u["envelope"].encode())
    for i, h in enumerate(log["tree_heads"]["valid"][:2]):
        put("statement", "head-%d" % i, b"\x03" + h.encode())
    for i in (0, 1, 8, 10, 19):
        put("auditlog", "entry-%d" % i, b"\x00" + log["entries"][i].encode())
    leaves = [bytes.fromhex(h) for h in log["leaf_hashes"][:13]]
    p = [bytes.fromhex(h) for h in log["inclusion"][-8]["path"]]
    put("auditlog", "inclusion", b"\x01" + bytes([12, 5]) + b"".join(leaves) + b"".join(p))
    c = [x for x in log["consistency"] if x["from"] == 6 and x["to"] == 13][0]
    put("auditlog", "consistency", b"\x02" + bytes([12, 6]) + b"".join(leaves) +
        b"".join(bytes.fromhex(h) for h in c["path"]))
    put("itemproof", "sequence", bytes([1]) + b"".join(bytes.fromhex(s["proof"]) for s in
                                                        item["ledger"][4]["steps"]))
    put("itemproof", "proofs", bytes([0]) + b"".join(bytes.fromhex(x["bytes"]) for x in item["proofs"]))
    put("itemproof", "ack", bytes([0]) + bytes.fromhex(item["acks"][0]["bytes"]))
    put("keyrelease", "answer", b"\x02" + kr["release"]["answer"].encode())
    put("keyrelease", "answer-tampered", b"\x02" + kr["bad_answers"][1]["answer"].encode())
    put("keyrelease", "result-key", b"\x03" + bytes.fromhex(kr["result_key"]["wrapped"]))
    put("keyrelease", "job", b"\x01" + json.dumps({"type": "coffer-job", "version": 1,
        "policy": "00" * 32, "app": "pooled-stats", "params": {"alpha": "0.05"}}).encode())
    put("keyrelease", "request", b"\x00" + json.dumps({"type": "coffer-release-request",
        "version": 1, "job": JOB.hex(), "nonce": "11" * 32, "worker_pk": kr["binding"]["worker_pk"],
        "evidence": b64url(b"evidence")}).encode())
    sb = json.load(open(os.path.join(OUT, "standby.json")))
    put("standby", "request", b"\x00" + sb["standby"]["request"].encode())
    put("standby", "bind-request", b"\x01" + sb["bind"]["request"].encode())
    put("standby", "answer", b"\x02" + sb["standby"]["answer"].encode())
    put("standby", "answer-tampered", b"\x02" + sb["bad_standby_answers"][0]["answer"].encode())
    put("standby", "bind-answer", b"\x03" + sb["bind_answer"]["answer"].encode())
    put("standby", "bind-answer-tampered", b"\x03" + sb["bad_bind_answers"][0]["answer"].encode())
    for c in rc["cases"]:
        if c["name"] in ("complete, owner 0", "kept head consistent", "RV3 a signed value changed",
                         "RV9 a path hash changed", "RV11 failed job", "RV7 counts do not add up"):
            put("receipt", c["name"].split(",")[0].replace(" ", "-"), c["bundle"])


def main():
    global OUT
    if "--out" in sys.argv:
        OUT = sys.argv[sys.argv.index("--out") + 1]
    hpke_selftest()
    pol, p, ph = gen_policy()
    write("policy.json", pol)
    write("itemproof.json", gen_itemproof())
    approvals = [json.loads(a["envelope"]) for a in pol["approvals"][:3]]
    log, entries, leaves, fork_leaves = gen_auditlog(p, ph, approvals)
    write("auditlog.json", log)
    kr = gen_keyrelease(p, ph)
    write("keyrelease.json", kr)
    write("standby.json", gen_standby(p, ph, pol["minimal"]["jcs"]))
    rc = gen_receipt(p, ph, leaves, fork_leaves)
    write("receipt.json", rc)
    if "--corpus" in sys.argv:
        write_corpus(pol, json.load(open(os.path.join(OUT, "itemproof.json"))), log, kr, rc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
