#!/usr/bin/env bash
# Installs what the deployment tests need (.ci/run calls it once):
#   podman, buildah, runc  build and run the container image (internal/imagetest)
#   helm                   lint and render the chart (deploy/helm/test)
# Each step is skipped when the tool is already there.
set -euo pipefail
export PATH="$PATH:$(go env GOPATH)/bin"

if ! command -v podman >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends podman buildah runc >/dev/null
fi
# Helm from source through the Go toolchain (a few minutes the first time).
if ! command -v helm >/dev/null 2>&1; then
	go install helm.sh/helm/v4/cmd/helm@v4.3.2
fi
podman --version
helm version --short
