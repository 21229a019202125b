package docker

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker/internal/agent"
)

// agentConn is the protocol with one life of a host's agent, over the
// container's attached standard streams. Its reader goroutine, started by
// newAgentConn, runs until the stream ends; done is closed then, after
// every task of this life has been told how it ended.
type agentConn struct {
	conn   net.Conn      // writes: requests
	r      *bufio.Reader // reads: the multiplexed stdout and stderr
	stderr io.Writer     // the agent's diagnostics

	wmu sync.Mutex // serializes writes

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*call
	tasks   map[uint64]*task // started, not ended, by start request
	sinks   map[uint64]sink
	closed  bool
	err     error // why the stream ended, if not at its end

	ready chan agent.Message // the ready event, once
	done  chan struct{}
}

// A sink takes the data of a stream the agent reads, in order, in the
// reader goroutine: once with eof set, at the stream's end or the
// agent's.
type sink func(data []byte, eof bool)

// call is a request waiting for its reply.
type call struct {
	reply chan agent.Message // buffered: the reader never blocks
	task  *task              // for a start: registered with the reply
}

// newAgentConn starts reading the agent's stream.
func newAgentConn(conn net.Conn, r *bufio.Reader, stderr io.Writer) *agentConn {
	c := &agentConn{
		conn: conn, r: r, stderr: stderr,
		pending: map[uint64]*call{}, tasks: map[uint64]*task{}, sinks: map[uint64]sink{},
		ready: make(chan agent.Message, 1), done: make(chan struct{}),
	}
	go c.read()
	return c
}

// errAgentGone is the error of a request the agent will never answer.
var errAgentGone = errors.New("the host's agent is gone (the host was killed or its container ended)")

// read reads the agent's messages until the stream ends, then fails what
// waits for a reply and ends every task still running: the agent was the
// init of the container, and the kernel kills every process of a PID
// namespace when its init dies.
func (c *agentConn) read() {
	defer close(c.done)
	dec := agent.NewDecoder(&demux{r: c.r, stderr: c.stderr})
	var err error
	for {
		var m agent.Message
		if err = dec.Decode(&m); err != nil {
			break
		}
		c.deliver(m)
	}
	c.mu.Lock()
	c.closed = true
	if err != io.EOF {
		c.err = err
	}
	pending, tasks, sinks := c.pending, c.tasks, c.sinks
	c.pending, c.tasks, c.sinks = nil, nil, nil
	c.mu.Unlock()
	for _, cl := range pending {
		cl.reply <- agent.Message{Err: errAgentGone.Error()}
	}
	for _, s := range sinks {
		s(nil, true)
	}
	for _, t := range tasks {
		t.finish(proctest.Status{Signal: syscall.SIGKILL})
	}
	c.conn.Close()
}

// deliver hands a message to what waits for it.
func (c *agentConn) deliver(m agent.Message) {
	switch {
	case m.ID != 0:
		c.mu.Lock()
		cl := c.pending[m.ID]
		delete(c.pending, m.ID)
		if cl != nil && cl.task != nil && m.Err == "" {
			// Before any event about it can be read.
			cl.task.pid, cl.task.start = m.Pid, m.ID
			c.tasks[m.ID] = cl.task
		}
		c.mu.Unlock()
		if cl != nil {
			cl.reply <- m
		}
	case m.Event == agent.EventReady:
		select {
		case c.ready <- m:
		default:
		}
	case m.Event == agent.EventData:
		c.mu.Lock()
		s := c.sinks[m.Stream]
		if m.EOF {
			delete(c.sinks, m.Stream)
		}
		c.mu.Unlock()
		if s != nil {
			s(m.Data, m.EOF)
		}
	case m.Event == agent.EventExit:
		c.mu.Lock()
		t := c.tasks[m.Task]
		delete(c.tasks, m.Task)
		c.mu.Unlock()
		if t != nil {
			t.finish(proctest.Status{Code: m.Code, Signal: syscall.Signal(m.Signal)})
		}
	}
}

// newStream returns the number of a new stream, whose data goes to s
// (if not nil) until its end; ok is false if the agent is gone (s is
// not called).
func (c *agentConn) newStream(s sink) (id uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	c.nextID++
	if s != nil {
		c.sinks[c.nextID] = s
	}
	return c.nextID, true
}

