#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Test vectors for the coordinator's sealed state and its recovery, made
by an implementation independent of Coffer's C code, written from

  doc/format/sealed-state.md, doc/format/recovery.md

It uses Python's standard library and Debian's python3-cryptography
(AES-256-GCM, HKDF, P-384); GF(2^8) arithmetic, Shamir's sharing, the
page sealing, the root, the log records and the sealed key file are
written out here (the field with log/exp tables, where the C code
multiplies bit by bit). Run with Debian's Python:

    /usr/bin/python3 tests/vectors/state/gen.py [--out DIR] [--corpus]

It rewrites sealed-state.json and shamir.json in this directory (or in
DIR: tests/integration/state_vectors.sh regenerates them there and
compares); --corpus also rewrites the seeds of the coord_sealstore and
coord_statekey fuzz targets. Deterministic: every key, salt and nonce comes from a fixed
seed, so a re-run gives the same bytes.
"""
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = os.path.dirname(os.path.abspath(__file__))
P = 4096
SLOT = 32 + P


def proto_gen():
    """The proto generator (tests/vectors/proto/gen.py), independent of the
    C code too: its seeds, and for the recovery record its HPKE, JCS and
    identities (its HPKE checked against RFC 9180's vectors first)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "proto_gen", os.path.join(HERE, "..", "proto", "gen.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.hpke_selftest()
    return m


PG = proto_gen()
sha256 = PG.sha256
seed = PG.seed


def hkdf(salt, ikm, info, n=32):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt or None,
                info=info).derive(ikm)


def be64(x):
    return struct.pack(">Q", x)


def be32(x):
    return struct.pack(">I", x)


# ---------------------------------------------------------------------------
# doc/format/sealed-state.md

class State:
    """Section 2: the keys of one state."""

    def __init__(self, key, sid):
        self.key = key
        self.sid = sid
        self.k_page = hkdf(b"", key, b"coffer/state/page/v1")
        self.k_mac = hkdf(b"", key, b"coffer/state/mac/v1")

    def mac(self, label, data):
        return hmac.new(self.k_mac, label + b"\x00" + data, hashlib.sha256).digest()

    def key_check(self):
        return self.mac(b"coffer/state/key-check/v1", self.sid)

    def seal(self, pgno, pt, salt):
        """Section 3.1."""
        k = hkdf(salt, self.k_page, b"coffer/state/page-key/v1")
        ct = AESGCM(k).encrypt(bytes(12), pt, self.sid + be64(pgno))
        return salt + ct[-16:] + ct[:-16]

    def open(self, pgno, slot):
        k = hkdf(slot[:16], self.k_page, b"coffer/state/page-key/v1")
        return AESGCM(k).decrypt(bytes(12), slot[32:] + slot[16:32], self.sid + be64(pgno))

    def header(self, magic, label):
        """Sections 4.1 and 4.2."""
        h = magic + bytes([1, 0, 0, 0]) + be32(P) + bytes(4) + self.sid
        return h + self.mac(label, h)

    def record(self, rtype, counter, n, entries, root):
        """Section 4.2: entries is a list of (pgno, slot)."""
        body = bytes([rtype, 0, 0, 0]) + be32(len(entries)) + be64(counter) + be64(n)
        for p, slot in entries:
            body += be32(p) + slot
        body += root
        return body + self.mac(b"coffer/state/record/v1", body)


def root_of(leaves):
    """Section 3.3."""
    groups = b""
    for j in range(0, len(leaves), 256):
        groups += sha256(b"".join(leaves[j:j + 256]))
    return sha256(b"coffer/state/root/v1\x00" + be64(len(leaves)) + groups)


