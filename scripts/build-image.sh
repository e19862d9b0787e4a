#!/usr/bin/env bash
# Builds the mlserve container image without pulling anything (`make image`):
# a static binary built here (CGO_ENABLED=0, -trimpath), laid out by
# scripts/image-rootfs.sh, then Containerfile (FROM scratch) with podman or
# docker, whichever is present. The Dockerfile makes the same filesystem
# with its own build stage, for builders that can pull golang images.
#
#   IMAGE            tag (default mlserve:local)
#   VERSION          stamped into the binary (mlserve --version, artifact lineage)
#   CONTAINER_ENGINE podman or docker (default: podman if present, else docker)
#   IMAGE_STAGE      keep the binary and the build context (IMAGE_STAGE/context)
#                    in this folder (default: a temp folder, removed)
#   GOARCH           the image's architecture (default: this machine's)
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-mlserve:local}
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
	if command -v podman >/dev/null 2>&1; then
		engine=podman
	elif command -v docker >/dev/null 2>&1; then
		engine=docker
	else
		echo "build-image: neither podman nor docker is installed (apt-get install -y --no-install-recommends podman buildah runc)" >&2
		exit 1
	fi
fi
stage=${IMAGE_STAGE:-}
if [ -z "$stage" ]; then
	stage=$(mktemp -d /tmp/mlserve-image.XXXXXX)
	trap 'rm -rf "$stage"' EXIT
fi
mkdir -p "$stage"

# The Dockerfile's build command (scripts/lint-containers.sh checks they agree).
VERSION=${VERSION:-}
CGO_ENABLED=0 GOOS=linux go build -trimpath \
	-ldflags "-s -w ${VERSION:+-X github.com/mlserve/mlserve/internal/version.Version=${VERSION}}" \
	-o "$stage/mlserve" ./cmd/mlserve
./scripts/image-rootfs.sh "$stage/mlserve" "$stage/context"
cp Containerfile "$stage/context/Containerfile"
"$engine" build --file "$stage/context/Containerfile" --tag "$image" "$stage/context"
echo "build-image: $image ($engine)"
