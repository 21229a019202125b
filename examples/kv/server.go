package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

const (
	maxValueSize = 1 << 20          // largest accepted value, in bytes
	maxBatch     = 1000             // most entries returned by one GET /log
	maxPollWait  = 10 * time.Second // longest wait a GET /log may ask for
	pollWait     = 2 * time.Second  // wait a caught-up follower asks for
	minBackoff   = 50 * time.Millisecond
	maxBackoff   = time.Second
	logFileName  = "log.jsonl"
)

// errCrashed stops replication once a node has decided to crash.
var errCrashed = errors.New("crash requested")

// config holds the settings of one node.
type config struct {
	name       string
	addr       string
	leader     string // empty for the leader; changed by promote and follow, under node.mu
	dataDir    string // empty for an in-memory node
	crashAfter int
	members    int           // with -quorum: the cluster's size
	quorumWait time.Duration // with -quorum: how long a write waits for a majority
	stdout     io.Writer     // receives the readiness lines
	stderr     io.Writer     // receives operational messages
}

// entry is one write in the replicated log.
type entry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// logResponse is the body of GET /log: the entries from index From on and
// the serving node's version at the time of the reply.
type logResponse struct {
	From    int     `json:"from"`
	Entries []entry `json:"entries"`
	Version int     `json:"version"`
}

// status is the body of GET /status.
type status struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Version int    `json:"version"`
	Ready   bool   `json:"ready"`
	Leader  string `json:"leader,omitempty"`
}

// node is the state of one leader or follower.
type node struct {
	config
	logger   *log.Logger
	exit     func(code int) // os.Exit, replaceable in tests
	stopping chan struct{}  // closed when shutdown starts

	mu       sync.Mutex
	entries  []entry // append-only; version == len(entries)
	data     map[string]string
	changed  chan struct{} // closed and replaced on every append
	file     *os.File      // nil without -data
	writes   int           // writes or replicated entries handled by this process
	crashing bool
	quorum   *quorum       // the leader's, with -quorum
	ready    bool          // leader: always; follower: once first caught up
	roles    chan struct{} // closed and replaced when the node is promoted or follows another
}

// newNode creates a node, loading its log from cfg.dataDir if set.
func newNode(cfg config) (*node, error) {
	n := &node{
		config:   cfg,
		logger:   log.New(cfg.stderr, cfg.name+": ", log.Ltime|log.Lmicroseconds|log.Lmsgprefix),
		exit:     os.Exit,
		stopping: make(chan struct{}),
		data:     make(map[string]string),
		changed:  make(chan struct{}),
		ready:    cfg.leader == "",
		roles:    make(chan struct{}),
	}
	if cfg.members > 0 && cfg.leader == "" {
		n.quorum = &quorum{members: cfg.members, wait: cfg.quorumWait, acked: map[string]int{}, changed: make(chan struct{})}
	}
	if cfg.dataDir != "" {
		f, entries, dropped, err := openLog(cfg.dataDir)
		if err != nil {
			return nil, err
		}
		if dropped > 0 {
			n.logger.Printf("discarded %d bytes of torn log tail", dropped)
		}
		n.file = f
		for _, e := range entries {
			n.entries = append(n.entries, e)
			n.data[e.Key] = e.Value
		}
	}
	return n, nil
}

// openLog reads dir/log.jsonl, truncates any torn or corrupt tail, and
// returns the file positioned for appending, the entries and the number of
// bytes discarded.
func openLog(dir string) (*os.File, []entry, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, 0, err
	}
	f, err := os.OpenFile(filepath.Join(dir, logFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, 0, err
	}
	var entries []entry
	var good int64
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break // a final line without newline is torn
		}
		if err != nil {
			f.Close()
			return nil, nil, 0, err
		}
		var e entry
		if json.Unmarshal(line, &e) != nil {
			break
		}
		entries = append(entries, e)
		good += int64(len(line))
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil && size > good {
		err = f.Truncate(good)
	}
	if err == nil {
		_, err = f.Seek(good, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	return f, entries, size - good, nil
}

// appendLocked persists e, applies it and wakes waiting log readers.
// n.mu must be held.
func (n *node) appendLocked(e entry) error {
	if n.file != nil {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := n.file.Write(append(b, '\n')); err != nil {
			return err
		}
		if err := n.file.Sync(); err != nil {
			return err
		}
	}
	n.entries = append(n.entries, e)
	n.data[e.Key] = e.Value
	close(n.changed)
	n.changed = make(chan struct{})
	return nil
}

// countWriteLocked records one write and reports whether the node must now
// crash. n.mu must be held.
func (n *node) countWriteLocked() bool {
	n.writes++
	if n.crashAfter > 0 && n.writes >= n.crashAfter {
		n.crashing = true
	}
	return n.crashing
}

// crash reports the injected fault and exits with status 3.
func (n *node) crash() {
	fmt.Fprintf(n.stderr, "%s crashing after %d writes\n", n.name, n.crashAfter)
	n.exit(3)
}

// routes returns the node's HTTP handler.
func (n *node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key...}", n.handleGet)
	mux.HandleFunc("PUT /kv/{key...}", n.handlePut)
	mux.HandleFunc("GET /log", n.handleLog)
	mux.HandleFunc("GET /status", n.handleStatus)
	mux.HandleFunc("GET /healthz", n.handleHealthz)
	mux.HandleFunc("POST /promote", n.handlePromote)
	mux.HandleFunc("POST /follow", n.handleFollow)
	return mux
}

