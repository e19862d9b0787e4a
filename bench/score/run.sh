#!/usr/bin/env bash
# Batch scoring speed and memory: `mlserve score` on a ROWS-row synthetic
# CSV (21 columns, bench/score/gen) against the same binary reading and
# writing the same file without a model (`score --copy-only`, same reader,
# chunks and writer), alternated REPS times in one run, so the ratio shows
# the cost of scoring itself. Peak RSS from /usr/bin/time -v; the last step
# scores a file BIG_ROWS long to show the memory does not grow with it.
#
#   bash bench/score/run.sh            (from anywhere; results on stdout)
#
# The models: one pipeline per algorithm of ALGS (gbdt: n_trees 100,
# max_depth 6, learning rate 0.3, as the XGBoost peer; logistic), each
# trained on the first TRAIN_ROWS rows in an embedded store under a
# temporary folder. Besides wall time it reports CPU time (user + system,
# all cores) per row: on a shared machine the wall time mostly measures
# the other processes, the CPU time much less so.
# Environment: ROWS=1000000 BIG_ROWS=3000000 TRAIN_ROWS=100000 REPS=3
# ALGS="gbdt logistic" KEEP=0 (1 keeps the temporary folder). Needs Go and
# GNU time (/usr/bin/time). Not part of `make test`.
set -euo pipefail

ROWS=${ROWS:-1000000}
BIG_ROWS=${BIG_ROWS:-3000000}
TRAIN_ROWS=${TRAIN_ROWS:-100000}
REPS=${REPS:-3}
ALGS=${ALGS:-gbdt logistic}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "run.sh: $*" >&2; exit 1; }
command -v go >/dev/null || die "needs a Go toolchain (go) on PATH"
[ -x /usr/bin/time ] || die "needs GNU time at /usr/bin/time (apt-get install time)"

WORK=$(mktemp -d /tmp/score-bench.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && go build -o "$WORK/mlserve" ./cmd/mlserve && go build -o "$WORK/gen" ./bench/score/gen)
M="$WORK/mlserve"

"$WORK/gen" -rows "$ROWS" -o "$WORK/data.csv"
head -n $((TRAIN_ROWS + 1)) "$WORK/data.csv" >"$WORK/train.csv"

{
	echo "pipelines:"
	for alg in $ALGS; do
		params='{}'
		[ "$alg" = gbdt ] && params='{n_trees: 100, max_depth: 6, learning_rate: 0.3}'
		echo "  - name: synth_$alg"
		echo "    schema:"
		echo "      target: y"
		echo "      columns:"
		for i in $(seq 0 16); do echo "        - {name: x$i, type: number}"; done
		echo "        - {name: c0, type: category, values: [0, 1, 2, 3, 4]}"
		echo "        - {name: c1, type: category, values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}"
		echo "        - {name: c2, type: category, values: [$(seq -s ', ' 0 19)]}"
		echo "        - {name: y, type: category, values: [0, 1]}"
		echo "    model: {algorithm: $alg, params: $params, holdout: 0.2, seed: 42}"
		echo "    train: {on_new_rows: 0, min_rows: 50}"
		echo "    promote: {metric: roc_auc, min: 0.5}"
	done
} >"$WORK/mlserve.yaml"

cd "$WORK"
for alg in $ALGS; do
	"$M" ingest-file "synth_$alg" train.csv >/dev/null
	"$M" train "synth_$alg" --wait >/dev/null
done

# measure NAME ARGS...: runs mlserve ARGS under /usr/bin/time -v; prints
# "NAME wall_s cpu_s rss_kb" (cpu: user + system, every core).
measure() {
	local name=$1
	shift
	/usr/bin/time -v "$M" "$@" 2>"$WORK/time.txt" >/dev/null || { cat "$WORK/time.txt" >&2; die "$name failed"; }
	awk -F': ' -v name="$name" '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
		/User time \(seconds\)/ { c += $2 }
		/System time \(seconds\)/ { c += $2 }
		/Maximum resident set size/ { r = $2 }
		END { print name, w, c, r }' "$WORK/time.txt"
}

busy() { awk '{print $1}' /proc/loadavg; }

echo "# mlserve score: $ROWS rows x 21 columns, $(nproc) cores, $(date -u '+%F %H:%M UTC'), load average before: $(busy)"
echo
for rep in $(seq 1 "$REPS"); do
	measure copy score "synth_${ALGS%% *}" data.csv --copy-only -o out.csv
	for alg in $ALGS; do
		measure "$alg" score "synth_$alg" data.csv -o out.csv
	done
done >"$WORK/runs.txt"
awk -v rows="$ROWS" -v cores="$(nproc)" -v names="copy $ALGS" '
	{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3; r[$1, n[$1]] = $4 }
	function median(k, a,   i, j, t, v, m) {
		m = n[k]; for (i = 1; i <= m; i++) v[i] = a[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return v[int((m + 1) / 2)]
	}
	END {
		printf "| run | wall s | rows/s (wall) | CPU s | CPU ns/row | rows/s if %d cores were free | peak RSS MB |\n", cores
		printf "|---|---:|---:|---:|---:|---:|---:|\n"
		k = split(names, ks, " ")
		for (i = 1; i <= k; i++) {
			x = ks[i]; ws = median(x, w); cs = median(x, c); rs = median(x, r)
			printf "| %s | %.2f | %.0f | %.2f | %.0f | %.0f | %.0f |\n", x, ws, rows / ws, cs, cs * 1e9 / rows, rows * cores / cs, rs / 1024
			wall[x] = ws; cpu[x] = cs
		}
		printf "\nMedians of %d alternated runs. Ratios to copy (reading and writing the same file, no model):\n", n["copy"]
		for (i = 2; i <= k; i++) printf "- %s: wall %.2f, CPU %.2f\n", ks[i], wall[ks[i]] / wall["copy"], cpu[ks[i]] / cpu["copy"]
	}' "$WORK/runs.txt"
echo
echo "Raw runs (name wall_s cpu_s rss_kb):"
sed 's/^/    /' "$WORK/runs.txt"
echo "Load average after: $(busy)"

if [ "$BIG_ROWS" -gt 0 ]; then
	# Memory flat in the file size: the same model on a file BIG_ROWS long.
	"$WORK/gen" -rows "$BIG_ROWS" -seed 2 -o "$WORK/big.csv"
	alg=${ALGS%% *}
	read -r _ wall cpu rss < <(measure big score "synth_$alg" big.csv -o out.csv)
	echo
	echo "$alg on $BIG_ROWS rows ($(du -m big.csv | cut -f1) MB): wall $wall s, CPU $cpu s, peak RSS $((rss / 1024)) MB"
fi
