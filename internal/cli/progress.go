package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress shows one updating status line on a terminal and nothing
// otherwise (DESIGN §3: quiet when not a terminal).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	on    bool
	start time.Time
	last  time.Time
	width int
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, on: isTerminal(w), start: time.Now()}
}

// status replaces the line with label: msg (at most 10 times a second).
func (p *progress) status(msg string) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	line := fmt.Sprintf("%s: %s (%.0fs)", p.label, msg, time.Since(p.start).Seconds())
	pad := max(0, p.width-len(line))
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
}

// rows reports n rows read.
func (p *progress) rows(n int) { p.status(fmt.Sprintf("%d rows", n)) }

// stage reports ml training progress.
func (p *progress) stage(stage string, done, total int) {
	p.status(fmt.Sprintf("%s %d/%d", stage, done, total))
}

// done clears the line.
func (p *progress) done() {
	if p == nil || !p.on || p.width == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
	p.width = 0
}