// handleGet returns the value of a key, or 404.
func (n *node) handleGet(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	v, ok := n.data[r.PathValue("key")]
	n.mu.Unlock()
	if !ok {
		http.Error(w, "key not found", http.StatusNotFound)
		return
	}
	io.WriteString(w, v)
}

// handlePut appends a write to the log; only the leader accepts writes.
func (n *node) handlePut(w http.ResponseWriter, r *http.Request) {
	if leader := n.leaderAddr(); leader != "" {
		w.Header().Set("X-Kv-Leader", leader)
		http.Error(w, fmt.Sprintf("%s is a follower; send writes to the leader at %s", n.name, leader),
			http.StatusMisdirectedRequest)
		return
	}
	key := r.PathValue("key")
	if key == "" {
		http.Error(w, "empty key", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValueSize))
	if err != nil {
		http.Error(w, "reading value: "+err.Error(), http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	if n.crashing {
		n.mu.Unlock()
		http.Error(w, "node is crashing", http.StatusServiceUnavailable)
		return
	}
	if err := n.appendLocked(entry{Key: key, Value: string(body)}); err != nil {
		n.mu.Unlock()
		n.logger.Printf("write failed: %v", err)
		http.Error(w, "write failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	version := len(n.entries)
	crash := n.countWriteLocked()
	n.mu.Unlock()
	if n.quorum != nil && !crash {
		if err := n.awaitMajority(r.Context(), version); err != nil {
			refuseWithoutMajority(w, err)
			return
		}
	}
	writeJSON(w, map[string]int{"version": version})
	if crash {
		http.NewResponseController(w).Flush()
		n.crash()
	}
}

// handleLog serves GET /log?from=N&wait=D: the entries from index N on,
// waiting up to D for new ones if there are none yet.
func (n *node) handleLog(w http.ResponseWriter, r *http.Request) {
	from, err := strconv.Atoi(r.URL.Query().Get("from"))
	if err != nil || from < 0 {
		http.Error(w, "bad or missing from", http.StatusBadRequest)
		return
	}
	var wait time.Duration
	if s := r.URL.Query().Get("wait"); s != "" {
		if wait, err = time.ParseDuration(s); err != nil {
			http.Error(w, "bad wait", http.StatusBadRequest)
			return
		}
	}
	timer := time.NewTimer(min(wait, maxPollWait))
	defer timer.Stop()
	expired := wait <= 0
	for {
		n.mu.Lock()
		n.noteAckLocked(r.URL.Query().Get("name"), from)
		version, changed := len(n.entries), n.changed
		if from > version {
			n.mu.Unlock()
			http.Error(w, fmt.Sprintf("from %d is beyond the end of the log (version %d)", from, version),
				http.StatusConflict)
			return
		}
		if from < version || expired {
			// Entries below len are never modified, so the slice may be
			// read after unlocking.
			resp := logResponse{From: from, Entries: n.entries[from:min(version, from+maxBatch)], Version: version}
			n.mu.Unlock()
			writeJSON(w, resp)
			return
		}
		n.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			expired = true
		case <-n.stopping:
			expired = true
		case <-r.Context().Done():
			return
		}
	}
}

// handleStatus reports the node's name, role and version.
func (n *node) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, n.status())
}

// leaderAddr returns the address of the node's leader, or "" for a leader.
func (n *node) leaderAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader
}

// setLeader makes the node follow leader, or lead for "", and wakes the
// replication loop.
func (n *node) setLeader(leader string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leader = leader
	n.ready = n.ready || leader == ""
	close(n.roles)
	n.roles = make(chan struct{})
	return len(n.entries)
}

// handlePromote makes a follower the leader: it stops replicating and
// accepts writes. It prints "NAME promoted at version N".
func (n *node) handlePromote(w http.ResponseWriter, r *http.Request) {
	version := n.setLeader("")
	fmt.Fprintf(n.stdout, "%s promoted at version %d\n", n.name, version)
	n.logger.Printf("promoted to leader at version %d", version)
	writeJSON(w, map[string]int{"version": version})
}

