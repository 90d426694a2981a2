#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Makes this directory's files from ../breast_cancer.csv (run it from
# anywhere; stdlib only): the three hospitals of the pooled-stats tour
# and tests (rows 0-189, 190-379, 380-568 of the table, values copied
# byte for byte), each with a header line, the label as text, and
# schema.txt, the schema parameter that describes them.
import os

here = os.path.dirname(os.path.abspath(__file__))
# The column names of sklearn.datasets.load_breast_cancer().feature_names.
feats = ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
         "concavity", "concave points", "symmetry", "fractal dimension")
names = ([f"mean {x}" for x in feats] + [f"{x} error" for x in feats] +
         [f"worst {x}" for x in feats])
with open(os.path.join(here, "..", "breast_cancer.csv")) as f:
    first = f.readline().strip().split(",")
    rows = [line.rstrip("\n").split(",") for line in f]
assert int(first[0]) == len(rows) == 569 and int(first[1]) == len(names) == 30
labels = first[2:]  # index = the file's class code
header = ",".join(names + ["diagnosis"]) + "\n"
for name, lo, hi in (("hospital-a", 0, 190), ("hospital-b", 190, 380),
                     ("hospital-c", 380, 569)):
    with open(os.path.join(here, name + ".csv"), "w") as f:
        f.write(header)
        for r in rows[lo:hi]:
            f.write(",".join(r[:30] + [labels[int(r[30])]]) + "\n")
with open(os.path.join(here, "schema.txt"), "w") as f:
    f.write("".join(f"{n}:num[0,];\n" for n in names))
    f.write("diagnosis:cat{%s}\n" % ",".join(labels))
