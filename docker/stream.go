package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/proctest/proctest/docker/internal/agent"
)

// dialAgent connects to addr from inside the container of conn's agent:
// the agent dials, and the connection is a stream of its protocol.
func dialAgent(ctx context.Context, conn *agentConn, network, addr string) (net.Conn, error) {
	sc := &streamConn{conn: conn, network: network, addr: addr, notify: make(chan struct{}, 1), closing: make(chan struct{})}
	id, ok := conn.newStream(sc.deliver)
	if !ok {
		return nil, errAgentGone
	}
	sc.id = id
	req := agent.Request{Op: agent.OpDial, Stream: id, Network: network, Addr: addr}
	if d, ok := ctx.Deadline(); ok {
		req.Timeout = max(time.Until(d), time.Millisecond)
	}
	cl, err := conn.send(req, nil)
	if err != nil {
		conn.dropStream(id)
		return nil, err
	}
	select {
	case m := <-cl.reply:
		if m.Err != "" {
			conn.dropStream(id)
			return nil, errors.New(m.Err)
		}
		return sc, nil
	case <-ctx.Done():
		conn.dropStream(id)
		// The agent may still connect: closed once it has. (The reply
		// comes, at the latest when the agent's stream ends.)
		go func() {
			if m := <-cl.reply; m.Err == "" {
				conn.send(agent.Request{Op: agent.OpClose, Stream: id}, nil)
			}
		}()
		return nil, ctx.Err()
	}
}

// streamConn is a connection made by an agent: a [net.Conn] whose reads
// take what the agent sent of it, and whose writes are requests.
type streamConn struct {
	conn          *agentConn
	id            uint64
	network, addr string

	mu       sync.Mutex
	buf      []byte
	eof      bool // the agent sent all it will
	closed   bool
	deadline [2]time.Time  // read, write
	notify   chan struct{} // data, the end or a new deadline
	closing  chan struct{} // closed by Close: wakes every reader

	// wmu serializes writes: one request at a time on the stream, in
	// order. A write whose deadline passed while the agent wrote leaves
	// the connection broken: what the agent wrote of it is not known.
	wmu    sync.Mutex
	broken error
}

// deliver is the stream's sink.
func (sc *streamConn) deliver(data []byte, eof bool) {
	sc.mu.Lock()
	sc.buf = append(sc.buf, data...)
	sc.eof = sc.eof || eof
	sc.mu.Unlock()
	sc.wake()
}

func (sc *streamConn) wake() {
	select {
	case sc.notify <- struct{}{}:
	default:
	}
}

// Read implements [net.Conn].
func (sc *streamConn) Read(p []byte) (int, error) {
	for {
		sc.mu.Lock()
		switch {
		case sc.closed:
			sc.mu.Unlock()
			return 0, net.ErrClosed
		case len(p) == 0:
			sc.mu.Unlock()
			return 0, nil
		case len(sc.buf) > 0:
			n := copy(p, sc.buf)
			sc.buf = sc.buf[n:]
			sc.mu.Unlock()
			return n, nil
		case sc.eof:
			sc.mu.Unlock()
			return 0, io.EOF
		}
		d := sc.deadline[0]
		sc.mu.Unlock()
		if err := sc.wait(d); err != nil {
			return 0, err
		}
	}
}

// wait waits for a notification, or until d if not zero.
func (sc *streamConn) wait(d time.Time) error {
	var timeout <-chan time.Time
	if !d.IsZero() {
		left := time.Until(d)
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(left)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-sc.notify:
	case <-sc.closing:
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
	return nil
}

// Write implements [net.Conn]: each chunk is a request, answered once the
// agent has written it.
func (sc *streamConn) Write(p []byte) (int, error) {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	sc.mu.Lock()
	closed, d := sc.closed, sc.deadline[1]
	sc.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case sc.broken != nil:
		return 0, sc.opError(sc.broken)
	}
	ctx := context.Background()
	if !d.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	n := 0
	for n < len(p) {
		m := min(len(p)-n, 32<<10)
		if _, err := sc.conn.request(ctx, agent.Request{Op: agent.OpWrite, Stream: sc.id, Data: p[n : n+m]}, nil); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = os.ErrDeadlineExceeded
				sc.broken = fmt.Errorf("a write timed out while the agent wrote it: %w", err)
			}
			return n, sc.opError(err)
		}
		n += m
	}
	return n, nil
}

// opError wraps err as the error of a write.
func (sc *streamConn) opError(err error) error {
	return &net.OpError{Op: "write", Net: sc.network, Addr: sc.RemoteAddr(), Err: err}
}

// CloseWrite shuts down the writing side of the connection, as
// [net.TCPConn.CloseWrite] does.
func (sc *streamConn) CloseWrite() error {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	if _, err := sc.conn.request(context.Background(), agent.Request{Op: agent.OpWrite, Stream: sc.id, EOF: true}, nil); err != nil {
		return sc.opError(err)
	}
	return nil
}

// Close implements [net.Conn].
func (sc *streamConn) Close() error {
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return net.ErrClosed
	}
	sc.closed = true
	sc.mu.Unlock()
	close(sc.closing)
	sc.conn.dropStream(sc.id)
	// Not waited for: the agent closes it in its own time.
	sc.conn.send(agent.Request{Op: agent.OpClose, Stream: sc.id}, nil)
	return nil
}

// LocalAddr implements [net.Conn]: the agent's side is not known here.
func (sc *streamConn) LocalAddr() net.Addr { return streamAddr{sc.network, "container"} }

// RemoteAddr implements [net.Conn].
func (sc *streamConn) RemoteAddr() net.Addr { return streamAddr{sc.network, sc.addr} }

// SetDeadline implements [net.Conn].
func (sc *streamConn) SetDeadline(t time.Time) error {
	sc.SetReadDeadline(t)
	return sc.SetWriteDeadline(t)
}

// SetReadDeadline implements [net.Conn].
func (sc *streamConn) SetReadDeadline(t time.Time) error {
	sc.mu.Lock()
	sc.deadline[0] = t
	sc.mu.Unlock()
	sc.wake()
	return nil
}

// SetWriteDeadline implements [net.Conn].
func (sc *streamConn) SetWriteDeadline(t time.Time) error {
	sc.mu.Lock()
	sc.deadline[1] = t
	sc.mu.Unlock()
	return nil
}

// streamAddr is an address of a streamConn.
type streamAddr struct{ network, addr string }

func (a streamAddr) Network() string { return a.network }
func (a streamAddr) String() string  { return a.addr }
