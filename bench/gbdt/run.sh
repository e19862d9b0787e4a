#!/usr/bin/env bash
# Compare mlserve's gbdt with XGBoost on the 1,000,000 x 20 synthetic data of
# the training peers (gen_synth.py): fit time, holdout AUC, batch prediction
# rows/s and peak RSS, both measured in this one run, medians over REPS runs
# that alternate (XGBoost, gbdt, XGBoost, gbdt, ...), and their ratios.
#
#   bash bench/gbdt/run.sh            (from the repository root)
#
# Needs (nothing is installed for you; the script stops and says what is
# missing):
#   - a Go toolchain (builds bench/gbdt into a temporary folder);
#   - Debian's /usr/bin/python3 with XGBoost, scikit-learn, pandas and numpy:
#       apt-get install -y python3-xgboost python3-sklearn python3-pandas
#   - the synthetic CSV at $CSV. If it is missing the script writes it with
#     $PEERS/gen_synth.py (about 15 s, 136 MB) and says so.
#
# Both sides train on the first 80 % of rows and score the last 20 %, with
# XGBoost's settings of the peers' table: 100 trees, depth 6, learning rate
# 0.3, L2 1, 2 threads. gbdt gets the same (max_leaves 0: depth-wise) and
# splits c0..c2 as categories (NATIVE=false: as numbers, as XGBoost gets
# them). Prediction is all 1,000,000 rows in one batch call.
#
# Environment: CSV=/tmp/synth1m.csv PEERS=/work/shared/bench/peers REPS=3
# NATIVE=true OUT=(folder for the raw JSON lines, default a new /tmp/gbdt-bench.*)
# QUIET_PCT=10 QUIET_TIMEOUT=300: before each run wait (up to the timeout)
# until the machine is under QUIET_PCT % busy. OTHER_MAX=0.15 RETRIES=3: a
# run during whose fit or prediction other processes used more than
# OTHER_MAX cores is set aside (kept in discarded.jsonl) and redone, up to
# RETRIES tries; the load seen is reported.
set -euo pipefail

CSV=${CSV:-/tmp/synth1m.csv}
PEERS=${PEERS:-/work/shared/bench/peers}
REPS=${REPS:-3}
NATIVE=${NATIVE:-true}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-300}
OTHER_MAX=${OTHER_MAX:-0.15}
RETRIES=${RETRIES:-3}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "run.sh: $*" >&2; exit 1; }

command -v go >/dev/null || die "needs a Go toolchain (go) on PATH"
[ -x "$PY" ] || die "needs Debian's $PY"
"$PY" -c 'import xgboost, sklearn, pandas, numpy' 2>/dev/null ||
	die "needs XGBoost, scikit-learn and pandas for $PY: apt-get install -y python3-xgboost python3-sklearn python3-pandas"

if [ ! -f "$CSV" ]; then
	[ -f "$PEERS/gen_synth.py" ] || die "no $CSV and no $PEERS/gen_synth.py to write it (set CSV or PEERS)"
	echo "run.sh: $CSV is missing; writing it with $PEERS/gen_synth.py" >&2
	"$PY" "$PEERS/gen_synth.py" --out "$CSV"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=${OUT:-$(mktemp -d /tmp/gbdt-bench.XXXXXX)}
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$WORK/gbdt-bench" ./bench/gbdt)

# busy_pct: percent of the machine busy over one second (/proc/stat).
busy_pct() {
	local a b
	a=($(head -1 /proc/stat))
	sleep 1
	b=($(head -1 /proc/stat))
	local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]) - (a[1]+a[2]+a[3]+a[6]+a[7]) ))
	local total=$(( (b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]+a[8]) ))
	echo $(( 100 * busy / (total > 0 ? total : 1) ))
}

# wait_quiet: wait until the machine is quiet; print the busy percent seen.
wait_quiet() {
	local waited=0 b
	while :; do
		b=$(busy_pct)
		if [ "$b" -lt "$QUIET_PCT" ] || [ "$waited" -ge "$QUIET_TIMEOUT" ]; then
			echo "$b"
			return
		fi
		waited=$((waited + 1))
	done
}

