#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The independent reference for pooled-stats (tests/integration/
# apps_pooled_stats.sh): Debian's numpy and scikit-learn, run with
# /usr/bin/python3, on the whole table (every owner's CSV file read with
# Python's csv module, rows in file order). For each result file given,
# checks the app's JSON against:
#   - numpy: n, mean, sample SD (ddof=1), min, max, and numpy.quantile
#     with its default 'linear' method; category counts;
#   - scikit-learn: StandardScaler (population SD) then
#     LogisticRegression(C, solver='newton-cholesky', tol=1e-10), whose
#     objective is C * sum of log-losses + |w|^2/2 with the intercept
#     unpenalised: every standardised coefficient and the intercept within
#     1e-6 absolute, the scaler's mean and scale, training accuracy;
#   - scipy's linear programming (HiGHS), for a result that says the
#     classes are separable: a certificate that a separating hyperplane
#     exists, so that an unpenalised fit indeed has no finite solution.
# Prints one line per check and the largest deviations; exit 1 on any
# failure.
#   reference.py --positive LEVEL [--target COL] CSV... -- RESULT.json...
# And, for the pooled-versus-whole test:
#   reference.py --same A.json B.json   every figure of A and B agrees within
#                                       1e-9 x max(1, |value|), owners aside
import csv
import json
import sys

import numpy as np
import sklearn
from scipy.optimize import linprog
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

COEF_TOL = 1e-6      # the bound on coefficients and intercept
REL_TOL = 1e-12      # moments: different summation orders, same data
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def load(paths):
    header, rows = None, []
    for p in paths:
        with open(p, newline="") as f:
            r = csv.reader(f)
            h = next(r)
            if header is None:
                header = h
            assert h == header, f"{p}: another header"
            rows.extend(r)
    return header, rows


def same(a, b, path="", out=None):
    """Figures of two results that differ by more than 1e-9 relative."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in ("owners", "owner_names", "limits"):
                same(a.get(k), b.get(k), f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]", out)
    elif isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and
                abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)):
            out.append(f"{path}: {a} != {b}")
    elif a != b:
        out.append(f"{path}: {a} != {b}")
    return out


def main(argv):
    if argv[0] == "--same":
        with open(argv[1]) as f, open(argv[2]) as g:
            diff = same(json.load(f), json.load(g))
        check(not diff, f"{argv[1]} and {argv[2]} agree" +
              "".join("\n#   " + d for d in diff[:10]))
        return 1 if failures else 0
    target, positive = "diagnosis", None
    i = 0
    while argv[i] != "--":
        if argv[i] == "--target":
            target, i = argv[i + 1], i + 2
        elif argv[i] == "--positive":
            positive, i = argv[i + 1], i + 2
        else:
            break
    csvs = argv[i:argv.index("--")]
    results = argv[argv.index("--") + 1:]
    header, rows = load(csvs)
    tcol = header.index(target)
    num_cols = [c for c in range(len(header)) if c != tcol]
    X = np.array([[float(r[c]) for c in num_cols] for r in rows])
    labels = [r[tcol] for r in rows]
    y = np.array([1 if v == positive else 0 for v in labels])
    print(f"# reference: numpy {np.__version__}, scikit-learn {sklearn.__version__},"
          f" {len(rows)} rows, {X.shape[1]} features")

    for path in results:
        with open(path) as f:
            res = json.load(f)
        print(f"# {path}")
        cols = {c["name"]: c for c in res["columns"]}
        worst = {"mean": 0.0, "sd": 0.0, "order": 0.0}
        all_ok = res["rows"] == len(rows)
        for k, c in enumerate(num_cols):
            got, x = cols[header[c]], X[:, k]
            all_ok &= got["n"] == len(x)
            worst["mean"] = max(worst["mean"], rel(got["mean"], x.mean()))
            worst["sd"] = max(worst["sd"], rel(got["sd"], x.std(ddof=1)))
            if got["order_statistics"] == "exact":
                want = [x.min(), x.max()] + [np.quantile(x, float(p))
                                             for p in got["quantiles"]]
                have = [got["min"], got["max"]] + list(got["quantiles"].values())
                worst["order"] = max([worst["order"]] +
                                     [rel(a, b) for a, b in zip(have, want)])
        check(all_ok and worst["mean"] <= REL_TOL and worst["sd"] <= REL_TOL and
              worst["order"] == 0,
              f"descriptive statistics match numpy (largest relative deviation:"
              f" mean {worst['mean']:.1e}, sd {worst['sd']:.1e}, min/max/quantiles"
              f" {worst['order']:.1e})")
        counts = cols[target]["counts"]
        want = {v: labels.count(v) for v in counts}
        check(counts == want, f"category counts {counts} match")

        m = res.get("model")
        if m is None:
            continue
        sc = StandardScaler().fit(X)
        Z = sc.transform(X)
        feats = m["features"]
        dev_scale = max(max(rel(f["mean"], mu) if mu else abs(f["mean"]),
                            rel(f["scale"], s))
                        for f, mu, s in zip(feats, sc.mean_, sc.scale_))
        check(dev_scale <= REL_TOL, f"standardisation matches StandardScaler"
              f" (largest relative deviation {dev_scale:.1e})")
        if m["penalty"] == "none" and m["status"] == "separated":
            # Separable iff some (v, c) has s_i (z_i . v + c) >= 1 for all i.
            s = 2 * y - 1
            A = -(np.hstack([Z, np.ones((len(y), 1))]) * s[:, None])
            lp = linprog(np.zeros(Z.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(y)),
                         bounds=[(None, None)] * (Z.shape[1] + 1), method="highs")
            check(lp.status == 0, "scipy finds a separating hyperplane, so the"
                  " unpenalised fit has no finite solution, as the app says")
            check(m["finite_solution"] is False and m["intercept"] is None and
                  all(f["coef"] is None for f in feats),
                  "no coefficients are reported for it")
            continue
        lr = LogisticRegression(C=m["C"], solver="newton-cholesky", tol=1e-10,
                                max_iter=1000).fit(Z, y)
        got = np.array([f["coef"] for f in feats] + [m["intercept"]])
        want = np.concatenate([lr.coef_[0], lr.intercept_])
        dev = np.max(np.abs(got - want))
        check(m["status"] == "converged" and dev <= COEF_TOL,
              f"C={m['C']}: coefficients and intercept within {COEF_TOL} of"
              f" scikit-learn (largest deviation {dev:.1e}; app {m['iterations']}"
              f" iterations, sklearn {lr.n_iter_[0]})")
        acc = lr.score(Z, y)
        check(m["training_accuracy"] == acc,
              f"training accuracy {m['training_accuracy']} = sklearn's {acc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
