#!/usr/bin/python3
"""Write the scikit-learn golden files for the linear-model parity tests.

Run with Debian 12's python3-sklearn (1.2.1), numpy and pandas:

    /usr/bin/python3 make_golden.py --data ../../../../sampledata --out .

For each dataset it builds the design matrix exactly as mlserve's OneHot
encoding does (see README.md), fits scikit-learn on all rows and writes
<dataset>.json with the design matrix, the target, the fitted coefficients,
the predictions and a few in-sample metrics.
"""

import argparse
import contextlib
import json
import math
import os
import types
import warnings

import numpy as np
import pandas as pd
import sklearn
from scipy import optimize
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, Ridge
from sklearn.linear_model import _logistic
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

TOL = 1e-10
MAX_ITER = 100000

DATASETS = {
    "seed_titanic": {
        "file": "seed_titanic.csv",
        "target": {"name": "survived", "values": ["0", "1"]},
        "task": "binary",
        "columns": [
            {"name": "class", "type": "category", "values": ["1", "2", "3"]},
            {"name": "sex", "type": "category", "values": ["male", "female"]},
            {"name": "age", "type": "number", "nullable": True},
            {"name": "embarked", "type": "category", "values": ["C", "S", "Q"], "nullable": True},
        ],
    },
    "iris": {
        "file": "iris.csv",
        "target": {"name": "species", "values": None},  # sorted observed labels
        "task": "multiclass",
        "columns": [
            {"name": "sepal_length", "type": "number"},
            {"name": "sepal_width", "type": "number"},
            {"name": "petal_length", "type": "number"},
            {"name": "petal_width", "type": "number"},
        ],
    },
    "tips": {
        "file": "tips.csv",
        "target": {"name": "tip"},
        "task": "regression",
        "columns": [
            {"name": "total_bill", "type": "number"},
            {"name": "sex", "type": "category", "values": ["Female", "Male"]},
            {"name": "smoker", "type": "category", "values": ["No", "Yes"]},
            {"name": "day", "type": "category", "values": ["Fri", "Sat", "Sun", "Thur"]},
            {"name": "time", "type": "category", "values": ["Dinner", "Lunch"]},
            {"name": "size", "type": "integer"},
        ],
    },
}


@contextlib.contextmanager
def lifted_ftol():
    """Run sklearn's lbfgs with scipy's L-BFGS-B ftol set to 0.

    sklearn passes only gtol and maxiter to scipy, so scipy's default
    ftol (2.2e-9 relative decrease of the objective) ends the run early:
    on iris 1.3e-4 short of the optimum in the coefficients, whatever tol
    is. With ftol 0 only gtol (tol) and max_iter stop it, and the golden
    coefficients are the optimum of sklearn's objective.
    """
    def minimize(*args, **kwargs):
        kwargs["options"] = dict(kwargs.get("options") or {}, ftol=0.0)
        return optimize.minimize(*args, **kwargs)

    saved = _logistic.optimize
    _logistic.optimize = types.SimpleNamespace(minimize=minimize)
    try:
        yield
    finally:
        _logistic.optimize = saved


def read(path):
    # Only an empty field is missing; every field is read as text.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def design(df, columns):
    """Return (names, raw design columns, per-column notes) before scaling."""
    names, cols, notes = [], [], []
    for c in columns:
        s = df[c["name"]]
        missing = s.isna().to_numpy()
        nullable = c.get("nullable", False)
        if c["type"] in ("number", "integer", "boolean"):
            v = s.astype(float).to_numpy()
            med = float(np.median(v[~missing])) if (~missing).any() else 0.0
            names.append(c["name"])
            cols.append(np.where(missing, med, v))
            notes.append({"source": c["name"], "kind": "value", "median": med})
            if nullable:
                names.append(c["name"] + ":missing")
                cols.append(missing.astype(float))
                notes.append({"source": c["name"], "kind": "missing"})
        elif c["type"] == "category":
            values = c.get("values") or sorted(s.dropna().unique().tolist())
            for lv in values:
                names.append(c["name"] + "=" + lv)
                cols.append((s == lv).to_numpy().astype(float))
                notes.append({"source": c["name"], "kind": "level", "level": lv})
            if nullable:
                names.append(c["name"] + ":missing")
                cols.append(missing.astype(float))
                notes.append({"source": c["name"], "kind": "missing"})
            names.append(c["name"] + ":unseen")
            cols.append(np.zeros(len(s)))
            notes.append({"source": c["name"], "kind": "unseen"})
        else:
            raise ValueError(c["type"])
    X = np.column_stack(cols)
    return names, X, notes


