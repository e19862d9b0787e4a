#!/usr/bin/env bash
# Serving benchmark: mlserve's api against the bare Go net/http peer
# (hello.go, a handler writing a fixed JSON), measured with wrk in the same
# run, and against the recorded gunicorn + Flask + scikit-learn peer.
#
#   bash bench/serving/run.sh          (or: make bench-serving)
#
# What it does, all in a temporary folder:
#   1. builds mlserve and the hello peer (from the bench peers folder);
#   2. trains the titanic model: mlserve init --example titanic,
#      ingest-file titanic seed_titanic.csv, train titanic --wait;
#   3. starts `mlserve api` and the peers, all pinned to SERVER_CPU (taskset);
#      wrk runs pinned to WRK_CPU, so the server has one core to itself;
#   4. warms each up, then REPS rounds, alternating, of DURATION s each:
#        hello          GET /
#        fasthello      GET / on hello's twin on fasthttp (fasthello/), the
#                       ceiling of the stack mlserve's api runs on
#        gomodel        GET /?class=… on the plain Go peer doing the
#                       prototype's work (parse, validate, logistic,
#                       encoding/json; gomodel.go, when its weights file
#                       is there): what a framework-free Go server gets
#        mlserve        GET /?class=1&sex=male&age=22&embarked=S
#        mlserve-net    the same on an api with MLSERVE_HTTP_ENGINE=net/http
#                       (what `mlserve up` serves with)
#        gunicorn       the same route on the Flask peer (only when its
#                       Python packages are installed; see below)
#        infer          POST /v2/models/titanic/infer (Open Inference
#                       Protocol), one row, on the same api
#        mlserve batch  POST /v1/models/titanic/predict, BATCH instances
#        batch2         the same against a second api that is not pinned
#                       (both cores: batches are split across them)
#   5. prints medians (req/s, p50, p99 from wrk --latency), the ratio
#      mlserve/hello (goal >= 0.90), mlserve's p99 (goal <= 3 ms), the
#      ratio to the gunicorn peer (goal >= 80x) and batch rows/s, and writes
#      them as Markdown to OUT.
#
# It installs nothing. It needs go, wrk, taskset and curl (Debian: apt-get
# install -y wrk util-linux curl) and 2 cores. The gunicorn peer needs
# python3 with flask, scikit-learn and pandas and gunicorn (Debian:
# apt-get install -y python3-flask python3-sklearn python3-pandas gunicorn);
# without them the script uses the peer's recorded number and says so.
#
# Knobs (environment): REPS=5 DURATION=10 WARMUP=3 CONNS=64 BATCH=1000
#   SERVER_CPU=0 WRK_CPU=1 GUNICORN=auto|off
#   NICE=0 (e.g. -15, as root: server and wrk run at that niceness, so other
#   work on a shared box takes less of their cores; hello and mlserve alike)
#   QUIET_PCT=15 QUIET_TIMEOUT=30 (before each run, wait up to QUIET_TIMEOUT s
#   for the box to be under QUIET_PCT % busy; outside load skews numbers)
#   PEERS=<repo>/../shared/bench/peers (hello.go, gomodel.go, flask_peer.py)
#   WEIGHTS=$PEERS/../data/titanic_lr.json (gomodel's weights; absent: no gomodel)
#   PEER_RESULTS=$PEERS/../results/serving-20261126.md (recorded peers)
#   OUT=bench/serving/last-run.md
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=bench/serving/lib.sh
. "$ROOT/bench/serving/lib.sh"
REPS=${REPS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-64}
BATCH=${BATCH:-1000}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
GUNICORN=${GUNICORN:-auto}
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
PEER_RESULTS=${PEER_RESULTS:-$PEERS/../results/serving-20261126.md}
WEIGHTS=${WEIGHTS:-$PEERS/../data/titanic_lr.json}
OUT=${OUT:-$ROOT/bench/serving/last-run.md}
NICE=${NICE:-0}
# With autogroup scheduling (Linux's default for sessions) niceness counts
# only within a session: the script runs in a session of its own and gives
# that whole session the niceness.
if [[ $NICE != 0 && -z ${BENCH_SERVING_SESSION:-} ]] && command -v setsid >/dev/null 2>&1; then
	exec env BENCH_SERVING_SESSION=1 setsid --wait bash "$0" "$@"
