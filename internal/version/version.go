// Package version holds mlserve's version, recorded in every artifact's
// lineage and shown by `mlserve --version`.
package version

// Version is mlserve's release version.
const Version = "0.1.0"
