#!/usr/bin/python3
"""XGBoost side of the gbdt comparison (bench/gbdt/run.sh).

  /usr/bin/python3 bench/gbdt/xgb.py --csv /tmp/synth1m.csv [--reps 1]

Reads the synthetic CSV of gen_synth.py with pandas, trains XGBClassifier
(tree_method=hist, n_estimators=100, max_depth=6, learning_rate=0.3,
n_jobs=2, categories as plain integers, as the 2026-11-26 training peers)
on the first 80 % of rows, scores the last 20 %, times predict_proba on all
rows, and prints one JSON object with the same keys as bench/gbdt/main.go:
fit_seconds (median of --reps), fit_cpu_seconds (this process),
fit_other_cores (CPU the rest of the machine used during the fit, in cores;
the worst fit), holdout_auc, predict_rows_per_s (median of --predict-reps),
predict_other_cores (as fit_other_cores) and peak_rss_mb (VmHWM of this
process).
"""
import argparse
import json
import os
import resource
import statistics
import time

import numpy as np
import pandas as pd
import xgboost
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier


def machine_busy_s():
    """CPU seconds the whole machine has been busy (/proc/stat)."""
    f = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / os.sysconf("SC_CLK_TCK")


def own_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", default="/tmp/synth1m.csv")
    ap.add_argument("--train", type=float, default=0.8)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--predict-reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    t0 = time.perf_counter()
    df = pd.read_csv(a.csv)
    load_s = time.perf_counter() - t0
    feats = [c for c in df.columns if c != "y"]
    X = df[feats].astype(np.float64)
    y = df["y"].values
    ntr = int(len(df) * a.train)
    Xtr, ytr, Xte, yte = X.iloc[:ntr], y[:ntr], X.iloc[ntr:], y[ntr:]
    fits, cpus, others = [], [], []
    model = None
    for _ in range(a.reps):
        model = XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.3, tree_method="hist",
                              n_jobs=a.threads, random_state=0)
        b0, c0, t = machine_busy_s(), own_cpu_s(), time.perf_counter()
        model.fit(Xtr, ytr)
        w = time.perf_counter() - t
        c = own_cpu_s() - c0
        fits.append(w)
        cpus.append(c)
        others.append((machine_busy_s() - b0 - c) / w)
    p = model.predict_proba(Xte)[:, 1]
    preds, pothers = [], []
    for _ in range(a.predict_reps):
        b0, c0, t = machine_busy_s(), own_cpu_s(), time.perf_counter()
        model.predict_proba(X)
        w = time.perf_counter() - t
        preds.append(w)
        pothers.append((machine_busy_s() - b0 - (own_cpu_s() - c0)) / w)
    pred_s = statistics.median(preds)
    print(json.dumps({
        "xgboost": xgboost.__version__,
        "rows": len(df),
        "train_rows": ntr,
        "holdout_rows": len(df) - ntr,
        "threads": a.threads,
        "load_seconds": load_s,
        "fit_seconds": statistics.median(fits),
        "fit_seconds_all": fits,
        "fit_cpu_seconds": statistics.median(cpus),
        "fit_other_cores": max(others),
        "holdout_auc": float(roc_auc_score(yte, p)),
        "predict_seconds": pred_s,
        "predict_rows_per_s": len(df) / pred_s,
        "predict_other_cores": max(pothers),
        "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
