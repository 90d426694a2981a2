#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Test helper, independent of the C code under test: make approval and
# revocation envelopes (doc/format/policy.md sections 2.2, 7, 8) with
# Python's cryptography, including the broken ones the coordinator must
# refuse. For statements of strings and small integers, json.dumps with
# sorted keys and no white space is their RFC 8785 canonical form.
#   coordinator_sign.py approval IDFILE POLICY_HASH [--signer FP]
#   coordinator_sign.py revocation IDFILE POLICY_HASH [TEE HEX]
# The envelope is printed; --flip-signature flips one bit of it.
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def load_identity(path):
    fields = dict(l.split(": ", 1) for l in open(path).read().splitlines()[1:])
    keys = b64url(fields["public"].split(":")[1])
    return Ed25519PrivateKey.from_private_bytes(b64url(fields["ed25519-secret"])), \
        hashlib.sha256(keys).hexdigest()

def main():
    args = sys.argv[1:]
    flip = "--flip-signature" in args
    if flip:
        args.remove("--flip-signature")
    signer = None
    if "--signer" in args:
        i = args.index("--signer")
        signer = args[i + 1]
        del args[i:i + 2]
    kind, idfile, policy = args[0], args[1], args[2]
    sk, fp = load_identity(idfile)
    if kind == "approval":
        st = {"type": "coffer-approval", "version": 1, "policy": policy,
              "signer": signer or fp,
              "log": {"size": 0, "root": hashlib.sha256(b"").hexdigest()}}
        label = b"coffer/approval/v1"
    else:
        st = {"type": "coffer-revocation", "version": 1, "policy": policy,
              "signer": signer or fp, "what": "approval"}
        if len(args) == 5:
            st.update({"what": "measurement", "tee": args[3], "measurement": args[4]})
        label = b"coffer/revocation/v1"
    jcs = json.dumps(st, sort_keys=True, separators=(",", ":")).encode()
    sig = bytearray(sk.sign(b"coffer-sig-v1\0" + label + b"\0" + jcs))
    if flip:
        sig[10] ^= 1
    print(json.dumps({"signature": sig.hex(), "statement": st}))

main()