fi
if [[ $NICE != 0 && -w /proc/self/autogroup ]]; then
	echo "$NICE" >/proc/self/autogroup 2>/dev/null || echo "could not set the session's niceness to $NICE (needs root)" >&2
fi
PIN_SERVER=(nice -n "$NICE" taskset -c "$SERVER_CPU")
PIN_WRK=(nice -n "$NICE" taskset -c "$WRK_CPU")
QUERY='/?class=1&sex=male&age=22&embarked=S'
SEED_CSV=${SEED_CSV:-$ROOT/internal/sampledata/seed_titanic.csv}

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }
need go "a Go toolchain"
need wrk "apt-get install -y wrk"
need taskset "apt-get install -y util-linux"
need curl "apt-get install -y curl"
if ((${#missing[@]})); then
	echo "bench-serving needs, and did not find:" >&2
	printf '  %s\n' "${missing[@]}" >&2
	echo "install them and run again (this script installs nothing)" >&2
	exit 2
fi
for f in "$PEERS/hello.go" "$SEED_CSV"; do
	[[ -r $f ]] || { echo "bench-serving: $f is missing (set PEERS or SEED_CSV)" >&2; exit 2; }
done
if (($(nproc) < 2)); then
	echo "bench-serving: needs 2 cores (server and wrk on separate ones); this machine has $(nproc)" >&2
	exit 2
fi

TMP=$(mktemp -d /tmp/bench-serving.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== build (in $TMP)"
go build -C "$ROOT" -o "$TMP/mlserve" ./cmd/mlserve
cp "$PEERS/hello.go" "$TMP/hello.go"
(cd "$TMP" && GO111MODULE=off go build -o hello hello.go)
go build -C "$ROOT" -o "$TMP/fasthello" ./bench/serving/fasthello
GOMODEL=""
if [[ -r $PEERS/gomodel.go && -r $WEIGHTS ]]; then
	cp "$PEERS/gomodel.go" "$TMP/gomodel.go"
	(cd "$TMP" && GO111MODULE=off go build -o gomodel gomodel.go)
	GOMODEL=1
else
	echo "(no gomodel peer: $PEERS/gomodel.go or $WEIGHTS missing)"
fi

echo "== train the titanic model"
mkdir -p "$TMP/work"
(
	cd "$TMP/work"
	../mlserve init --example titanic >/dev/null
	../mlserve --data-dir data --log-level warn ingest-file titanic "$SEED_CSV"
	../mlserve --data-dir data --log-level warn train titanic --wait
)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
wait_200() { # URL NAME PID
	for _ in $(seq 1 300); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$1" || true) == 200 ]] && return 0
		kill -0 "$3" 2>/dev/null || { echo "$2 died:" >&2; cat "$TMP/$2.log" >&2; exit 1; }
		sleep 0.2
	done
	echo "$2 did not answer 200 at $1 in 60 s" >&2
	cat "$TMP/$2.log" >&2
	exit 1
}

MPORT=$(free_port)
HPORT=$(free_port)
(cd "$TMP/work" && exec "${PIN_SERVER[@]}" ../mlserve --data-dir data --log-level warn api --addr "127.0.0.1:$MPORT") >"$TMP/mlserve.log" 2>&1 &
MPID=$!
PIDS+=("$MPID")
"${PIN_SERVER[@]}" "$TMP/hello" -addr "127.0.0.1:$HPORT" >"$TMP/hello.log" 2>&1 &
HPID=$!
PIDS+=("$HPID")
FPORT=$(free_port)
"${PIN_SERVER[@]}" "$TMP/fasthello" -addr "127.0.0.1:$FPORT" >"$TMP/fasthello.log" 2>&1 &
FPID=$!
PIDS+=("$FPID")
MNPORT=$(free_port)
(cd "$TMP/work" && MLSERVE_HTTP_ENGINE=net/http exec "${PIN_SERVER[@]}" ../mlserve --data-dir data --log-level warn api --addr "127.0.0.1:$MNPORT") >"$TMP/mlserve-net.log" 2>&1 &
MNPID=$!
PIDS+=("$MNPID")
GMPID=""
if [[ -n $GOMODEL ]]; then
	GMPORT=$(free_port)
	"${PIN_SERVER[@]}" "$TMP/gomodel" -addr "127.0.0.1:$GMPORT" -weights "$WEIGHTS" >"$TMP/gomodel.log" 2>&1 &
	GMPID=$!
	PIDS+=("$GMPID")
fi
# a second api on both cores (not pinned), for batches split across cores
M2PORT=$(free_port)
(cd "$TMP/work" && exec nice -n "$NICE" ../mlserve --data-dir data --log-level warn api --addr "127.0.0.1:$M2PORT") >"$TMP/mlserve2.log" 2>&1 &
M2PID=$!
PIDS+=("$M2PID")
wait_200 "http://127.0.0.1:$MPORT$QUERY" mlserve "$MPID"
wait_200 "http://127.0.0.1:$M2PORT$QUERY" mlserve2 "$M2PID"
wait_200 "http://127.0.0.1:$HPORT/" hello "$HPID"
wait_200 "http://127.0.0.1:$FPORT/" fasthello "$FPID"
wait_200 "http://127.0.0.1:$MNPORT$QUERY" mlserve-net "$MNPID"
[[ -n $GMPID ]] && wait_200 "http://127.0.0.1:$GMPORT$QUERY" gomodel "$GMPID"

# The gunicorn + Flask + scikit-learn peer, when its packages are here.
GPID=""
GUNICORN_NOTE=""
if [[ $GUNICORN != off ]] && command -v gunicorn >/dev/null 2>&1 &&
	/usr/bin/python3 -c 'import flask, sklearn, pandas' >/dev/null 2>&1; then
	GPORT=$(free_port)
	(cd "$PEERS" && exec "${PIN_SERVER[@]}" /usr/bin/python3 "$(command -v gunicorn)" -w 2 -b "127.0.0.1:$GPORT" \
		--log-level warning flask_peer:app) >"$TMP/gunicorn.log" 2>&1 &
	GPID=$!
	PIDS+=("$GPID")
	wait_200 "http://127.0.0.1:$GPORT$QUERY" gunicorn "$GPID"
	sleep 2 # both workers train at start
else
	GUNICORN_NOTE="gunicorn peer not run here (python3-flask, python3-sklearn, python3-pandas or gunicorn missing, or GUNICORN=off): its recorded number is used"
fi

# the batch body and the wrk script that posts it
python3 - "$BATCH" >"$TMP/batch.json" <<'EOF' 2>/dev/null || awk -v n="$BATCH" 'BEGIN{printf "{\"instances\": ["; for(i=0;i<n;i++){if(i) printf ","; age=(i%7==0)?"null":sprintf("%g", (i%80)+0.5); printf "{\"class\": %d, \"sex\": \"%s\", \"age\": %s, \"embarked\": \"%s\"}", 1+i%3, (i%2?"female":"male"), age, substr("CSQ", 1+i%3, 1)} printf "]}"}' >"$TMP/batch.json"
import sys
n = int(sys.argv[1])
rows = []
for i in range(n):
    age = "null" if i % 7 == 0 else "%g" % (i % 80 + 0.5)
    rows.append('{"class": %d, "sex": "%s", "age": %s, "embarked": "%s"}' % (1 + i % 3, "female" if i % 2 else "male", age, "CSQ"[i % 3]))
sys.stdout.write('{"instances": [' + ",".join(rows) + "]}")
EOF
post_script "$TMP/batch.json" "$TMP/post.lua"
# one row for the inference protocol's infer
printf '%s' "$INFER_ROW" >"$TMP/infer.json"
post_script "$TMP/infer.json" "$TMP/infer.lua"
if ! curl -s -H 'Content-Type: application/json' --data-binary @"$TMP/infer.json" "http://127.0.0.1:$MPORT/v2/models/titanic/infer" | grep -q '"probabilities"'; then
	echo "infer check: mlserve did not answer the inference protocol's infer" >&2
	exit 1
fi
got=$(curl -s -H 'Content-Type: application/json' --data-binary @"$TMP/batch.json" "http://127.0.0.1:$MPORT/v1/models/titanic/predict" | grep -o '"label"' | wc -l)
if [[ $got != "$BATCH" ]]; then
	echo "batch check: mlserve answered $got predictions for $BATCH instances" >&2
	exit 1
fi
echo "== answers"
echo "mlserve GET $QUERY -> $(curl -s "http://127.0.0.1:$MPORT$QUERY")"
echo "hello   GET /      -> $(curl -s "http://127.0.0.1:$HPORT/")"

url_of() {
	case $1 in
	hello) echo "http://127.0.0.1:$HPORT/" ;;
	fasthello) echo "http://127.0.0.1:$FPORT/" ;;
	mlserve-net) echo "http://127.0.0.1:$MNPORT$QUERY" ;;
	gomodel) echo "http://127.0.0.1:$GMPORT$QUERY" ;;
	mlserve) echo "http://127.0.0.1:$MPORT$QUERY" ;;
	gunicorn) echo "http://127.0.0.1:$GPORT$QUERY" ;;
	infer) echo "http://127.0.0.1:$MPORT/v2/models/titanic/infer" ;;
	batch) echo "http://127.0.0.1:$MPORT/v1/models/titanic/predict" ;;
	batch2) echo "http://127.0.0.1:$M2PORT/v1/models/titanic/predict" ;;
	esac
}
pid_of() { case $1 in hello) echo "$HPID" ;; fasthello) echo "$FPID" ;; mlserve-net) echo "$MNPID" ;; gomodel) echo "$GMPID" ;; gunicorn) echo "$GPID" ;; batch2) echo "$M2PID" ;; *) echo "$MPID" ;; esac; }
# CPU ticks of a server and its children (gunicorn's workers)
ticks() {
	local t=0 p
	for p in "$1" $(pgrep -P "$1" || true); do
		[[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat")))
	done
	echo "$t"
}
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}' <<<"$1"; }

# wait_quiet: before a measured run, wait (up to QUIET_TIMEOUT s) until the
# box is under QUIET_PCT % busy, so that outside load does not skew a run.
QUIET_PCT=${QUIET_PCT:-15}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
wait_quiet() {
	local waited=0 b0 b1 pct
	while :; do
		b0=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
		sleep 1
		b1=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
		pct=$(awk -v a="$b0" -v b="$b1" 'BEGIN{split(a, x, " "); split(b, y, " "); printf "%.0f", 100*(y[1]-x[1])/(y[2]-x[2])}')
		((pct < QUIET_PCT)) && return 0
		waited=$((waited + 1))
		if ((waited >= QUIET_TIMEOUT)); then
			echo "   (box still ${pct}% busy with other work after ${waited} s; measuring anyway: see machine cores)"
			return 0
		fi
	done
}

# run NAME SECONDS [record]: one wrk run against NAME
RUNS="$TMP/runs.tsv"
: >"$RUNS"
CLK=$(getconf CLK_TCK)
run() {
	local name=$1 secs=$2 script=()
	[[ $name == batch* ]] && script=(-s "$TMP/post.lua")
	[[ $name == infer ]] && script=(-s "$TMP/infer.lua")
	[[ -n ${3:-} ]] && wait_quiet
	local t0 b0 w0 out
	t0=$(ticks "$(pid_of "$name")")
	b0=$(busy)
	w0=$(date +%s%N)
	out=$("${PIN_WRK[@]}" wrk -t1 "-c$CONNS" "-d${secs}s" --latency "${script[@]}" "$(url_of "$name")")
	[[ -n ${3:-} ]] || return 0
	local t1 b1 w1 rps p50 p99 non2xx sockerr
	t1=$(ticks "$(pid_of "$name")")
	b1=$(busy)
	w1=$(date +%s%N)
	secs=$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
	rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
	non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out")
	sockerr=$(awk -F'[ ,]+' '/Socket errors/{print $4+$6+$8+$10}' <<<"$out")
	local scores mcores
	scores=$(awk -v t=$((t1 - t0)) -v c="$CLK" -v d="$secs" 'BEGIN{printf "%.2f", t/c/d}')
	mcores=$(awk -v t=$((b1 - b0)) -v c="$CLK" -v d="$secs" 'BEGIN{printf "%.2f", t/c/d}')
	local eff
	eff=$(awk -v r="$rps" -v c="$scores" 'BEGIN{printf "%.0f", (c > 0) ? r/c : 0}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "${sockerr:-0}" "$scores" "$mcores" "$eff" "${ROUND:-0}" >>"$RUNS"
	printf '   %-8s %10s req/s  p50 %6s ms  p99 %6s ms  non-2xx %s  socket errors %s  server cores %s  machine cores %s\n' \
		"$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "${sockerr:-0}" "$scores" "$mcores"
}

SERVERS=(hello fasthello)
[[ -n $GMPID ]] && SERVERS+=(gomodel)
SERVERS+=(mlserve mlserve-net)
[[ -n $GPID ]] && SERVERS+=(gunicorn)
SERVERS+=(infer batch batch2)
echo "== warm-up (${WARMUP} s each)"
for s in "${SERVERS[@]}"; do run "$s" "$WARMUP"; done
for rep in $(seq 1 "$REPS"); do
	ROUND=$rep
	echo "== round $rep of $REPS (server on CPU $SERVER_CPU, wrk -t1 -c$CONNS on CPU $WRK_CPU, ${DURATION} s each)"
	for s in "${SERVERS[@]}"; do run "$s" "$DURATION" record; sleep 0.5; done
done

median() { sort -g | awk '{a[NR]=$1} END{if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F'\t' -v n="$1" -v c="$2" '$1==n{print $c}' "$RUNS"; }
stat() { col "$1" "$2" | median; }
range() { col "$1" 2 | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.0f–%.0f", lo, hi}'; }
sum() { col "$1" "$2" | awk '{s+=$1} END{print s+0}'; }

H_RPS=$(stat hello 2)
M_RPS=$(stat mlserve 2)
B_RPS=$(stat batch 2)
RATIO=$(awk -v m="$M_RPS" -v h="$H_RPS" 'BEGIN{printf "%.3f", m/h}')
# Outside load on a shared box only ever slows a run down, and it hits
# rounds unevenly: two steadier views of the same ratio are the median of
# the ratios within each round (A and B measured seconds apart) and the
# ratio of each server's best round (its capacity when undisturbed).
paired() { # A B: median over rounds of A/B within the round
	awk -F'\t' -v a="$1" -v b="$2" '$1==a{x[$10]=$2} $1==b{y[$10]=$2} END{for (r in x) if (y[r] > 0) print x[r]/y[r]}' "$RUNS" | median
}
best() { col "$1" 2 | sort -g | tail -1; }
best_ratio() { awk -v a="$(best "$1")" -v b="$(best "$2")" 'BEGIN{printf "%.3f", (b > 0) ? a/b : 0}'; }
M_P99=$(stat mlserve 4)
ROWS=$(awk -v r="$B_RPS" -v n="$BATCH" 'BEGIN{printf "%.0f", r*n}')
# the gunicorn peer: measured here, else the recorded split-mode number
# (server on one core, as here) and the shared-mode one the issue quotes
peer_rps() { # SECTION-PREFIX
	awk -v sec="$1" '/^## /{on = index($0, "## " sec) == 1} on && /^\| gunicorn -w 2 sync, pandas\+sklearn per request/{split($0, f, "|"); v=f[3]; gsub(/\[.*|[ ,]/, "", v); print v; exit}' "$PEER_RESULTS" 2>/dev/null
}
G_SPLIT=$(peer_rps split)
G_SHARED=$(peer_rps shared)
if [[ -n $GPID ]]; then
	G_RPS=$(stat gunicorn 2)
	G_SRC="measured in this run (same pinning)"
else
	G_RPS=${G_SPLIT:-}
	G_SRC="recorded in $(basename "$PEER_RESULTS"), split mode (server on one core, as here)"
fi
vs() { awk -v m="$M_RPS" -v g="$1" 'BEGIN{if (g > 0) printf "%.0f", m/g; else print "n/a"}'; }
goal() { awk -v x="$1" -v g="$2" -v op="$3" 'BEGIN{ok = (op == ">=") ? (x >= g) : (x <= g); print ok ? "met" : "NOT met"}'; }

{
	echo "# Serving benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Command: \`NICE=$NICE REPS=$REPS DURATION=$DURATION CONNS=$CONNS BATCH=$BATCH bash bench/serving/run.sh\` (\`make bench-serving\` runs it with the defaults)."
	echo "Server (mlserve api or hello) pinned to CPU $SERVER_CPU, wrk pinned to CPU $WRK_CPU: \`taskset -c $WRK_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency URL\`;"
	echo "$REPS rounds alternating the servers after a ${WARMUP} s warm-up each; cells are medians over the rounds (req/s range in brackets)."
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(go version | awk '{print $3}'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), mlserve $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo
	echo "| server | route | req/s | p50 ms | p99 ms | non-2xx | socket errors | server cores | machine cores | req per server CPU-second |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for s in "${SERVERS[@]}"; do
		case $s in
		hello) label="Go net/http fixed JSON (hello.go)"; route="GET /" ;;
		fasthello) label="Go fasthttp fixed JSON (fasthello, hello.go's twin)"; route="GET /" ;;
		mlserve-net) label="mlserve api on net/http (MLSERVE_HTTP_ENGINE=net/http)"; route="GET $QUERY" ;;
		gomodel) label="plain Go: parse, validate, logistic, encoding/json (gomodel.go)"; route="GET $QUERY" ;;
		mlserve) label="mlserve api (titanic, logistic; fasthttp front, the default)"; route="GET $QUERY" ;;
		gunicorn) label="gunicorn -w 2 + Flask + sklearn"; route="GET $QUERY" ;;
		infer) label="mlserve api, Open Inference Protocol, 1 row"; route="POST /v2/models/titanic/infer" ;;
		batch) label="mlserve api, batch of $BATCH"; route="POST /v1/models/titanic/predict" ;;
		batch2) label="mlserve api on both cores (not pinned; wrk on CPU $WRK_CPU), batch of $BATCH"; route="POST /v1/models/titanic/predict" ;;
		esac
		printf '| %s | `%s` | %s [%s] | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$route" "$(stat "$s" 2 | awk '{printf "%.0f", $1}')" "$(range "$s")" \
			"$(stat "$s" 3)" "$(stat "$s" 4)" "$(sum "$s" 5)" "$(sum "$s" 6)" "$(stat "$s" 7)" "$(stat "$s" 8)" "$(stat "$s" 9 | awk '{printf "%.0f", $1}')"
	done
	echo
	echo "| measure | value | goal |"
	echo "|---|---:|---|"
	echo "| mlserve / hello req/s | $RATIO | >= 0.90: $(goal "$RATIO" 0.90 '>=') |"
	EFF=$(awk -v m="$(stat mlserve 9)" -v h="$(stat hello 9)" 'BEGIN{printf "%.3f", (h > 0) ? m/h : 0}')
	echo "| mlserve / hello, median of the per-round ratios | $(paired mlserve hello | awk '{printf "%.3f", $1}') | (steadier view) |"
	echo "| mlserve / hello, best round of each | $(best_ratio mlserve hello) | (steadier view) |"
	echo "| mlserve / fasthello (same HTTP stack: what mlserve's work costs), median of the per-round ratios | $(paired mlserve fasthello | awk '{printf "%.3f", $1}') | (reference) |"
	echo "| fasthello / hello (the stacks' ceilings), median of the per-round ratios | $(paired fasthello hello | awk '{printf "%.3f", $1}') | (reference) |"
	echo "| mlserve on net/http / hello, median of the per-round ratios | $(paired mlserve-net hello | awk '{printf "%.3f", $1}') | (reference: \`mlserve up\`) |"
	echo "| mlserve on net/http p99 (median over rounds) | $(stat mlserve-net 4) ms | (reference) |"
	if [[ -n $GMPID ]]; then
		GM_RPS=$(stat gomodel 2)
		echo "| plain Go peer (gomodel) / hello, median of the per-round ratios; best round of each | $(paired gomodel hello | awk '{printf "%.3f", $1}'); $(best_ratio gomodel hello) | (reference) |"
		echo "| plain Go peer (gomodel) / hello req/s | $(awk -v m="$GM_RPS" -v h="$H_RPS" 'BEGIN{printf "%.3f", m/h}') | (reference: no timeouts, ids or metrics) |"
		echo "| mlserve / plain Go peer req/s | $(awk -v m="$M_RPS" -v g="$GM_RPS" 'BEGIN{printf "%.3f", m/g}') | (reference) |"
	fi
	echo "| mlserve / hello, requests per server CPU-second (robust to other load on the server's core) | $EFF | (cross-check) |"
	echo "| mlserve p99 (median over rounds) | $M_P99 ms | <= 3 ms: $(goal "$M_P99" 3 '<=') |"
	if [[ -n $G_RPS ]]; then
		X=$(vs "$G_RPS")
		echo "| mlserve / gunicorn+sklearn peer ($G_SRC: $G_RPS req/s) | ${X}x | >= 80x: $(goal "$X" 80 '>=') |"
	fi
	if [[ -n $G_SHARED ]]; then
		echo "| mlserve (one core) / the peer's recorded best, $G_SHARED req/s on both cores (shared mode, the issue's 790) | $(vs "$G_SHARED")x | (reference) |"
	fi
	echo "| Open Inference Protocol infer, 1 row: req/s; p99 (medians over rounds) | $(stat infer 2 | awk '{printf "%.0f", $1}'); $(stat infer 4) ms | (reported) |"
	echo "| batch predictions (POST, $BATCH rows per request), server on one core | $ROWS rows/s | (reported) |"
	echo "| batch predictions, server on both cores (batches split across cores; wrk shares one) | $(awk -v r="$(stat batch2 2)" -v n="$BATCH" 'BEGIN{printf "%.0f", r*n}') rows/s | (reported) |"
	echo
	[[ -n $GUNICORN_NOTE ]] && echo "Note: $GUNICORN_NOTE." && echo
	echo "server cores = CPU the server used per second of run (1.00 = its core, all of it); machine cores = CPU the whole box used (server + wrk + anything else; 2.00 = both cores busy). A server under 1.0 core while the machine is at 2.0 shared its core with other work."
} >"$OUT"
echo
cat "$OUT"
echo
echo "wrote $OUT"
