# mlserve: `make test` runs every test; `go run ./cmd/mlserve up --demo` runs the product.
GO ?= go

COMPOSE ?= docker-compose

.PHONY: test install install-test-deps build vet bench docker-compose lint-containers bench-serving fuzz soak soak-roles image
# Installs what is missing (scripts/install-test-deps.sh), then runs every
# test: the one command a fresh machine needs.
test: install-test-deps
	./scripts/test.sh

install-test-deps:
	./scripts/install-test-deps.sh

# Puts the mlserve command in $(go env GOPATH)/bin (add it to PATH).
install:
	$(GO) install ./cmd/mlserve

build:
	$(GO) build -o bin/mlserve ./cmd/mlserve

vet:
	$(GO) vet ./...

# Go benchmarks (not part of `make test`; these machines are noisy, compare
# ratios within one run).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fuzzing (not part of `make test`, which runs only the seed inputs): each
# fuzz target searches for FUZZTIME. A failing input is saved under the
# package's testdata/fuzz and then runs with every `go test`.
FUZZTIME ?= 30s
FUZZ_TARGETS = FuzzHotPath:./internal/api FuzzKeepAlive:./internal/api FuzzInfer:./internal/oip FuzzScanFlat:./internal/oip FuzzDecodeEnvelope:./internal/oip FuzzRows:./internal/ingest \
	FuzzParse:./internal/config FuzzReader:./internal/rawcsv
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($${t#*:}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t#*:}"; \
	done

# The api's mixed-load test (TestMixedLoadMetrics: every hot route,
# made-up model names and bodies from several keep-alive connections, then
# GET /metrics checked) for SOAK instead of the 5 s of `make test`, on the
# fasthttp server and then on net/http.
SOAK ?= 60s
soak:
	MLSERVE_TEST_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestMixedLoadMetrics$$' -timeout 30m -v ./internal/api
	MLSERVE_TEST_SOAK=$(SOAK) MLSERVE_TEST_HTTP_ENGINE=net/http $(GO) test -count=1 -run '^TestMixedLoadMetrics$$' -timeout 30m -v ./internal/api

# The roles as separate processes (api on fasthttp, ingest, trainer) on a
# throwaway PostgreSQL under a mixed load for DURATION (default 5m): every
# predict route, rows every 50 ms, a promotion every 10 s, /metrics every
# second; fails on a non-2xx, a failed /metrics or growing RSS
# (bench/soak/run.sh).
soak-roles:
	bash bench/soak/run.sh

# Serving benchmark: mlserve's api vs the bare net/http peer with wrk (needs
# wrk; see bench/serving/run.sh). Writes bench/serving/last-run.md.
bench-serving:
	bash bench/serving/run.sh

# Build the image and bring up the stack of docker-compose.yml (postgres,
# minio, api, trainer, ingest, datafill); api on :1234, ingest on :1235.
# COMPOSE="docker compose" uses the Compose plugin instead.
docker-compose:
	$(COMPOSE) up --build -d
	$(COMPOSE) ps

# Validate the container files without a Docker engine (make test does too).
lint-containers:
	./scripts/lint-containers.sh

# The container image, built FROM scratch from a static binary built here
# (Containerfile; nothing is pulled), with podman or docker, whichever is
# present. IMAGE=mlserve:local and VERSION=… by default; see
# scripts/build-image.sh. The Dockerfile makes the same image with a golang
# build stage, for machines that can pull it.
IMAGE ?= mlserve:local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
image:
	IMAGE=$(IMAGE) VERSION=$(VERSION) ./scripts/build-image.sh
