# mlserve: `make test` runs every test; `go run ./cmd/mlserve up --demo` runs the product.
GO ?= go

.PHONY: test build vet bench bench-serving
test:
	./scripts/test.sh

build:
	$(GO) build -o bin/mlserve ./cmd/mlserve

vet:
	$(GO) vet ./...

# Go benchmarks (not part of `make test`; these machines are noisy, compare
# ratios within one run).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Serving benchmark: mlserve's api vs the bare net/http peer with wrk (needs
# wrk; see bench/serving/run.sh). Writes bench/serving/last-run.md.
bench-serving:
	bash bench/serving/run.sh
