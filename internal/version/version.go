// Package version holds mlserve's version, recorded in every artifact's
// lineage and shown by `mlserve --version`.
package version

// Version is mlserve's release version. It is a variable so that a release
// build can stamp it:
//
//	go build -ldflags "-X github.com/mlserve/mlserve/internal/version.Version=0.1.0+abc1234" ./cmd/mlserve
var Version = "0.1.0"
