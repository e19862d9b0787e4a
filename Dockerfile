# mlserve container image: one static binary that runs any role
# (api, trainer, ingest, datafill, up, ...), chosen by the command.
#
#   docker build -t mlserve .
#   docker build --build-arg VERSION=0.1.0+$(git rev-parse --short HEAD) -t mlserve .
#   docker run --rm -p 1234:1234 mlserve up --demo
#
# Without a registry to pull golang from, `make image` builds the same
# filesystem FROM scratch (Containerfile, scripts/build-image.sh).
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
COPY deploy/mlserve.yaml ./deploy/mlserve.yaml
COPY scripts/image-rootfs.sh ./scripts/image-rootfs.sh
# VERSION, when given, is stamped into the binary (mlserve --version and the
# lineage of every artifact it trains); otherwise internal/version's default.
# scripts/image-rootfs.sh lays out the final image's files in /out/image
# (the same rule `make image` follows without this stage).
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w ${VERSION:+-X github.com/mlserve/mlserve/internal/version.Version=${VERSION}}" \
      -o /out/mlserve ./cmd/mlserve \
 && sh scripts/image-rootfs.sh /out/mlserve /out/image

# ---- final: scratch, non-root ----------------------------------------------
# The Containerfile's stage with its COPY sources here (internal/imagetest
# compares them): CA certificates (S3 over TLS), passwd/group with the
# nonroot user (65532), the static binary; no shell or package manager.
# Healthchecks use `mlserve healthcheck URL`.
FROM scratch
COPY --from=build /out/image/root/ /
# /data is the working folder: the pipeline file (mlserve.yaml, the default
# --config) and, when no MLSERVE_DATABASE_URL / MLSERVE_ARTIFACTS_URL is set,
# the embedded database and artifacts (./.mlserve).
COPY --from=build --chown=65532:65532 /out/image/data/ /data/
WORKDIR /data
USER 65532:65532
# api (and up), ingest, trainer (health and metrics only).
EXPOSE 1234 1235 1236
ENTRYPOINT ["/usr/local/bin/mlserve"]
CMD ["up"]