# measure NAME CMD...: run CMD (it prints one JSON line) on a quiet machine,
# redoing it while other processes got in the way; append the line to
# $OUT/NAME.jsonl.
measure() {
	local name=$1 try line b
	shift
	for try in $(seq "$RETRIES"); do
		b=$(wait_quiet)
		echo "  $name, try $try (machine ${b}% busy before)" >&2
		line=$("$@" | sed "s/^{/{\"busy_before_pct\": $b, \"try\": $try, /")
		if [ "$try" -eq "$RETRIES" ] || "$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(max(r["fit_other_cores"], r["predict_other_cores"]) > float(sys.argv[2]))' "$line" "$OTHER_MAX"; then
			echo "$line" >>"$OUT/$name.jsonl"
			return
		fi
		echo "  other processes got in the way; doing it again" >&2
		echo "$line" >>"$OUT/discarded.jsonl"
	done
}

echo "gbdt vs XGBoost: $CSV, $REPS runs each, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), $(go version | cut -d' ' -f3), XGBoost $("$PY" -c 'import xgboost; print(xgboost.__version__)'), native categories $NATIVE" >&2
for i in $(seq "$REPS"); do
	echo "run $i" >&2
	measure xgboost "$PY" "$HERE/xgb.py" --csv "$CSV" --threads 2
	measure gbdt env GOMAXPROCS=2 "$WORK/gbdt-bench" -csv "$CSV" -native="$NATIVE" \
		-param n_trees=100 -param max_depth=6 -param max_leaves=0 -param learning_rate=0.3 -param l2=1
done
touch "$OUT/discarded.jsonl"

"$PY" - "$OUT/xgboost.jsonl" "$OUT/gbdt.jsonl" "$OUT/discarded.jsonl" <<'EOF'
import json, statistics, sys
xs = [json.loads(l) for l in open(sys.argv[1])]
gs = [json.loads(l) for l in open(sys.argv[2])]
def med(rows, k):
    return statistics.median(r[k] for r in rows)
rows = [
    ("fit seconds", "fit_seconds", "{:.2f}", "gbdt/XGBoost (goal <= 1.00)"),
    ("holdout AUC", "holdout_auc", "{:.4f}", "gbdt - XGBoost (goal >= -0.002)"),
    ("predict rows/s", "predict_rows_per_s", "{:,.0f}", "gbdt/XGBoost (goal >= 1.00)"),
    ("peak RSS MB", "peak_rss_mb", "{:.0f}", "gbdt/XGBoost"),
]
print(f"| median of {len(xs)} runs | XGBoost | gbdt | comparison |")
print("|---|---:|---:|---|")
for name, k, fmt, how in rows:
    x, g = med(xs, k), med(gs, k)
    cmp = f"{g - x:+.4f}" if k == "holdout_auc" else f"{g / x:.2f}"
    print(f"| {name} | {fmt.format(x)} | {fmt.format(g)} | {cmp} {how} |")
print()
print("fit seconds, every run: XGBoost", [round(r["fit_seconds"], 2) for r in xs],
      "gbdt", [round(r["fit_seconds"], 2) for r in gs])
print("fit CPU seconds (median): XGBoost", round(med(xs, "fit_cpu_seconds"), 2),
      "gbdt", round(med(gs, "fit_cpu_seconds"), 2))
print("machine busy before each run (%): XGBoost", [r["busy_before_pct"] for r in xs],
      "gbdt", [r["busy_before_pct"] for r in gs])
print("other processes during each fit (cores): XGBoost", [round(r["fit_other_cores"], 2) for r in xs],
      "gbdt", [round(r["fit_other_cores"], 2) for r in gs])
print("other processes during prediction (cores, worst): XGBoost", [round(r["predict_other_cores"], 2) for r in xs],
      "gbdt", [round(r["predict_other_cores"], 2) for r in gs])
print("runs redone because of other processes:", sum(1 for _ in open(sys.argv[3])))
EOF
echo "raw runs: $OUT/xgboost.jsonl $OUT/gbdt.jsonl" >&2
