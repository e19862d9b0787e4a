# mlserve container image: one static binary that runs any role
# (api, trainer, ingest, datafill, up, ...), chosen by the command.
#
#   docker build -t mlserve .
#   docker build --build-arg VERSION=0.1.0+$(git rev-parse --short HEAD) -t mlserve .
#   docker run --rm -p 1234:1234 mlserve up --demo
#
# docker-compose.yml runs the roles as separate containers on PostgreSQL and
# MinIO; docs/production.md explains the environment they read.

# ---- build: a static, reproducible binary ----------------------------------
ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Modules first, so that the download layer is reused until go.mod or go.sum
# change; the cache mounts keep modules and build results between builds.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY cmd ./cmd
COPY internal ./internal
# VERSION, when given, is stamped into the binary (mlserve --version and the
# lineage of every artifact it trains); otherwise internal/version's default.
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w ${VERSION:+-X github.com/mlserve/mlserve/internal/version.Version=${VERSION}}" \
      -o /out/mlserve ./cmd/mlserve \
 && mkdir -p /out/data

# ---- final: distroless static, non-root ------------------------------------
# Holds CA certificates (S3 over TLS), tzdata and the nonroot user (65532);
# no shell or package manager. Healthchecks use `mlserve healthcheck URL`.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mlserve /usr/local/bin/mlserve
# /data is the working folder: the pipeline file (mlserve.yaml, the default
# --config) and, when no MLSERVE_DATABASE_URL / MLSERVE_ARTIFACTS_URL is set,
# the embedded database and artifacts (./.mlserve).
COPY --from=build --chown=65532:65532 /out/data /data
COPY --chown=65532:65532 deploy/mlserve.yaml /data/mlserve.yaml
WORKDIR /data
USER 65532:65532
# api (and up), ingest, trainer (health and metrics only).
EXPOSE 1234 1235 1236
ENTRYPOINT ["/usr/local/bin/mlserve"]
CMD ["up"]
