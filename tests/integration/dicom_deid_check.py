#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Independent check of dicom-deid's outputs with pydicom (Debian's
# python3-pydicom, run with /usr/bin/python3): reads every input and its
# output and checks, at every depth, that the PS3.15 Table E.1-1 actions
# were taken as doc/apps/dicom-deid.md says, computing each action itself
# from the table (not from the app's generated code). Prints one line per
# problem and "checked N files, M problems"; exit 1 on any problem.
#
#   dicom_deid_check.py TABLE.tsv INDIR OUTDIR [option=value ...]
# options: the app's job parameters that change what is expected
# (retain_dates, retain_uids, retain_safe_private, clean_descriptors, ...).
import datetime
import os
import sys

import pydicom
from pydicom.tag import Tag

COLS = ["basic", "safe_private", "uids", "device", "institution",
        "patient_chars", "full_dates", "modified_dates", "descriptors",
        "structured", "graphics"]
OPTION_PARAM = {
    "uids": "retain_uids", "device": "retain_device_identity",
    "institution": "retain_institution_identity",
    "patient_chars": "retain_patient_characteristics",
    "descriptors": "clean_descriptors", "structured": "clean_structured_content",
    "graphics": "clean_graphics",
}
CODES = {"basic": "113100", "safe_private": "113111", "uids": "113110",
         "device": "113109", "institution": "113112", "patient_chars": "113108",
         "full_dates": "113106", "modified_dates": "113107",
         "descriptors": "113105", "structured": "113104", "graphics": "113103"}
INSERTED = {0x00120062, 0x00120063, 0x00120064, 0x00280303}
PROBLEMS = []


def problem(f, msg):
    PROBLEMS.append("%s: %s" % (f, msg))


def load_table(path):
    exact, masked = {}, []
    with open(path) as fh:
        next(fh)
        for line in fh:
            c = line.rstrip("\n").split("\t")
            tag = c[1]
            if tag.startswith("(gggg"):
                continue
            g, e = tag[1:5], tag[6:10]
            acts = dict(zip(COLS, c[4:15]))
            if "x" in (g + e).lower():
                masked.append((g.lower(), e.lower(), acts))
            else:
                exact[int(g + e, 16)] = acts
    return exact, masked


def row_for(table, tag):
    exact, masked = table
    if tag in exact:
        return exact[tag]
    g = tag >> 16
    if (g & 0xff01) not in (0x5000, 0x6000) or (g & 0xff) > 0x1e:
        return None
    h = "%08x" % tag
    for mg, me, acts in masked:
        pat = mg + me
        if all(p == "x" or p == q for p, q in zip(pat, h)):
            return acts
    return None


def expected(table, opts, tag, vr):
    """The action the profile asks for: X D Z K C U (compound resolved)."""
    row = row_for(table, tag)
    strict = opts.get("conformance") == "strict"
    if row is None:
        if tag == 0x0040A160:
            return "C"
        if vr in ("DA", "DT"):
            d = opts.get("retain_dates", "none")
            return {"full": "K", "modified": "C"}.get(d, "X" if strict else "D")
        return "K"
    a = row["basic"]
    k = c = False
    for col in COLS[1:]:
        if not enabled(opts, col) or row[col] == "":
            continue
        if row[col] == "K":
            k = True
        elif row[col] == "C":
            c = True
    if k:
        a = "K"
    elif c:
        a = "C"
    weak = {"Z/D": "D", "X/Z": "Z", "X/D": "D", "X/Z/D": "D", "X/Z/U*": "K"}
    strong = {"Z/D": "Z", "X/Z": "X", "X/D": "X", "X/Z/D": "X", "X/Z/U*": "X"}
    return (strong if strict else weak).get(a, a)


def enabled(opts, col):
    if col == "basic":
        return True
    if col == "safe_private":
        return bool(opts.get("retain_safe_private"))
    if col == "full_dates":
        return opts.get("retain_dates") == "full"
    if col == "modified_dates":
        return opts.get("retain_dates") == "modified"
    return opts.get(OPTION_PARAM[col], "no") in ("yes", "true", "1")


def safe_list(opts):
    out = []
    for ent in filter(None, opts.get("retain_safe_private", "").split(";")):
        ge, creator = ent.split("=", 1)
        g, e = ge.split(",")
        out.append((int(g, 16), None if e.lower() == "xx" else int(e, 16), creator))
    return out


def private_kept(opts, ds, tag):
    g, el = tag >> 16, tag & 0xffff
    if el < 0x10:
        return False
    if el <= 0xff:
        creator = str(ds[tag].value).strip()
        return any(sg == g and sc == creator for sg, _, sc in safe_list(opts))
    ctag = (g << 16) | (el >> 8)
    if ctag not in ds:
        return False
    creator = str(ds[ctag].value).strip()
    return any(sg == g and sc == creator and (se is None or se == (el & 0xff))
               for sg, se, sc in safe_list(opts))


