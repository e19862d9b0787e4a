#!/usr/bin/env bash
# Validates the container files without a Docker engine (none runs on the
# build machines): scripts/test.sh calls it when it runs the whole suite.
#
#   1. docker-compose.yml parses and is valid: docker-compose config -q
#      (Debian: apt-get install -y --no-install-recommends docker-compose)
#   2. Dockerfile passes dockerfilelint (npm install -g dockerfilelint)
#   3. deploy/mlserve.yaml, the pipeline file the image and the stack use,
#      loads (mlserve runs --config deploy/mlserve.yaml on a throwaway folder)
#   4. the Dockerfile's build command works on the files .dockerignore lets
#      through, makes a static binary, and scripts/image-rootfs.sh lays out
#      the final image's files from it
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # tool how-to-install
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "lint-containers: $1 is not installed; install it with: $2" >&2
		exit 1
	fi
}
need docker-compose "apt-get install -y --no-install-recommends docker-compose"
need dockerfilelint "npm install -g dockerfilelint"

echo "== docker-compose config -q"
# Fixed values for the variables the file reads, so the check does not
# depend on the caller's environment or an .env file.
env -u MLSERVE_API_PORT -u MLSERVE_INGEST_PORT POSTGRES_PASSWORD=x MINIO_ROOT_USER=x MINIO_ROOT_PASSWORD=xxxxxxxx MLSERVE_ADMIN_TOKEN=x \
	docker-compose -f docker-compose.yml config -q
for svc in postgres minio api trainer ingest datafill; do
	if ! grep -q "^  $svc:\$" docker-compose.yml; then
		echo "lint-containers: docker-compose.yml has no service $svc" >&2
		exit 1
	fi
done

echo "== dockerfilelint Dockerfile"
dockerfilelint Dockerfile

work=$(mktemp -d /tmp/mlserve-lint.XXXXXX)
# The build context lives at a path fixed per checkout, so that go's build
# cache serves the next run (its keys include the source folder).
ctx="${TMPDIR:-/tmp}/mlserve-lint-context-$(pwd | cksum | cut -d' ' -f1)"
trap 'rm -rf "$work"' EXIT

echo "== deploy/mlserve.yaml loads"
go run ./cmd/mlserve runs --config deploy/mlserve.yaml --data-dir "$work/data" >/dev/null

echo "== static build from the image's build context"
# The files .dockerignore admits (it lists them: go.mod, go.sum, cmd/,
# internal/ without tests and testdata, deploy/mlserve.yaml,
# scripts/image-rootfs.sh).
rm -rf "$ctx"
mkdir -p "$ctx/deploy" "$ctx/scripts"
cp go.mod go.sum "$ctx/"
cp deploy/mlserve.yaml "$ctx/deploy/"
cp scripts/image-rootfs.sh "$ctx/scripts/"
tar -cf - --exclude='*_test.go' --exclude=testdata cmd internal | tar -xf - -C "$ctx"
# The Dockerfile's build command, VERSION set.
(cd "$ctx" && CGO_ENABLED=0 GOOS=linux go build -trimpath \
	-ldflags "-s -w -X github.com/mlserve/mlserve/internal/version.Version=0.0.0-lint" \
	-o "$work/mlserve" ./cmd/mlserve &&
	sh scripts/image-rootfs.sh "$work/mlserve" "$work/image")
if ! grep -q 'github.com/mlserve/mlserve/internal/version.Version=${VERSION}' Dockerfile ||
	! grep -q 'CGO_ENABLED=0 GOOS=linux go build -trimpath' Dockerfile ||
	! grep -q 'sh scripts/image-rootfs.sh /out/mlserve /out/image' Dockerfile; then
	echo "lint-containers: the Dockerfile's build command changed; update this script to match it" >&2
	exit 1
fi
if ldd "$work/mlserve" >/dev/null 2>&1; then
	echo "lint-containers: the image's binary is dynamically linked (ldd lists libraries)" >&2
	exit 1
fi
if [ "$("$work/mlserve" --version)" != "mlserve version 0.0.0-lint" ]; then
	echo "lint-containers: VERSION is not stamped into the binary: $("$work/mlserve" --version)" >&2
	exit 1
fi
echo "lint-containers: ok"
