#!/usr/bin/env bash
# Runs every test of mlserve. Used by `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 15m ./...