def raw_value(elem):
    v = elem.value
    if isinstance(v, bytes):
        return v
    return None


def strval(v):
    if v is None:
        return ""
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(x) for x in v)
    return str(v)


def parse_date(s):
    s = s.strip()
    if len(s) >= 8 and s[:8].isdigit():
        return datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    return None


class Checker:
    def __init__(self, table, opts):
        self.table, self.opts = table, opts
        self.uid_map, self.uid_rev = {}, {}
        self.shifts = {}  # output PatientID -> set of day shifts
        self.pseud, self.pseud_rev = {}, {}

    def uid(self, f, old, new):
        for o, n in zip(old.split("\\"), new.split("\\")):
            o, n = o.strip("\0 "), n.strip("\0 ")
            if not o:
                continue
            if not n.startswith("2.25.") or len(n) > 64 or not n[5:].isdigit():
                problem(f, "UID %s replaced by %r, not a 2.25 UID" % (o, n))
            if self.uid_map.setdefault(o, n) != n:
                problem(f, "UID %s -> %s here but %s elsewhere" % (o, n, self.uid_map[o]))
            if self.uid_rev.setdefault(n, o) != o:
                problem(f, "UIDs %s and %s both -> %s" % (o, self.uid_rev[n], n))

    def dataset(self, f, din, dout, pid, depth):
        for elem in din:
            tag = int(elem.tag)
            g, el = tag >> 16, tag & 0xffff
            name = "(%04X,%04X)" % (g, el)
            present = tag in dout
            if g == 0x0002 or el == 0 or tag == 0x00080001:
                continue
            if depth == 0 and tag in INSERTED:
                continue
            if g & 1:
                keep = enabled(self.opts, "safe_private") and private_kept(self.opts, din, tag)
                if not keep and present:
                    problem(f, "private %s left in the output" % name)
                elif keep and not present:
                    problem(f, "safe private %s removed" % name)
                elif keep and elem.VR == "SQ":
                    self.sequence(f, elem, dout[tag], pid, depth)
                continue
            act = expected(self.table, self.opts, tag, elem.VR)
            if act == "X":
                if present:
                    problem(f, "%s (action X) left in the output" % name)
                continue
            if not present:
                problem(f, "%s (action %s) missing from the output" % (name, act))
                continue
            out = dout[tag]
            if elem.VR == "SQ" or out.VR == "SQ":
                if act == "Z":
                    if out.value:
                        problem(f, "%s (Z) still has items" % name)
                else:
                    self.sequence(f, elem, out, pid, depth)
                continue
            self.value(f, name, tag, act, elem, out, pid, depth)

    def sequence(self, f, sin, sout, pid, depth):
        if len(sin.value) != len(sout.value):
            problem(f, "%s: %d items became %d" % (sin.tag, len(sin.value), len(sout.value)))
            return
        for a, b in zip(sin.value, sout.value):
            self.dataset(f, a, b, pid, depth + 1)

    def value(self, f, name, tag, act, ein, eout, pid, depth):
        vin, vout = ein.value, eout.value
        if tag in (0x00100010, 0x00100020) and act in ("Z", "D") and depth > 0:
            if strval(vin).strip() and (strval(vout) == strval(vin) or not strval(vout).startswith(
                    self.opts.get("pseudonym_prefix", "ANON-"))):
                problem(f, "nested %s is %r, not a pseudonym" % (name, strval(vout)))
            return
        if tag in (0x00100010, 0x00100020) and act in ("Z", "D"):
            if strval(vout) != pid:
                problem(f, "%s is %r, not the patient's pseudonym %r" % (name, strval(vout), pid))
            return
        if act == "K":
            if tag == 0x7FE00010 or ein.VR in ("OB", "OW", "UN"):
                if raw_value(ein) != raw_value(eout):
                    problem(f, "%s bytes changed" % name)
            elif strval(vin) != strval(vout):
                problem(f, "%s (K) changed: %r -> %r" % (name, strval(vin), strval(vout)))
        elif act == "Z":
            if strval(vout) != "" and ein.VR not in ("OB", "OW", "UN"):
                problem(f, "%s (Z) not empty: %r" % (name, strval(vout)))
        elif act in ("U", "D") and ein.VR == "UI":
            if self.opts.get("retain_uids") in ("yes", "1", "true"):
                return
            if strval(vin).strip():
                self.uid(f, strval(vin), strval(vout))
        elif act == "D":
            s = strval(vout)
            if ein.VR not in ("OB", "OW", "UN", "US", "SS", "UL", "SL", "FL", "FD", "AT") and s == "":
                problem(f, "%s (D) is empty" % name)
            if s and s == strval(vin) and s not in ("0", "ANONYMIZED"):
                problem(f, "%s (D) kept its value %r" % (name, s))
        elif act == "C":
            if ein.VR in ("DA", "DT") and self.opts.get("retain_dates") == "modified":
                a, b = parse_date(strval(vin)), parse_date(strval(vout))
                if a and b:
                    self.shifts.setdefault(pid, set()).add((b - a).days)
                elif strval(vin).strip() and a:
                    problem(f, "%s date %r became %r" % (name, strval(vin), strval(vout)))
            elif ein.VR in ("LO", "SH", "ST", "LT", "UT", "UC", "PN", "CS"):
                # Every long digit run is gone.
                s = strval(vout)
                run = 0
                for ch in s:
                    run = run + 1 if ch.isdigit() else 0
                    if run >= 5:
                        problem(f, "%s cleaned text still has a digit run: %r" % (name, s))
                        break

    def file(self, fin, fout):
        f = os.path.basename(fin)
        with open(fout, "rb") as fh:
            head = fh.read(132)
        if head[:128] != b"\0" * 128 or head[128:132] != b"DICM":
            problem(f, "preamble not zeroed or no DICM")
        din = pydicom.dcmread(fin, force=True)
        dout = pydicom.dcmread(fout)
        # The pseudonym: keyed by the input's Patient ID and issuer (else its
        # name); the same for every file of that patient, different between
        # patients.
        pkey = (strval(din.get("PatientID", "")).strip(),
                strval(din.get("IssuerOfPatientID", "")).strip())
        if not pkey[0]:
            pkey = (strval(din.get("PatientName", "")).strip(), pkey[1])
        pid = strval(dout.get("PatientID", "")) if "PatientID" in din else \
            strval(dout.get("PatientName", ""))
        if ("PatientID" in din or "PatientName" in din) and \
                not pid.startswith(self.opts.get("pseudonym_prefix", "ANON-")):
            problem(f, "Patient ID %r is not a pseudonym" % pid)
        if "PatientID" not in din and "PatientName" not in din:
            pass
        elif self.pseud.setdefault(pkey, pid) != pid:
            problem(f, "patient %r is %s here, %s elsewhere" % (pkey, pid, self.pseud[pkey]))
        if ("PatientID" in din or "PatientName" in din) and \
                self.pseud_rev.setdefault(pid, pkey) != pkey:
            problem(f, "patients %r and %r share the pseudonym %s" % (pkey, self.pseud_rev[pid], pid))
        if dout.get("PatientIdentityRemoved") != "YES":
            problem(f, "Patient Identity Removed is not YES")
        codes = sorted(str(i.CodeValue) for i in dout.get("DeidentificationMethodCodeSequence", []))
        want = sorted(CODES[c] for c in COLS if enabled(self.opts, c))
        if codes != want:
            problem(f, "De-identification Method Code Sequence %s, expected %s" % (codes, want))
        if "PixelData" in din:
            if "PixelData" not in dout or din.PixelData != dout.PixelData:
                problem(f, "Pixel Data not byte-identical")
        ms = str(dout.file_meta.get("MediaStorageSOPInstanceUID", ""))
        if "SOPInstanceUID" in dout and ms != str(dout.SOPInstanceUID):
            problem(f, "Media Storage SOP Instance UID differs from SOP Instance UID")
        self.dataset(f, din, dout, pid, 0)

    def finish(self):
        for pid, s in self.shifts.items():
            if len(s) != 1 or 0 in s:
                problem(pid, "date shifts of this patient are not one non-zero value: %s" % sorted(s))


def main():
    table = load_table(sys.argv[1])
    indir, outdir = sys.argv[2], sys.argv[3]
    opts = dict(a.split("=", 1) for a in sys.argv[4:])
    ck = Checker(table, opts)
    n = 0
    for name in sorted(os.listdir(outdir)):
        fin = os.path.join(indir, name)
        if not os.path.exists(fin):
            continue
        try:
            ck.file(fin, os.path.join(outdir, name))
        except Exception as e:  # a reader error is a problem to report
            problem(name, "pydicom: %s: %s" % (type(e).__name__, e))
        n += 1
    ck.finish()
    for p in PROBLEMS:
        print(p)
    print("checked %d files, %d problems, %d UIDs mapped, %d patients shifted" %
          (n, len(PROBLEMS), len(ck.uid_map), len(ck.shifts)))
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
