#!/usr/bin/python3
"""scikit-learn's side of the gbdt quality check (internal/ml/gbdt/quality_test.go).

  /usr/bin/python3 bench/gbdt/sklearn_quality.py [--data internal/sampledata] \
      [--out internal/ml/gbdt/testdata/quality]

For titanic, iris and tips it encodes the features exactly as the Go test
does (numbers as they are, NaN for missing; categories as integer codes in
the order listed below, NaN for missing), draws 5 folds with
StratifiedKFold(shuffle=True, random_state=0) (KFold for the regression),
and scores HistGradientBoosting{Classifier,Regressor} with its defaults
(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
l2_regularization=0; early stopping is off below 10,000 rows) and the
categorical features declared. It writes <dataset>.json with the fold of
every row (the Go test uses the same folds) and the mean score over folds
(accuracy, or R² for tips). Run with Debian 12's python3-sklearn (1.2.1).
"""
import argparse
import json
import os

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold

# name: file, target, target classes (None = regression), features in order
# with their category levels (None = numeric).
DATASETS = {
    "titanic": ("titanic.csv", "survived", ["0", "1"], [
        ("pclass", None), ("sex", ["male", "female"]), ("age", None), ("sibsp", None),
        ("parch", None), ("fare", None), ("embarked", ["S", "C", "Q"]),
    ]),
    "iris": ("iris.csv", "species", ["setosa", "versicolor", "virginica"], [
        ("sepal_length", None), ("sepal_width", None), ("petal_length", None), ("petal_width", None),
    ]),
    "tips": ("tips.csv", "tip", None, [
        ("total_bill", None), ("sex", ["Female", "Male"]), ("smoker", ["No", "Yes"]),
        ("day", ["Thur", "Fri", "Sat", "Sun"]), ("time", ["Lunch", "Dinner"]), ("size", None),
    ]),
}


def encode(df, features):
    cols = []
    for name, levels in features:
        if levels is None:
            cols.append(pd.to_numeric(df[name], errors="coerce").astype(float).values)
        else:
            m = {v: float(i) for i, v in enumerate(levels)}
            cols.append(df[name].map(lambda v: m.get(str(v), np.nan)).astype(float).values)
    return np.column_stack(cols)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "internal", "sampledata"))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "internal", "ml", "gbdt", "testdata", "quality"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, (file, target, classes, features) in DATASETS.items():
        df = pd.read_csv(os.path.join(a.data, file), dtype=str, keep_default_na=False, na_values=[""])
        X = encode(df, features)
        cat = [levels is not None for _, levels in features]
        if classes is None:
            y = df[target].astype(float).values
            splits = KFold(n_splits=5, shuffle=True, random_state=0).split(X)
        else:
            y = df[target].map({c: i for i, c in enumerate(classes)}).astype(int).values
            splits = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y)
        folds = np.zeros(len(y), dtype=int)
        scores = []
        for k, (tr, te) in enumerate(splits):
            folds[te] = k
            if classes is None:
                m = HistGradientBoostingRegressor(categorical_features=cat, random_state=0).fit(X[tr], y[tr])
                scores.append(r2_score(y[te], m.predict(X[te])))
            else:
                m = HistGradientBoostingClassifier(categorical_features=cat, random_state=0).fit(X[tr], y[tr])
                scores.append(accuracy_score(y[te], m.predict(X[te])))
        out = {
            "dataset": file,
            "sklearn": sklearn.__version__,
            "model": ("HistGradientBoostingRegressor" if classes is None else "HistGradientBoostingClassifier")
            + "(defaults, categorical_features declared)",
            "metric": "r2" if classes is None else "accuracy",
            "score": float(np.mean(scores)),
            "fold_scores": [float(s) for s in scores],
            "folds": folds.tolist(),
        }
        with open(os.path.join(a.out, name + ".json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(f"{name}: {out['metric']} {out['score']:.4f}")


if __name__ == "__main__":
    main()
