package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns the buffer contents.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startNode creates a node and serves it with httptest.
func startNode(t *testing.T, cfg config) (*node, *httptest.Server) {
	t.Helper()
	if cfg.stdout == nil {
		cfg.stdout = io.Discard
	}
	if cfg.stderr == nil {
		cfg.stderr = io.Discard
	}
	n, err := newNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.routes())
	t.Cleanup(func() {
		srv.Close()
		n.close()
	})
	return n, srv
}

// do sends a request and returns the status code and body.
func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitVersion polls until n has applied at least v entries.
func waitVersion(t *testing.T, n *node, v int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.status().Version < v {
		if time.Now().After(deadline) {
			t.Fatalf("%s stuck at version %d, want %d", n.name, n.status().Version, v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLeaderPutGet checks writes, reads and status on a leader.
func TestLeaderPutGet(t *testing.T) {
	_, srv := startNode(t, config{name: "l"})
	if code, body := do(t, "PUT", srv.URL+"/kv/a%2Fb", "1"); code != 200 || !strings.Contains(body, `"version":1`) {
		t.Fatalf("put: %d %s", code, body)
	}
	if code, body := do(t, "GET", srv.URL+"/kv/a%2Fb", ""); code != 200 || body != "1" {
		t.Fatalf("get: %d %q", code, body)
	}
	if code, _ := do(t, "GET", srv.URL+"/kv/missing", ""); code != 404 {
		t.Fatalf("get missing: %d", code)
	}
	if code, _ := do(t, "PUT", srv.URL+"/kv/", "x"); code != 400 {
		t.Fatalf("put empty key: %d", code)
	}
	_, body := do(t, "GET", srv.URL+"/status", "")
	var st status
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Version != 1 || st.Role != "leader" || !st.Ready {
		t.Fatalf("status: %s (%v)", body, err)
	}
}

// TestFollowerRejectsWrites checks that a follower refuses writes and is
// not healthy before it has caught up.
func TestFollowerRejectsWrites(t *testing.T) {
	_, srv := startNode(t, config{name: "f", leader: "127.0.0.1:1"})
	code, body := do(t, "PUT", srv.URL+"/kv/a", "1")
	if code != http.StatusMisdirectedRequest || !strings.Contains(body, "127.0.0.1:1") {
		t.Fatalf("put on follower: %d %s", code, body)
	}
	if code, _ := do(t, "GET", srv.URL+"/healthz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before catching up: %d", code)
	}
}

// TestLogLongPoll checks that a waiting GET /log returns as soon as a
// write arrives.
func TestLogLongPoll(t *testing.T) {
	_, srv := startNode(t, config{name: "l"})
	if code, body := do(t, "GET", srv.URL+"/log?from=1", ""); code != http.StatusConflict {
		t.Fatalf("from beyond end: %d %s", code, body)
	}
	done := make(chan string)
	go func() {
		resp, err := http.Get(srv.URL + "/log?from=0&wait=5s")
		if err != nil {
			done <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- string(b)
	}()
	time.Sleep(20 * time.Millisecond) // let the poll start waiting
	do(t, "PUT", srv.URL+"/kv/k", "v")
	select {
	case body := <-done:
		var lr logResponse
		if err := json.Unmarshal([]byte(body), &lr); err != nil || len(lr.Entries) != 1 || lr.Version != 1 {
			t.Fatalf("log: %s (%v)", body, err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("long poll did not wake up on write")
	}
}

// TestReplicationAndCrashAfter replicates from an in-process leader and
// checks that -crash-after stops the follower at exactly N entries.
func TestReplicationAndCrashAfter(t *testing.T) {
	_, lsrv := startNode(t, config{name: "l"})
	for _, k := range []string{"a", "b", "c"} {
		do(t, "PUT", lsrv.URL+"/kv/"+k, "v"+k)
	}
	var out syncBuffer
	f, fsrv := startNode(t, config{name: "f", leader: lsrv.Listener.Addr().String(), crashAfter: 4, stdout: &out})
	exited := make(chan int, 1)
	f.exit = func(code int) { exited <- code }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.replicate(ctx)

	waitVersion(t, f, 3)
	if code, body := do(t, "GET", fsrv.URL+"/kv/b", ""); code != 200 || body != "vb" {
		t.Fatalf("get from follower: %d %q", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "f caught up at version 3\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no caught-up line, stdout: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	do(t, "PUT", lsrv.URL+"/kv/d", "vd")
	do(t, "PUT", lsrv.URL+"/kv/e", "ve")
	select {
	case code := <-exited:
		if code != 3 {
			t.Fatalf("exit code %d, want 3", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follower did not crash")
	}
	if v := f.status().Version; v != 4 {
		t.Fatalf("crashed at version %d, want 4", v)
	}
}

// TestLogPersistenceDropsTornTail checks that a torn final record is
// discarded on reload and that appending afterwards works.
func TestLogPersistenceDropsTornTail(t *testing.T) {
	dir := t.TempDir()
	n, err := newNode(config{name: "l", dataDir: dir, stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.appendLocked(entry{Key: "a", Value: "1"})
	n.appendLocked(entry{Key: "a", Value: "2\nwith newline"})
	n.mu.Unlock()
	n.close()

	path := filepath.Join(dir, logFileName)
	tail, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	tail.WriteString(`{"key":"b","val`) // a write cut short by a crash
	tail.Close()

	var stderr syncBuffer
	n, err = newNode(config{name: "l", dataDir: dir, stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.data["a"]; len(n.entries) != 2 || got != "2\nwith newline" {
		t.Fatalf("reloaded %d entries, a=%q", len(n.entries), got)
	}
	if !strings.Contains(stderr.String(), "discarded 15 bytes") {
		t.Fatalf("stderr: %q", stderr.String())
	}
	n.mu.Lock()
	n.appendLocked(entry{Key: "b", Value: "3"})
	n.mu.Unlock()
	n.close()

	f, entries, dropped, err := openLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if dropped != 0 || len(entries) != 3 || entries[2].Value != "3" {
		t.Fatalf("after append: entries %v, dropped %d", entries, dropped)
	}
}