def page_text(name):
    """A page of recognisable content."""
    return (name.encode() + b" ") * (P // (len(name) + 1)) + bytes(P % (len(name) + 1))


def salt_of(name):
    return seed("salt/" + name, 16)


def page_vectors(st):
    out = []
    for pgno, name in [(1, "first"), (2, "second"), (1000, "far"), (0xFFFFFFFF, "max")]:
        pt = page_text(name)
        salt = salt_of(name)
        slot = st.seal(pgno, pt, salt)
        assert st.open(pgno, slot) == pt
        out.append({"pgno": pgno, "salt": salt.hex(), "pt_sha256": sha256(pt).hex(),
                    "pt_name": name, "slot": slot.hex()})
    return out


def root_vectors():
    out = []
    for n in [0, 1, 2, 255, 256, 257, 600]:
        leaves = [sha256(b"leaf" + be32(i)) for i in range(n)]
        out.append({"n": n, "root": root_of(leaves).hex()})
    return out


class Scenario:
    """A state checkpointed at counter 5 with 2 pages, then two commits:
    6 writes page 2 and grows the state with page 3; 7 writes page 1."""

    def __init__(self, st):
        self.st = st
        self.v = {}   # (pgno, version name) -> slot
        self.pts = {}
        for p, ver in [(1, "a"), (2, "a"), (2, "b"), (3, "a"), (1, "b"), (2, "old")]:
            pt = page_text("page %d version %s" % (p, ver))
            self.pts[(p, ver)] = pt
            self.v[(p, ver)] = st.seal(p, pt, salt_of("scenario/%d/%s" % (p, ver)))
        self.at5 = {1: "a", 2: "a"}
        self.at6 = {1: "a", 2: "b", 3: "a"}
        self.at7 = {1: "b", 2: "b", 3: "a"}

    def leaves(self, state):
        return [self.v[(p, state[p])][:32] for p in sorted(state)]

    def root(self, state):
        return root_of(self.leaves(state))

    def db(self, state):
        out = self.st.header(b"CFSD", b"coffer/state/db-header/v1")
        for p in sorted(state):
            out += self.v[(p, state[p])]
        return out

    def base(self, counter=5, n=2, state=None):
        return self.st.record(1, counter, n, [], self.root(state or self.at5))

    def rec6(self, **kw):
        entries = kw.get("entries", [(2, self.v[(2, "b")]), (3, self.v[(3, "a")])])
        return self.st.record(kw.get("rtype", 2), kw.get("counter", 6), kw.get("n", 3),
                              entries, self.root(self.at6))

    def rec7(self, counter=7):
        return self.st.record(2, counter, 3, [(1, self.v[(1, "b")])], self.root(self.at7))

    def log(self, *records):
        return self.st.header(b"CFSL", b"coffer/state/log-header/v1") + b"".join(records)

    def expect(self, state, counter):
        return {"counter": counter, "npages": len(state),
                "pages_sha256": [sha256(self.pts[(p, state[p])]).hex() for p in sorted(state)]}


def store_vectors(st, other):
    s = Scenario(st)
    full = s.log(s.base(), s.rec6(), s.rec7())
    cases = []

    files = {}

    def ref(blob):
        """A file as the name of a stored one, or a stored one with a
        few bytes changed, or a prefix of one (keeps the JSON small)."""
        for name, f in files.items():
            if blob == f:
                return {"file": name}
        for name, f in files.items():
            if len(blob) < len(f) and f[:len(blob)] == blob:
                return {"file": name, "length": len(blob)}
            if len(blob) == len(f):
                diff = [i for i in range(len(f)) if f[i] != blob[i]]
                if len(diff) <= 8:
                    return {"file": name, "patch": [[i, blob[i]] for i in diff]}
        name = "f%d" % len(files)
        files[name] = blob
        return {"file": name}

    def case(name, rule, db, log, result=None, error=None):
        c = {"name": name, "rule": rule, "db": ref(db), "log": ref(log)}
        if error:
            c["error"] = error
        else:
            c["result"] = result
        cases.append(c)

    ok7 = s.expect(s.at7, 7)
    ok6 = s.expect(s.at6, 6)
    case("db at the checkpoint, two commits to replay", "O11", s.db(s.at5), full, ok7)
    case("db with the first commit applied", "O11", s.db(s.at6), full, ok7)
    case("db with every commit applied", "O11", s.db(s.at7), full, ok7)
    case("a fresh checkpoint: base record only", "O8", s.db(s.at7),
         s.log(s.base(7, 3, s.at7)), ok7)
    case("log torn in the last record", "O9", s.db(s.at6), full[:-100], ok6)
    case("log torn in the last record's header", "O9", s.db(s.at6), full[:-(len(s.rec7()) - 10)], ok6)
    case("zeros after the last record", "O9", s.db(s.at5), full + bytes(5000), ok7)
    bad7 = bytearray(s.rec7())
    bad7[30] ^= 1
    case("last record changed: dropped as a torn tail", "O9", s.db(s.at6),
         s.log(s.base(), s.rec6(), bytes(bad7)), ok6)
    case("last record changed while the db has it: refused by the root", "O12",
         s.db(s.at7), s.log(s.base(), s.rec6(), bytes(bad7)), error="AUTH")
    case("a record that skips a counter is a torn tail", "O9", s.db(s.at6),
         s.log(s.base(), s.rec6(), s.rec7(counter=8)), ok6)
    case("a record not in page order is a torn tail", "O9", s.db(s.at5),
         s.log(s.base(), s.rec6(entries=[(3, s.v[(3, "a")]), (2, s.v[(2, "b")])])),
         s.expect(s.at5, 5))
    case("a record that grows the state without its new page", "O9", s.db(s.at5),
         s.log(s.base(), s.rec6(entries=[(2, s.v[(2, "b")])])), s.expect(s.at5, 5))
    case("a record with a page past its size", "O9", s.db(s.at5),
         s.log(s.base(), s.rec6(n=2)), s.expect(s.at5, 5))
    case("a base record after the first", "O9", s.db(s.at5),
         s.log(s.base(), s.rec6(rtype=1)), s.expect(s.at5, 5))
    old = s.db(s.at5)[:64] + s.v[(1, "a")] + s.v[(2, "old")]
    case("a page put back to an older version", "O12", old, s.log(s.base()), error="AUTH")
    swapped = s.db(s.at5)[:64] + s.v[(2, "a")] + s.v[(1, "a")]
    case("two pages swapped", "O12", swapped, s.log(s.base()), error="AUTH")
    case("db shorter than its header", "O3", s.db(s.at5)[:63], full, error="TRUNCATED")
    case("log shorter than its header", "O3", s.db(s.at5), full[:40], error="TRUNCATED")
    db = bytearray(s.db(s.at5))
    db[0:4] = b"XXXX"
    case("db magic", "O4", bytes(db), full, error="FORMAT")
    case("a plain SQLite file", "O4", b"SQLite format 3\x00" + bytes(P - 16), full, error="FORMAT")
    db = bytearray(s.db(s.at5))
    db[4] = 2
    case("db version 2", "O5", bytes(db), full, error="VERSION")
    hdr = b"CFSD" + bytes([1, 0, 0, 0]) + be32(8192) + bytes(4) + st.sid
    case("a page size of 8192", "O5", hdr + st.mac(b"coffer/state/db-header/v1", hdr) + s.db(s.at5)[64:],
         full, error="UNSUPPORTED")
    db = bytearray(s.db(s.at5))
    db[6] = 1
    case("a reserved byte set", "O5", bytes(db), full, error="FORMAT")
    case("the db of another state", "O6", other.header(b"CFSD", b"coffer/state/db-header/v1") +
         s.db(s.at5)[64:], full, error="WRONG_KEY")
    db = bytearray(s.db(s.at5))
    db[40] ^= 0x80
    case("db header MAC", "O7", bytes(db), full, error="AUTH")
    lg = bytearray(full)
    lg[40] ^= 0x80
    case("log header MAC", "O7", s.db(s.at5), bytes(lg), error="AUTH")
    case("log without a base record", "O8", s.db(s.at5), s.log(s.rec6(), s.rec7()), error="AUTH")
    b = bytearray(s.base())
    b[10] ^= 1
    case("base record changed", "O8", s.db(s.at5), s.log(bytes(b), s.rec6()), error="AUTH")
    case("db missing a page its log names", "O10", s.db(s.at5)[:64 + SLOT],
         s.log(s.base()), error="TRUNCATED")
    return {"state_key": st.key.hex(), "state_id": st.sid.hex(),
            "comment": "db and log name a file of 'files' (hex), optionally cut to "
                       "'length' bytes or with 'patch' [[offset, byte value]...] applied",
            "files": {k: v.hex() for k, v in files.items()}, "cases": cases}


# ---------------------------------------------------------------------------
# Section 9: state.key; section 10: the sim sealing key

def state_key_file(S, backend, measurement, platform, sid, key, nonce):
    head = b"CFSK" + bytes([1, backend, 0, 0]) + sid + measurement.ljust(48, b"\x00") + platform
    head += hkdf(b"", S, b"coffer/state/seal-key-id/v1", 16)
    k_wrap = hkdf(b"", S, b"coffer/state/seal/v1")
    return head + nonce + AESGCM(k_wrap).encrypt(nonce, key, head)


def statekey_vectors():
    S = seed("sealing-key")
    meas = seed("measurement", 48)
    plat = seed("platform")
    sid = seed("state-id", 16)
    key = seed("state-key")
    good = state_key_file(S, 1, meas, plat, sid, key, seed("nonce", 12))
    cases = []

    def case(name, rule, blob, error=None, **reader):
        c = {"name": name, "rule": rule, "file": blob.hex(),
             "reader": {"backend": reader.get("backend", 1),
                        "sealing_key": reader.get("S", S).hex(),
                        "measurement": reader.get("meas", meas).hex(),
                        "platform": reader.get("plat", plat).hex()}}
        if error:
            c["error"] = error
        cases.append(c)

    case("valid", "K", good)
    case("short", "K1", good[:179], "TRUNCATED")
    case("long", "K1", good + b"\x00", "FORMAT")
    b = bytearray(good)
    b[0] = ord("X")
    case("magic", "K2", bytes(b), "FORMAT")
    b = bytearray(good)
    b[4] = 2
    case("version", "K2", bytes(b), "VERSION")
    b = bytearray(good)
    b[7] = 1
    case("reserved byte", "K2", bytes(b), "FORMAT")
    b = bytearray(good)
    b[5] = 9
    case("unknown backend", "K2", bytes(b), "FORMAT")
    case("another backend", "K3", good, "WRONG_KEY", backend=2)
    case("another measurement", "K4", good, "WRONG_KEY", meas=seed("other-measurement", 48))
    case("another sim host", "K5", good, "WRONG_KEY", plat=seed("other-platform"))
    case("another sealing key", "K6", good, "WRONG_KEY", S=seed("other-sealing-key"))
    b = bytearray(good)
    b[150] ^= 1
    case("box changed", "K7", bytes(b), "AUTH")
    b = bytearray(good)
    b[30] ^= 1
    case("measurement field changed (the box binds it)", "K7", bytes(b), "AUTH",
         meas=bytes(b[24:72]))
    return {"state_key": key.hex(), "state_id": sid.hex(), "cases": cases}


def sim_sealing_vectors():
    out = []
    for name in ["host-a", "host-b"]:
        d = int.from_bytes(seed("sim-key/" + name, 48), "big") % (
            0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
        sk = ec.derive_private_key(d, ec.SECP384R1())
        pem = sk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
        point = sk.public_key().public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint)
        for exe in ["binary one", "binary two"]:
            # doc/format/evidence.md section 8.2: the sim measurement of one file.
            meas = hashlib.sha384(b"coffer-sim-measurement-v1\x00" +
                                  hashlib.sha384(exe.encode()).digest()).digest()
            S = hkdf(b"", d.to_bytes(48, "big"), b"coffer/tee/sim-sealing-key/v1\x00" + meas)
            out.append({"host": name, "pem": pem.decode(), "executable": exe,
                        "measurement": meas.hex(), "platform": sha256(point).hex(),
                        "sealing_key": S.hex()})
    return out


def sgx_sealing_vectors():
    """Gramine's 16-byte _sgx_mrenclave key through the label."""
    k = seed("sgx-mrenclave-key", 16)
    return {"gramine_key": k.hex(), "mrenclave": seed("mrenclave").hex(),
            "sealing_key": hkdf(b"", k, b"coffer/tee/sgx-sealing-key/v1").hex()}


# ---------------------------------------------------------------------------
# doc/format/recovery.md section 2: GF(2^8) with log and exp tables

EXP = [0] * 512
LOG = [0] * 256


def _tables():
    x = 1
    for i in range(255):
        EXP[i] = x
        LOG[x] = i
        # multiply by the generator 3 = x + 1
        x ^= (x << 1) ^ (0x11b if x & 0x80 else 0)
        x &= 0xff
    for i in range(255, 512):
        EXP[i] = EXP[i - 255]


_tables()


def gmul(a, b):
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def gdiv(a, b):
    assert b != 0
    if a == 0:
        return 0
    return EXP[(LOG[a] - LOG[b]) % 255]


def split(secret, k, n, coeffs):
    shares = []
    for x in range(1, n + 1):
        y = bytearray()
        for j in range(32):
            a = [secret[j]] + list(coeffs[j * (k - 1):(j + 1) * (k - 1)])
            acc, xp = 0, 1
            for c in a:
                acc ^= gmul(c, xp)
                xp = gmul(xp, x)
            y.append(acc)
        shares.append(bytes(y))
    return shares


def combine(xs, ys):
    out = bytearray(32)
    for i, xi in enumerate(xs):
        li = 1
        for m, xm in enumerate(xs):
            if m != i:
                li = gmul(li, gdiv(xm, xm ^ xi))
        for j in range(32):
            out[j] ^= gmul(ys[i][j], li)
    return bytes(out)


def shamir_vectors():
    out = []
    for k, n in [(1, 1), (1, 3), (2, 2), (2, 3), (3, 5), (5, 5), (4, 32), (32, 32)]:
        name = "shamir/%d-of-%d" % (k, n)
        secret = seed(name + "/secret")
        coeffs = seed(name + "/coeffs", 32 * (k - 1)) if k > 1 else b""
        shares = split(secret, k, n, coeffs)
        subsets = [list(range(1, k + 1)), list(range(n - k + 1, n + 1))]
        if k < n:
            subsets.append([x for x in range(n, 0, -2)][:k] if len(range(n, 0, -2)) >= k
                           else list(range(n, n - k, -1)))
        combos = []
        for sub in subsets:
            got = combine(sub, [shares[x - 1] for x in sub])
            assert got == secret
            combos.append({"x": sub, "secret": got.hex()})
        fewer = None
        if k > 1:
            sub = list(range(1, k))
            fewer = {"x": sub, "result": combine(sub, [shares[x - 1] for x in sub]).hex()}
        out.append({"k": k, "n": n, "secret": secret.hex(), "coeffs": coeffs.hex(),
                    "shares": [s.hex() for s in shares], "combine": combos,
                    "fewer_than_k": fewer})
    return out


# ---------------------------------------------------------------------------
# doc/format/recovery.md sections 3 to 6, with the proto generator's HPKE,
# JCS and identities.

REC_LABEL = "coffer/recovery-record/v1"


def recovery_vectors(st):
    pg = PG
    coord = pg.Identity("coordinator")
    owners = [pg.Identity("keeper-%s" % c) for c in "abc"]
    outsider = pg.Identity("outsider")
    k, n = 2, 3
    coeffs = seed("recovery/coeffs", 32 * (k - 1))
    ys = split(st.key, k, n, coeffs)

    def commitment(x, y):
        return sha256(b"coffer/recovery-share/v1\x00" + st.sid + bytes([x]) + y)

    def share_info(x):
        return b"coffer/recovery-share/v1\x00" + st.sid + bytes([k, n, x])

    def statement(**kw):
        shares = []
        for i, o in enumerate(owners):
            x = i + 1
            blob = pg.wrap(o.x_pk, coord.x_sk, share_info(x), b"", ys[i],
                           seed("recovery/ephemeral/%d" % x))
            shares.append({"owner": o.line, "x": x, "commitment": commitment(x, ys[i]).hex(),
                           "wrapped": pg.b64url(blob)})
        stmt = {"type": "coffer-recovery-record", "version": 1, "coordinator": coord.line,
                "state": st.sid.hex(), "threshold": k, "key_check": st.key_check().hex(),
                "shares": shares}
        for key_, v in kw.items():
            stmt[key_] = v
        return stmt

    good = statement()
    env = pg.envelope(coord, good, REC_LABEL)
    out = {"identities": [i.secrets() for i in [coord] + owners + [outsider]],
           "state_key": st.key.hex(), "state_id": st.sid.hex(), "threshold": k,
           "share_values": [y.hex() for y in ys],
           "record": pg.jcs(env), "invalid_records": [], "submissions": [],
           "invalid_submissions": []}
    bad = out["invalid_records"]

    def bad_stmt(rule, err, note, stmt, signer=coord):
        bad.append({"rule": rule, "error": err, "note": note,
                    "text": pg.jcs(pg.envelope(signer, stmt, REC_LABEL))})

    bad.append({"rule": "RR1", "error": "FORMAT", "note": "not JSON", "text": "{\"signature\":"})
    bad.append({"rule": "RR1", "error": "FORMAT", "note": "a third envelope member",
                "text": pg.jcs(dict(env, extra=1))})
    bad.append({"rule": "RR1", "error": "FORMAT", "note": "another statement type",
                "text": pg.jcs(pg.envelope(coord, dict(good, type="coffer-approval"),
                                           REC_LABEL))})
    s2 = dict(good)
    del s2["key_check"]
    bad_stmt("RR2", "FORMAT", "member missing", s2)
    bad_stmt("RR2", "FORMAT", "member not listed", dict(good, extra=True))
    bad_stmt("RR2", "VERSION", "version 2", dict(good, version=2))
    bad_stmt("RR2", "FORMAT", "state of 15 bytes", dict(good, state=st.sid[:15].hex()))
    bad_stmt("RR3", "FORMAT", "threshold 0", dict(good, threshold=0))
    bad_stmt("RR3", "FORMAT", "threshold above n", dict(good, threshold=4))
    bad_stmt("RR3", "FORMAT", "no share", dict(good, shares=[]))
    sh = [dict(x) for x in good["shares"]]
    sh[1]["x"] = 1
    bad_stmt("RR3", "FORMAT", "x not the position", dict(good, shares=sh))
    sh = [dict(x) for x in good["shares"]]
    sh[2]["owner"] = sh[0]["owner"]
    bad_stmt("RR3", "FORMAT", "an owner twice", dict(good, shares=sh))
    sh = [dict(x) for x in good["shares"]]
    sh[0]["wrapped"] = pg.b64url(bytes(91))
    bad_stmt("RR3", "FORMAT", "a wrap of 91 bytes", dict(good, shares=sh))
    bad_stmt("RR4", "SIGNATURE", "signed by another key", good, signer=outsider)
    tampered = json.loads(pg.jcs(env))
    tampered["statement"]["threshold"] = 1
    bad.append({"rule": "RR4", "error": "SIGNATURE", "note": "threshold changed after signing",
                "text": pg.jcs(tampered)})
    # A record whose key check is not the state key's (rule RS5).
    out["record_other_key_check"] = pg.jcs(pg.envelope(
        coord, dict(good, key_check=seed("not-the-key-check").hex()), REC_LABEL))

    session_sk = seed("recovery/session")
    session_pk = pg.x_pub(session_sk)
    out["session_secret"] = session_sk.hex()
    out["report_data"] = pg.sha512(b"coffer/coordinator-recovery/v1\x00" + st.sid +
                                   session_pk).hex()

    def submit_info(x):
        return b"coffer/recovery-submit/v1\x00" + st.sid + session_pk + bytes([x])

    def body(owner_fp, x, blob):
        return pg.jcs({"owner": owner_fp, "x": x, "share": pg.b64url(blob)})

    for i, o in enumerate(owners):
        x = i + 1
        blob = pg.wrap(session_pk, o.x_sk, submit_info(x), b"", ys[i],
                       seed("recovery/submit-ephemeral/%d" % x))
        out["submissions"].append({"owner": i + 1, "x": x, "body": body(o.fp, x, blob)})
    inv = out["invalid_submissions"]
    o, x = owners[0], 1
    ok = pg.wrap(session_pk, o.x_sk, submit_info(x), b"", ys[0], seed("recovery/e1"))
    inv.append({"rule": "RS1", "error": "FORMAT", "note": "x missing",
                "body": pg.jcs({"owner": o.fp, "share": pg.b64url(ok)})})
    inv.append({"rule": "RS1", "error": "FORMAT", "note": "share of 91 bytes",
                "body": body(o.fp, x, ok[:91])})
    inv.append({"rule": "RS2", "error": "NOTFOUND", "note": "an owner without a share",
                "body": body(outsider.fp, x, ok)})
    inv.append({"rule": "RS2", "error": "NOTFOUND", "note": "another x",
                "body": body(o.fp, 2, ok)})
    other_pk = pg.x_pub(seed("recovery/other-session"))
    inv.append({"rule": "RS3", "error": "AUTH", "note": "wrapped to another session",
                "body": body(o.fp, x, pg.wrap(other_pk, o.x_sk, submit_info(x), b"", ys[0],
                                              seed("recovery/e2")))})
    inv.append({"rule": "RS3", "error": "AUTH", "note": "wrapped by another sender",
                "body": body(o.fp, x, pg.wrap(session_pk, outsider.x_sk, submit_info(x), b"",
                                              ys[0], seed("recovery/e3")))})
    inv.append({"rule": "RS4", "error": "AUTH", "note": "another value",
                "body": body(o.fp, x, pg.wrap(session_pk, o.x_sk, submit_info(x), b"", ys[1],
                                              seed("recovery/e4")))})
    return out


def main():
    out_dir = HERE
    args = sys.argv[1:]
    if args[:1] == ["--out"]:
        out_dir = args[1]
    st = State(seed("state-key"), seed("state-id", 16))
    other = State(seed("state-key"), seed("other-state-id", 16))
    sealed = {
        "comment": "doc/format/sealed-state.md; made by tests/vectors/state/gen.py",
        "page_size": P,
        "keys": {"state_key": st.key.hex(), "state_id": st.sid.hex(),
                 "k_page": st.k_page.hex(), "k_mac": st.k_mac.hex(),
                 "key_check": st.key_check().hex()},
        "pages": page_vectors(st),
        "roots": {"comment": "leaf i (0-based) = SHA-256('leaf' || BE32(i))",
                  "tests": root_vectors()},
        "store": store_vectors(st, other),
        "state_key_file": statekey_vectors(),
        "sim_sealing_key": sim_sealing_vectors(),
        "sgx_sealing_key": sgx_sealing_vectors(),
    }
    shamir = {"comment": "doc/format/recovery.md section 2; made by tests/vectors/state/gen.py",
              "tests": shamir_vectors()}
    recovery = recovery_vectors(st)
    recovery["comment"] = "doc/format/recovery.md; made by tests/vectors/state/gen.py"
    for name, obj in [("sealed-state.json", sealed), ("shamir.json", shamir),
                      ("recovery.json", recovery)]:
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.write("\n")
    if "--corpus" in args:
        write_corpus(sealed, recovery)


def write_corpus(sealed, recovery):
    """Seeds of the fuzz targets (tests/fuzz/corpus/coord_*): the first
    byte selects the harness's MAC fixing (odd) or not."""
    root = os.path.join(HERE, "..", "..", "fuzz", "corpus")
    seeds = {"coord_sealstore": [], "coord_statekey": [], "recovery": []}
    seeds["recovery"].append(b"\x00" + recovery["record"].encode())
    for c in recovery["invalid_records"][:6]:
        seeds["recovery"].append(b"\x00" + c["text"].encode())
    for c in recovery["submissions"][:1] + recovery["invalid_submissions"]:
        seeds["recovery"].append(b"\x01" + c["body"].encode())
    files = sealed["store"]["files"]
    for c in sealed["store"]["cases"]:
        ref = c["log"]
        blob = bytes.fromhex(files[ref["file"]])
        if "length" in ref:
            blob = blob[:ref["length"]]
        seeds["coord_sealstore"].append(blob)
    for c in sealed["state_key_file"]["cases"]:
        seeds["coord_statekey"].append(bytes.fromhex(c["file"]))
    for target, blobs in seeds.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        uniq = sorted(set(blobs))
        if target == "recovery":
            for i, b in enumerate(uniq):
                with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
                    f.write(b)
            continue
        for i, b in enumerate(uniq[:12]):
            for flag in (0, 1):
                with open(os.path.join(d, "seed-%02d-%d" % (i, flag)), "wb") as f:
                    f.write(bytes([flag]) + b)


if __name__ == "__main__":
    main()
