package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/didyoumean"
)

// Error is one problem in a pipeline file: where it is and what to do about it.
type Error struct {
	// File is the name of the pipeline file, as given to Parse or Load.
	File string
	// Line is the 1-based line of the offending node, 0 when unknown (for a
	// File built in code rather than parsed).
	Line int
	// Path locates the node, e.g. "pipelines[0].model.holdout"; empty for
	// problems of the whole file.
	Path string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats the problem as FILE:LINE: MSG.
func (e *Error) Error() string {
	file := cmp.Or(e.File, DefaultFile)
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Msg)
	}
	return file + ": " + e.Msg
}

// ErrorList is every problem found in a pipeline file, sorted by line. Parse,
// Load and Validate return one (as an error) when the file has problems.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the problems, so errors.As finds an *Error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// err returns l sorted by line as an error, or nil when l is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	slices.SortStableFunc(l, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	return l
}

// suggest returns the candidate closest to s, or "" (didyoumean.Closest).
func suggest(s string, candidates []string) string { return didyoumean.Closest(s, candidates) }

// quoteList renders names as "a", "b" or "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
