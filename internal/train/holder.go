package train

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LeaseName is the name of a pipeline's training lease.
func LeaseName(pipeline string) string { return "train:" + pipeline }

// Holder names the holder of a training lease: the process (its host, the
// machine's boot, its pid namespace and pid, and an instance id drawn at
// its start) and the run it trains. A sweeper reads it back to tell a
// holder that is gone from one that is alive (see Holder.Gone).
type Holder struct {
	Host     string
	PID      int
	Boot     string // the kernel's boot id; "" where unknown
	PIDNS    string // the pid namespace; "" where unknown
	Instance string
	// Run is the run trained; 0 for a holder that trains nothing (a
	// sweeper taking an expired lease over).
	Run int64
}

// self is this process, named once at start.
var self = func() Holder {
	var b [6]byte
	_, _ = rand.Read(b[:])
	host, _ := os.Hostname()
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return Holder{
		Host: strings.ReplaceAll(host, "/", "_"), PID: os.Getpid(),
		Boot:  strings.TrimSpace(string(boot)),
		PIDNS: strings.Trim(strings.TrimPrefix(ns, "pid:"), "[]"), Instance: hex.EncodeToString(b[:]),
	}
}()

// Self returns this process as a lease holder of run (0: no run).
func Self(run int64) Holder {
	h := self
	h.Run = run
	return h
}

// String is the stored form: host/pid/boot/pidns/instance/run-N.
func (h Holder) String() string {
	return fmt.Sprintf("%s/%d/%s/%s/%s/run-%d", h.Host, h.PID, h.Boot, h.PIDNS, h.Instance, h.Run)
}

// Process describes the holder's process for people: "host pid 123".
func (h Holder) Process() string { return fmt.Sprintf("%s pid %d", h.Host, h.PID) }

// ParseHolder reads a Holder back from its stored form; ok is false for
// anything else (a lease of another kind or of an older version).
func ParseHolder(s string) (h Holder, ok bool) {
	f := strings.Split(s, "/")
	if len(f) != 6 {
		return Holder{}, false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		return Holder{}, false
	}
	run, err := strconv.ParseInt(strings.TrimPrefix(f[5], "run-"), 10, 64)
	if err != nil || !strings.HasPrefix(f[5], "run-") {
		return Holder{}, false
	}
	return Holder{Host: f[0], PID: pid, Boot: f[2], PIDNS: f[3], Instance: f[4], Run: run}, true
}

// Gone reports whether h's process is known to have ended without waiting
// for its lease to expire: it ran on this machine, since its last boot, in
// this pid namespace, and either no process has its pid any more or that
// pid is this process under another instance id (a container restarted
// as pid 1). A machine rebooted since also ends it. Anything else (another
// machine or container) is not known here: its lease expires instead.
func (h Holder) Gone() bool {
	me := self
	if h.Host != me.Host || h.Boot == "" || me.Boot == "" {
		return false
	}
	if h.Boot != me.Boot {
		return true
	}
	if h.PIDNS == "" || h.PIDNS != me.PIDNS {
		return false
	}
	if h.PID == me.PID {
		return h.Instance != me.Instance
	}
	return !processAlive(h.PID)
}
