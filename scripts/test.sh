#!/usr/bin/env bash
# Runs every test of mlserve (`make test`, CI). It starts the services the
# tests need on free loopback ports — a throwaway PostgreSQL cluster and a
# versitygw S3 server, each over a temp folder — exports their URLs, runs
# go vet, staticcheck and go test, and tears the services down even on failure.
#
#   MLSERVE_TEST_DATABASE_URL  postgres://… of the throwaway cluster
#   MLSERVE_TEST_S3_URL        s3://bucket?endpoint=127.0.0.1:PORT&secure=false&region=us-east-1
#                              (credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
#
# With MLSERVE_TEST_NO_SERVICES=1 it starts nothing: suites that need a
# service then skip, or fail under CI=true. When it started the services it
# sets MLSERVE_TEST_SERVICES_REQUIRED=1, so that a test missing one fails
# (internal/testenv). GOTESTFLAGS adds go test flags (e.g. -run, -race).
# Arguments, if any, are the packages to vet and test (default ./... and the
# Helm chart's module, deploy/helm/test):
#   scripts/test.sh ./internal/app/...
#   scripts/test.sh ./deploy/helm/...        (only the chart's tests)
# Without arguments it first runs scripts/lint-containers.sh (needs
# docker-compose and dockerfilelint; scripts/install-test-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d /tmp/mlserve-test.XXXXXX)
chmod 755 "$work"
pids=()
pgdata=""
cleanup() {
	set +e
	if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { # a random loopback port nothing listens on
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

wait_port() { # host port what
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$3 did not start listening on $1:$2" >&2
	return 1
}

# The whole suite also validates the container files (no Docker engine
# needed): docker-compose config -q, dockerfilelint, a static build.
if [ $# -eq 0 ]; then
	echo "== container files (scripts/lint-containers.sh)"
	"$root/scripts/lint-containers.sh"
fi

if [ "${MLSERVE_TEST_NO_SERVICES:-}" != "1" ]; then
	# --- PostgreSQL: initdb as the postgres user in a temp dir, trust auth, fsync off.
	pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
	if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
		echo "PostgreSQL server binaries not found (install postgresql, or set PGBIN)" >&2
		exit 1
	fi
	pgdata="$work/pg"
	mkdir -p "$pgdata" && chown postgres "$pgdata"
	pgport=$(free_port)
	runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres --no-sync >/dev/null
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -w -l "$pgdata/log" \
		-o "-p $pgport -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
	export MLSERVE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"
	echo "== PostgreSQL on 127.0.0.1:$pgport"

	# --- versitygw: an S3 server over a temp folder.
	vgw=${VERSITYGW:-$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")}
	if [ ! -x "$vgw" ]; then
		echo "versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0" >&2
		exit 1
	fi
	s3port=$(free_port)
	mkdir -p "$work/s3"
	export AWS_ACCESS_KEY_ID=mlservetest AWS_SECRET_ACCESS_KEY=mlservetestsecret
	ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
		"$vgw" --port "127.0.0.1:$s3port" posix "$work/s3" >"$work/versitygw.log" 2>&1 &
	pids+=($!)
	wait_port 127.0.0.1 "$s3port" versitygw
	export MLSERVE_TEST_S3_URL="s3://mlserve-test?endpoint=127.0.0.1:$s3port&secure=false&region=us-east-1"
	export MLSERVE_TEST_VERSITYGW="$vgw"
	echo "== versitygw on 127.0.0.1:$s3port"
	export MLSERVE_TEST_SERVICES_REQUIRED=1
else
	echo "== no services (MLSERVE_TEST_NO_SERVICES=1): tests that need one skip, or fail under CI=true"
fi

# The Helm chart's tests are a Go module of their own (deploy/helm/test,
# so that the product's module does not depend on the Kubernetes API): they
# run with the whole suite or when ./deploy/... is asked for.
pkgs=()
chart=0
for p in "$@"; do
	case $p in
	./deploy/* | deploy/*) chart=1 ;;
	*) pkgs+=("$p") ;;
	esac
done
if [ $# -eq 0 ]; then
	pkgs=(./...)
	chart=1
fi
if [ ${#pkgs[@]} -gt 0 ]; then
	echo "== go vet"
	go vet "${pkgs[@]}"
	# staticcheck, pinned (fetched through the Go module proxy the first time).
	echo "== staticcheck"
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 "${pkgs[@]}"
	echo "== go test"
	# shellcheck disable=SC2086
	go test -count=1 -timeout 20m ${GOTESTFLAGS:-} "${pkgs[@]}"
fi

if [ "$chart" = 1 ]; then
	# helm lint and helm template need helm: without it the chart tests
	# skip, and fail under CI=true (.ci/run installs it).
	if ! command -v helm >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/helm" ]; then
		echo "== helm is not installed: the chart tests skip (under CI=true they fail); go install helm.sh/helm/v4/cmd/helm@v4.3.2"
	fi
	echo "== deploy/helm/test: go vet, staticcheck, go test"
	(
		cd deploy/helm/test
		go vet ./...
		go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
		# shellcheck disable=SC2086
		go test -count=1 -timeout 10m ${GOTESTFLAGS:-} ./...
	)
fi

# The api suites' servers run on the fasthttp server (what `mlserve api` runs)
# above; once more on net/http (what `mlserve up` runs), for the packages
# asked for.
engine_pkgs=()
for p in "${pkgs[@]}"; do
	case $p in
	./... | ./internal/... | ./internal/api | ./internal/api/... | ./internal/oip | ./internal/oip/... | ./internal/openapi | ./internal/openapi/...)
		engine_pkgs+=("$p") ;;
	esac
done
if [ ${#engine_pkgs[@]} -gt 0 ]; then
	echo "== go test, api suites on net/http (MLSERVE_TEST_HTTP_ENGINE=net/http)"
	# shellcheck disable=SC2086
	MLSERVE_TEST_HTTP_ENGINE=net/http go test -count=1 -timeout 20m ${GOTESTFLAGS:-} ./internal/api ./internal/oip ./internal/openapi
fi

# The fasthttp server hands handlers strings over buffers it reuses; the race
# detector sees a handler or a goroutine that reads one after its request
# ended. Once more with -race on the fasthttp server, for the packages asked for
# (MLSERVE_TEST_NO_RACE=1 skips it).
race_pkgs=()
for p in "${pkgs[@]}"; do
	case $p in
	./... | ./internal/...) race_pkgs=(./internal/api ./internal/oip ./internal/fasthttpserver) ;;
	./internal/api | ./internal/api/... | ./internal/oip | ./internal/oip/... | ./internal/fasthttpserver | ./internal/fasthttpserver/...)
		race_pkgs+=("$p") ;;
	esac
done
if [ ${#race_pkgs[@]} -gt 0 ] && [ "${MLSERVE_TEST_NO_RACE:-}" != "1" ]; then
	echo "== go test -race, api suites on the fasthttp server"
	# shellcheck disable=SC2086
	go test -race -count=1 -timeout 20m ${GOTESTFLAGS:-} "${race_pkgs[@]}"
fi