// handleFollow serves POST /follow?leader=HOST:PORT: the node replicates
// from that leader from now on, from its own version. It prints "NAME
// following HOST:PORT".
func (n *node) handleFollow(w http.ResponseWriter, r *http.Request) {
	leader := r.URL.Query().Get("leader")
	if leader == "" {
		http.Error(w, "missing leader", http.StatusBadRequest)
		return
	}
	version := n.setLeader(leader)
	fmt.Fprintf(n.stdout, "%s following %s\n", n.name, leader)
	n.logger.Printf("following %s from version %d", leader, version)
	writeJSON(w, map[string]int{"version": version})
}

// handleHealthz answers 200 once the node is ready to serve reads.
func (n *node) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if !n.status().Ready {
		http.Error(w, "catching up", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// status returns a snapshot of the node's state.
func (n *node) status() status {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := status{Name: n.name, Role: "leader", Version: len(n.entries), Ready: n.ready}
	if n.leader != "" {
		s.Role, s.Leader = "follower", n.leader
	}
	return s
}

// writeJSON writes v as a JSON response body.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// replicate pulls entries from the leader until ctx is cancelled, retrying
// with capped exponential backoff when the leader is unreachable. A failure
// is logged when it first occurs or changes, not on every retry.
func (n *node) replicate(ctx context.Context) {
	client := &http.Client{Timeout: maxPollWait + 5*time.Second}
	backoff := minBackoff
	lastErr := ""
	for ctx.Err() == nil {
		n.mu.Lock()
		leader, roles := n.leader, n.roles
		n.mu.Unlock()
		if leader == "" {
			// A leader, until told to follow another.
			select {
			case <-roles:
			case <-ctx.Done():
			}
			continue
		}
		err := n.pull(ctx, client, leader)
		if errors.Is(err, errCrashed) || ctx.Err() != nil {
			return
		}
		if err == nil {
			if lastErr != "" {
				n.logger.Printf("replication from %s resumed at version %d", n.leaderAddr(), n.status().Version)
			}
			backoff, lastErr = minBackoff, ""
			continue
		}
		if err.Error() != lastErr {
			lastErr = err.Error()
			n.logger.Printf("replication from %s failing, retrying: %v", n.leaderAddr(), err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// pull fetches and applies one batch of entries from the leader. Until the
// follower has caught up it asks not to wait, so catching up is prompt.
func (n *node) pull(ctx context.Context, client *http.Client, leader string) error {
	n.mu.Lock()
	from, ready := len(n.entries), n.ready
	n.mu.Unlock()
	wait := pollWait
	if !ready {
		wait = 0
	}
	url := fmt.Sprintf("%s/log?from=%d&wait=%s&name=%s", baseURL(leader), from, wait, n.name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("leader answered %s: %s", resp.Status, readMessage(resp))
	}
	var lr logResponse
	if err := json.NewDecoder(resp.Body).Decode(&lr); err != nil {
		return fmt.Errorf("decoding log: %w", err)
	}
	if lr.From != from {
		return fmt.Errorf("leader sent entries from %d, asked for %d", lr.From, from)
	}
	for _, e := range lr.Entries {
		if err := n.applyReplicated(e); err != nil {
			return err
		}
	}
	n.mu.Lock()
	version := len(n.entries)
	first := !n.ready && version >= lr.Version
	n.ready = n.ready || first
	n.mu.Unlock()
	if first {
		fmt.Fprintf(n.stdout, "%s caught up at version %d\n", n.name, version)
	}
	return nil
}

// applyReplicated appends one entry received from the leader, crashing if
// -crash-after says so.
func (n *node) applyReplicated(e entry) error {
	n.mu.Lock()
	if n.crashing {
		n.mu.Unlock()
		return errCrashed
	}
	if err := n.appendLocked(e); err != nil {
		n.mu.Unlock()
		return err
	}
	crash := n.countWriteLocked()
	n.mu.Unlock()
	if crash {
		n.crash()
		return errCrashed
	}
	return nil
}

// close releases the node's log file.
func (n *node) close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.file == nil {
		return nil
	}
	err := n.file.Close()
	n.file = nil
	return err
}

// serve runs a node until ctx is cancelled, then shuts it down gracefully.
func serve(ctx context.Context, cfg config) error {
	n, err := newNode(cfg)
	if err != nil {
		return err
	}
	defer n.close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: n.routes(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: n.logger}
	fmt.Fprintf(n.stdout, "%s listening on %s\n", n.name, ln.Addr())
	st := n.status()
	n.logger.Printf("started as %s at version %d", st.Role, st.Version)

	replCtx, stopRepl := context.WithCancel(ctx)
	defer stopRepl()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.replicate(replCtx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopRepl()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	n.logger.Printf("shutting down at version %d", n.status().Version)
	close(n.stopping)
	stopRepl()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	wg.Wait()
	return err
}
