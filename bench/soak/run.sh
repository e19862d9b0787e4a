#!/usr/bin/env bash
# Soak: mlserve's api (fasthttp), ingest and trainer as separate processes
# on a throwaway PostgreSQL and a local artifact folder, under a mixed load
# for DURATION (default 5m): every predict route, unknown models, readyz,
# rows ingested every 50 ms, a promotion every 10 s, /metrics every second.
# Passes with 0 non-2xx answers, /metrics 200 throughout and flat RSS.
#
#   bash bench/soak/run.sh              DURATION=60s bash bench/soak/run.sh
#
# Needs the PostgreSQL server binaries (Debian: postgresql); run as root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-5m}
work=$(mktemp -d /tmp/mlserve-soak.XXXXXX)
chmod 755 "$work"
pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
pgdata="$work/pg"
cleanup() {
	set +e
	[ -f "$pgdata/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$pgdata" && chown postgres "$pgdata"
port=$((20000 + RANDOM % 40000))
runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres --no-sync >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -w -l "$pgdata/log" \
	-o "-p $port -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
go build -o "$work/mlserve" ./cmd/mlserve
go run ./bench/soak -bin "$work/mlserve" -dir "$work" -seed "$ROOT/internal/sampledata/seed_titanic.csv" \
	-db "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" -duration "$DURATION"
