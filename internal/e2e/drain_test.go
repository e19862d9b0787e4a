package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrainOnSIGTERM sends half of a prediction request, stops the api with
// SIGTERM, waits until it takes no new connections, then sends the rest:
// the request in flight is answered in full, and the process exits 0.
func TestDrainOnSIGTERM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed, err := filepath.Abs(filepath.Join(dataDir, "seed_titanic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, "init", "--example", "titanic")
	mustRun(t, dir, "ingest-file", "titanic", seed)
	mustRun(t, dir, "train", "titanic", "--wait")
	s := startServer(t, dir, "api")
	addr := strings.TrimPrefix(s.base, "http://")

	body := `{"instances": [{"class": 1, "sex": "female", "age": 22, "embarked": "S"}, {"class": 3, "sex": "male", "age": 40}]}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	half := len(body) / 2
	// Expect: 100-continue makes the server say when the handler starts
	// reading the body, so SIGTERM is sent only once the request is really in
	// flight (not still in the kernel's accept queue, where closing the
	// listener resets it).
	fmt.Fprintf(conn, "POST /v1/models/titanic/predict HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(body))
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("waiting for 100 Continue: %v, %v", cont, err)
	}
	if _, err := conn.Write([]byte(body[:half])); err != nil {
		t.Fatalf("send half of the body: %v", err)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes first: wait for new connections to be refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the api still accepts connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-s.done:
		t.Fatalf("mlserve exited (%v) with a request in flight", s.waitErr)
	default:
	}
	if _, err := conn.Write([]byte(body[half:])); err != nil {
		t.Fatalf("send the rest of the body: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read the answer of the request in flight: %v", err)
	}
	defer res.Body.Close()
	var got struct {
		Version     int               `json:"version"`
		Predictions []json.RawMessage `json:"predictions"`
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusOK || len(got.Predictions) != 2 || got.Version != 1 {
		t.Fatalf("request in flight: status %d, %+v, %v; want 200 with 2 predictions of version 1", res.StatusCode, got, err)
	}
	select {
	case <-s.done:
		if s.waitErr != nil {
			t.Fatalf("after SIGTERM: %v, want exit status 0", s.waitErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("mlserve did not exit within 15 s of answering the last request")
	}
}
