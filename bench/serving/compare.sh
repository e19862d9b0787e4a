#!/usr/bin/env bash
# Compares two revisions of mlserve's api over the wire, route by route, in
# alternated rounds of the same run (these machines are noisy: only ratios
# within one run mean much).
#
#   bash bench/serving/compare.sh OLD [NEW]     (git revisions; NEW: the work tree)
#
# It builds both (git worktree for a revision), trains the titanic model in a
# temporary folder (init --example titanic, ingest-file seed_titanic.csv,
# train --wait, then 200 more rows and a second training, so version 2 exists
# and is not production), starts one `mlserve api` per binary pinned to
# SERVER_CPU, and runs wrk pinned to WRK_CPU against each route:
#   prototype   GET /?class=1&sex=male&age=22&embarked=S
#   infer       POST /v2/models/titanic/infer, one row
#   infer_v2    POST /v2/models/titanic/versions/2/infer, one row
#   predict     POST /v1/models/titanic/predict, one instance
# and prints, per route, req/s and p99 of each round and the median of the
# per-round ratios NEW/OLD.
#
# Needs go, git, wrk, taskset, curl. Knobs: ROUNDS=5 DURATION=3 CONNS=64
# SERVER_CPU=0 WRK_CPU=1 ROUTES="prototype infer infer_v2 predict"
# SEED_CSV=<repo>/internal/sampledata/seed_titanic.csv
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/serving/lib.sh
. "$ROOT/bench/serving/lib.sh"
OLD=${1:?usage: compare.sh OLD [NEW]}
NEW=${2:-}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
ROUTES=${ROUTES:-prototype infer infer_v2 predict}
SEED_CSV=${SEED_CSV:-$ROOT/internal/sampledata/seed_titanic.csv}
for c in go git wrk taskset curl; do
	command -v "$c" >/dev/null || { echo "compare.sh needs $c" >&2; exit 2; }
done
[[ -r $SEED_CSV ]] || { echo "compare.sh: $SEED_CSV is missing (set SEED_CSV)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/bench-compare.XXXXXX)
# One artifact folder both binaries name alike: the default under the data
# dir moved (DATA/artifacts/artifacts -> DATA/artifacts), so revisions on
# either side of that change would not find each other's artifacts.
export MLSERVE_ARTIFACTS_URL="file://$TMP/artifacts"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	git -C "$ROOT" worktree remove --force "$TMP/src-old" 2>/dev/null || true
	git -C "$ROOT" worktree remove --force "$TMP/src-new" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

build() { # REV|"" OUT
	if [[ -z $1 ]]; then
		go build -C "$ROOT" -o "$2" ./cmd/mlserve
		return
	fi
	local src="$TMP/src-$(basename "$2")"
	git -C "$ROOT" worktree add -q --detach "$src" "$1"
	go build -C "$src" -o "$2" ./cmd/mlserve
}
echo "== build old ($OLD) and new (${NEW:-work tree})"
build "$OLD" "$TMP/old"
build "$NEW" "$TMP/new"

echo "== train the titanic model (version 1 production, version 2 rejected)"
mkdir -p "$TMP/work"
(
	cd "$TMP/work"
	../new init --example titanic >/dev/null
	../new --data-dir data --log-level warn ingest-file titanic "$SEED_CSV" >/dev/null
	../new --data-dir data --log-level warn train titanic --wait >/dev/null
	# A second training on the same rows would reproduce v1 ("same as v1",
	# no version): 200 rows more make a v2; production stays v1.
	head -n 201 "$SEED_CSV" >more.csv
	../new --data-dir data --log-level warn ingest-file titanic more.csv >/dev/null
	../new --data-dir data --log-level warn train titanic --wait >/dev/null || true
	../new --data-dir data --log-level warn promote titanic 1 >/dev/null 2>&1 || true
)

free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
declare -A PORT
for b in old new; do
	PORT[$b]=$(free_port)
	(cd "$TMP/work" && exec taskset -c "$SERVER_CPU" "$TMP/$b" --data-dir data --log-level warn api --addr "127.0.0.1:${PORT[$b]}") >"$TMP/$b.log" 2>&1 &
	PIDS+=($!)
done
for b in old new; do
	for _ in $(seq 1 100); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$b]}/readyz" || true) == 200 ]] && break
		sleep 0.1
	done
done

printf '%s' "$INFER_ROW" >"$TMP/infer.json"
printf '%s' '{"class": 1, "sex": "male", "age": 22, "embarked": "S"}' >"$TMP/predict.json"
for f in infer predict; do
	post_script "$TMP/$f.json" "$TMP/$f.lua"
done
target() { # ROUTE BINARY -> wrk arguments
	local base="http://127.0.0.1:${PORT[$2]}"
	case $1 in
	prototype) echo "$base/?class=1&sex=male&age=22&embarked=S" ;;
	infer) echo "-s $TMP/infer.lua $base/v2/models/titanic/infer" ;;
	infer_v2) echo "-s $TMP/infer.lua $base/v2/models/titanic/versions/2/infer" ;;
	predict) echo "-s $TMP/predict.lua $base/v1/models/titanic/predict" ;;
	*) echo "unknown route $1" >&2; exit 2 ;;
	esac
}
for r in $ROUTES; do
	for b in old new; do
		# shellcheck disable=SC2046
		out=$(taskset -c "$WRK_CPU" wrk -t1 "-c$CONNS" -d1s $(target "$r" "$b"))
		if grep -q Non-2xx <<<"$out"; then
			echo "$r on $b answers non-2xx:" >&2
			echo "$out" >&2
			exit 1
		fi
	done
done

echo "== $ROUNDS rounds of ${DURATION} s per route and binary, alternated (server on CPU $SERVER_CPU, wrk -t1 -c$CONNS on CPU $WRK_CPU)"
for r in $ROUTES; do
	ratios=()
	for i in $(seq 1 "$ROUNDS"); do
		line=""
		declare -A RPS=()
		for b in old new; do
			# shellcheck disable=SC2046
			out=$(taskset -c "$WRK_CPU" wrk -t1 "-c$CONNS" "-d${DURATION}s" --latency $(target "$r" "$b"))
			RPS[$b]=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
			line+=" $b ${RPS[$b]} req/s (p99 $(awk '$1=="99%"{print $2}' <<<"$out"))"
		done
		ratios+=("$(awk -v a="${RPS[new]}" -v b="${RPS[old]}" 'BEGIN{printf "%.3f", a/b}')")
		echo "   $r round $i:$line"
	done
	med=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}')
	echo "$r: new/old median of per-round ratios $med"
done