// dropStream forgets the sink of a stream that will never be used, and
// calls it with eof.
func (c *agentConn) dropStream(id uint64) {
	c.mu.Lock()
	s := c.sinks[id]
	delete(c.sinks, id)
	c.mu.Unlock()
	if s != nil {
		s(nil, true)
	}
}

// send writes req and returns the call that gets its reply.
func (c *agentConn) send(req agent.Request, t *task) (*call, error) {
	cl := &call{reply: make(chan agent.Message, 1), task: t}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errAgentGone
	}
	c.nextID++
	req.ID = c.nextID
	c.pending[req.ID] = cl
	c.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	c.wmu.Lock()
	_, err = c.conn.Write(append(line, '\n'))
	c.wmu.Unlock()
	if err != nil {
		c.mu.Lock()
		delete(c.pending, req.ID)
		c.mu.Unlock()
		return nil, fmt.Errorf("write to the host's agent: %w", err)
	}
	return cl, nil
}

// request sends req and waits for its reply.
func (c *agentConn) request(ctx context.Context, req agent.Request, t *task) (agent.Message, error) {
	cl, err := c.send(req, t)
	if err != nil {
		return agent.Message{}, err
	}
	select {
	case m := <-cl.reply:
		switch m.Err {
		case "":
			return m, nil
		case errAgentGone.Error():
			return m, errAgentGone
		case agent.ErrDone:
			return m, os.ErrProcessDone
		}
		return m, errors.New(m.Err)
	case <-ctx.Done():
		return agent.Message{}, ctx.Err()
	}
}

// close ends the stream and waits for the reader.
func (c *agentConn) close() {
	c.conn.Close()
	<-c.done
}

// demux reads the standard output of a container attached without a
// terminal, passing its standard error on: the engine sends frames of
// an 8-byte header (the stream: 1 stdout, 2 stderr; 3 bytes of 0; the
// length, big-endian) and the bytes.
type demux struct {
	r      *bufio.Reader
	stderr io.Writer
	left   int // bytes of stdout left in the current frame
}

func (d *demux) Read(p []byte) (int, error) {
	for d.left == 0 {
		var h [8]byte
		if _, err := io.ReadFull(d.r, h[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		n := int(binary.BigEndian.Uint32(h[4:]))
		if h[0] == 1 {
			d.left = n
			continue
		}
		if _, err := io.CopyN(d.stderr, d.r, int64(n)); err != nil {
			return 0, err
		}
	}
	if len(p) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= n
	return n, err
}

// task is a program started by a host's agent.
type task struct {
	host *host
	conn *agentConn
	pid  int // set before the start's reply is delivered
	// start is the ID of its start request, set with pid.
	start uint64

	once   sync.Once
	status proctest.Status
	ended  chan struct{}
}

// finish records how the task ended; only the first call counts.
func (t *task) finish(st proctest.Status) {
	t.once.Do(func() {
		t.status = st
		close(t.ended)
	})
}

// Pid returns the process id, in the container's PID namespace.
func (t *task) Pid() int { return t.pid }

// Signal sends sig to the process group of the process through the
// agent. On a paused host the agent cannot answer until the host
// resumes: the signal is then sent without waiting, and is delivered on
// resume, as a signal to a frozen process is.
func (t *task) Signal(sig syscall.Signal) error {
	select {
	case <-t.ended:
		return os.ErrProcessDone
	default:
	}
	req := agent.Request{Op: agent.OpSignal, Pid: t.pid, Task: t.start, Sig: int(sig)}
	if t.host.paused.Load() {
		_, err := t.conn.send(req, nil)
		return err
	}
	_, err := t.conn.request(context.Background(), req, nil)
	if errors.Is(err, errAgentGone) {
		// The host was killed: the process died with it.
		return os.ErrProcessDone
	}
	return err
}

// Pause stops the process group with SIGSTOP.
func (t *task) Pause() error { return t.Signal(syscall.SIGSTOP) }

// Resume continues the process group with SIGCONT.
func (t *task) Resume() error { return t.Signal(syscall.SIGCONT) }

// Wait waits for the agent's word of the process's end, or for the end
// of the agent (the host was killed: death by SIGKILL).
func (t *task) Wait() (proctest.Status, error) {
	<-t.ended
	return t.status, nil
}
