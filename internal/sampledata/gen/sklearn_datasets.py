#!/usr/bin/python3
"""Write breast_cancer.csv, diabetes.csv and wine.csv into internal/sampledata.

Run by hand, once, from the repository root (tests never run it):

    /usr/bin/python3 internal/sampledata/gen/sklearn_datasets.py

It needs scikit-learn (Debian: python3-sklearn); the three datasets ship
inside scikit-learn, so nothing is downloaded. Column names are the
loaders' feature names, unchanged. Values are written with repr(), the
shortest text that reads back as the same float64.
"""
import csv
import os

from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def fmt(v):
    # Every value is a float64 in the loaders, whole ones too (wine's
    # magnesium, diabetes' age): repr writes those as "127.0", as pandas'
    # to_csv does, which is what users feed mlserve.
    return repr(float(v))


def write(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    print("wrote", path, len(rows), "rows")


def main():
    # Breast cancer (Wisconsin diagnostic): 569 rows, 30 features; the
    # loader's target is 0 = malignant, 1 = benign; we write its names.
    bc = load_breast_cancer()
    write("breast_cancer.csv", list(bc.feature_names) + ["diagnosis"],
          [[fmt(v) for v in x] + [bc.target_names[y]] for x, y in zip(bc.data, bc.target)])

    # Diabetes: the raw (unscaled) version, scaled=False: age in years,
    # sex 1/2, bmi, bp, s1-s6 as measured; target is disease progression
    # one year after baseline.
    db = load_diabetes(scaled=False)
    write("diabetes.csv", list(db.feature_names) + ["progression"],
          [[fmt(v) for v in x] + [fmt(y)] for x, y in zip(db.data, db.target)])

    # Wine: 178 rows, 13 features, three cultivars class_0..class_2.
    wi = load_wine()
    write("wine.csv", list(wi.feature_names) + ["cultivar"],
          [[fmt(v) for v in x] + [wi.target_names[y]] for x, y in zip(wi.data, wi.target)])


if __name__ == "__main__":
    main()
