// Package e2e holds mlserve's end-to-end tests: they build the real binary
// once per run (TestMain), start it as a process (`mlserve up`, `up --demo`,
// the roles) on free loopback ports with temporary data folders, and drive it
// only through its public surface, the commands of docs/DESIGN.md §3 and the
// HTTP routes of §4. The package has no non-test code.
package e2e
