// Package imagetest builds mlserve's container image (scripts/build-image.sh,
// the Containerfile FROM scratch) with podman and runs it: `up --demo`
// alone, the api and trainer roles on the test PostgreSQL and S3 server
// (scripts/test.sh starts them), as a non-root user on a read-only root
// filesystem, with `mlserve healthcheck` as the container healthcheck and
// SIGTERM draining requests in flight. Without podman (or root) the test
// skips, and fails under CI=true (testenv.MissingTool); without the test
// services the roles part skips or fails as testenv.Getenv says. The package has no
// non-test code.
package imagetest