def standardise(X, notes):
    mean = X.mean(axis=0)
    std = X.std(axis=0)  # population std, ddof=0
    scale = np.where(std == 0, 1.0, std)
    for j, n in enumerate(notes):
        n["mean"] = float(mean[j])
        n["scale"] = float(scale[j])
    return (X - mean) / scale


def rows(a):
    return [[float(v) for v in r] for r in np.atleast_2d(a)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "sampledata"))
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()

    for name, spec in DATASETS.items():
        df = read(os.path.join(args.data, spec["file"]))
        names, X, notes = design(df, spec["columns"])
        X = standardise(X, notes)
        t = df[spec["target"]["name"]]
        out = {
            "dataset": name,
            "made_with": {"sklearn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__},
            "task": spec["task"],
            "target": spec["target"]["name"],
            "feature_names": names,
            "columns": notes,
        }
        if spec["task"] == "regression":
            y = t.astype(float).to_numpy()
            m = Ridge(alpha=1.0).fit(X, y)
            pred = m.predict(X)
            out.update(
                alpha=1.0,
                coef=[float(v) for v in m.coef_],
                intercept=[float(m.intercept_)],
                predictions=[float(v) for v in pred],
                metrics={
                    "rmse": math.sqrt(mean_squared_error(y, pred)),
                    "mae": mean_absolute_error(y, pred),
                    "r2": r2_score(y, pred),
                },
            )
        else:
            classes = spec["target"]["values"] or sorted(t.unique().tolist())
            y = t.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(int)
            with lifted_ftol():
                m = LogisticRegression(solver="lbfgs", C=1.0, tol=TOL, max_iter=MAX_ITER).fit(X, y)
            # The same with scipy's default ftol, and an independent solver,
            # to show how far each is from the golden optimum.
            plain = LogisticRegression(solver="lbfgs", C=1.0, tol=TOL, max_iter=MAX_ITER).fit(X, y)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # 1e-10 is beyond newton-cg's reach
                ncg = LogisticRegression(solver="newton-cg", C=1.0, tol=1e-10, max_iter=1000).fit(X, y)
            for label, o in (("lbfgs default ftol", plain), ("newton-cg", ncg)):
                print(name, label, "n_iter", o.n_iter_, "max |coef diff|", np.abs(m.coef_ - o.coef_).max(),
                      "max |intercept diff|", np.abs(m.intercept_ - o.intercept_).max())
            proba = m.predict_proba(X)
            pred = proba.argmax(axis=1)
            metrics = {"accuracy": accuracy_score(y, pred), "log_loss": log_loss(y, proba, eps=1e-15)}
            if len(classes) == 2:
                metrics["roc_auc"] = roc_auc_score(y, proba[:, 1])
                metrics["f1"] = f1_score(y, pred)
            else:
                metrics["roc_auc"] = roc_auc_score(y, proba, multi_class="ovr", average="macro")
                metrics["macro_f1"] = f1_score(y, pred, average="macro")
            out.update(
                classes=classes,
                C=1.0,
                tol=TOL,
                coef=rows(m.coef_),
                intercept=[float(v) for v in m.intercept_],
                predict_proba=rows(proba),
                metrics=metrics,
                lbfgs_default_ftol={
                    "coef": rows(plain.coef_),
                    "intercept": [float(v) for v in plain.intercept_],
                    "predict_proba": rows(plain.predict_proba(X)),
                },
            )
            if name == "seed_titanic":
                # Outer 5-fold CV of LogisticRegressionCV(Cs=10, cv=5) on the same
                # design matrix: the reference for the Go CV numbers.
                outer = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
                acc, auc, chosen = [], [], []
                for tr, te in outer.split(X, y):
                    cv = LogisticRegressionCV(Cs=10, cv=5, max_iter=1000).fit(X[tr], y[tr])
                    p = cv.predict_proba(X[te])
                    acc.append(accuracy_score(y[te], p.argmax(axis=1)))
                    auc.append(roc_auc_score(y[te], p[:, 1]))
                    chosen.append(float(cv.C_[0]))
                out["cv_reference"] = {
                    "what": "StratifiedKFold(5, shuffle=True, random_state=42) outer folds; "
                    "LogisticRegressionCV(Cs=10, cv=5, max_iter=1000) inside",
                    "accuracy": float(np.mean(acc)),
                    "roc_auc": float(np.mean(auc)),
                    "C_chosen": chosen,
                }
                print(name, "cv reference", out["cv_reference"])
        out["X"] = rows(X)
        out["y"] = [float(v) for v in y]
        path = os.path.join(args.out, name + ".json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
