#!/usr/bin/env bash
# Installs what `make test` needs besides Go, when it is missing (on a
# Debian-like machine): PostgreSQL's server binaries and versitygw (the test
# services scripts/test.sh starts), docker-compose and dockerfilelint (the
# container file checks), podman, buildah, runc and helm (the image and
# chart tests). What is present is left alone, so a second run
# does nothing. apt-get runs as root, through sudo when not root. `make
# test` (and so CI, .ci/run) calls it: the one list of what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "install-test-deps: need root (or sudo) to run: $*" >&2
		return 1
	fi
}
apt_install() { # PACKAGE...
	echo "== installing $* (apt-get)"
	as_root apt-get update -qq
	as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	apt_install postgresql
fi
if ! command -v versitygw >/dev/null 2>&1; then
	echo "== installing versitygw (go install)"
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
if ! command -v docker-compose >/dev/null 2>&1; then
	apt_install docker-compose
fi
if ! command -v dockerfilelint >/dev/null 2>&1; then
	if ! command -v npm >/dev/null 2>&1; then
		apt_install npm
	fi
	echo "== installing dockerfilelint (npm)"
	as_root npm install -g --silent --no-audit --no-fund dockerfilelint >/dev/null
fi
# The container image test (internal/imagetest): podman, buildah, runc.
if ! command -v podman >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
	apt_install podman buildah runc
fi
# The Helm chart tests (deploy/helm/test): helm from source through the Go
# toolchain (a few minutes the first time).
if ! command -v helm >/dev/null 2>&1; then
	echo "== installing helm (go install)"
	go install helm.sh/helm/v4/cmd/helm@v4.3.2
fi
