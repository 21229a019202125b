package agent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// The agent's side of streams (see the package doc): pipes to and from
// programs, and connections it dialled.

// chunk is the most a data event carries.
const chunk = 32 << 10

// outputGrace is how long the exit event of a program waits for the end
// of its output streams once it has ended.
const outputGrace = 100 * time.Millisecond

// writable is a stream the backend writes to.
type writable struct {
	mu sync.Mutex // held by the one write under way
	w  io.WriteCloser
}

// streams are the agent's open streams.
type streams struct {
	mu       sync.Mutex
	writable map[uint64]*writable
	conns    map[uint64]net.Conn
}

// addWritable registers w as stream id.
func (a *agent) addWritable(id uint64, w io.WriteCloser) {
	a.streams.mu.Lock()
	defer a.streams.mu.Unlock()
	if a.streams.writable == nil {
		a.streams.writable = map[uint64]*writable{}
	}
	a.streams.writable[id] = &writable{w: w}
}

// dropWritable forgets stream id, and closes it: the program that read
// it has ended.
func (a *agent) dropWritable(id uint64) {
	a.streams.mu.Lock()
	s := a.streams.writable[id]
	delete(a.streams.writable, id)
	a.streams.mu.Unlock()
	if s != nil {
		s.w.Close()
	}
}

// relayOut sends what r gives as stream id until its end, then closes
// it.
func (a *agent) relayOut(id uint64, r io.ReadCloser) {
	buf := make([]byte, chunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			a.send(Message{Event: EventData, Stream: id, Data: buf[:n]})
		}
		if err != nil {
			break
		}
	}
	r.Close()
	a.send(Message{Event: EventData, Stream: id, EOF: true})
}

// write answers an OpWrite, in a goroutine of its own: a program that
// does not read its input must not stop the agent.
func (a *agent) write(req *Request) {
	a.streams.mu.Lock()
	s := a.streams.writable[req.Stream]
	a.streams.mu.Unlock()
	if s == nil {
		a.send(Message{ID: req.ID, Err: fmt.Sprintf("no stream %d to write to", req.Stream)})
		return
	}
	go func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		var err error
		if len(req.Data) > 0 {
			_, err = s.w.Write(req.Data)
		}
		if req.EOF || err != nil {
			a.streams.mu.Lock()
			delete(a.streams.writable, req.Stream)
			a.streams.mu.Unlock()
			if c, ok := s.w.(*net.TCPConn); ok {
				c.CloseWrite()
			} else {
				s.w.Close()
			}
		}
		m := Message{ID: req.ID}
		if err != nil {
			m.Err = err.Error()
		}
		a.send(m)
	}()
}

// dial answers an OpDial, in a goroutine of its own.
func (a *agent) dial(req *Request) {
	go func() {
		timeout := req.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		c, err := net.DialTimeout(req.Network, req.Addr, timeout)
		if err != nil {
			a.send(Message{ID: req.ID, Err: err.Error()})
			return
		}
		a.streams.mu.Lock()
		if a.streams.conns == nil {
			a.streams.conns = map[uint64]net.Conn{}
		}
		a.streams.conns[req.Stream] = c
		a.streams.mu.Unlock()
		a.addWritable(req.Stream, c)
		// Replied before any data of the connection is sent.
		a.send(Message{ID: req.ID})
		// Closed by OpClose, not at the end of what it reads: the
		// backend may still write.
		go a.relayOut(req.Stream, io.NopCloser(c))
	}()
}

// closeConn answers an OpClose.
func (a *agent) closeConn(req *Request) {
	a.streams.mu.Lock()
	c := a.streams.conns[req.Stream]
	delete(a.streams.conns, req.Stream)
	delete(a.streams.writable, req.Stream)
	a.streams.mu.Unlock()
	if c == nil {
		a.send(Message{ID: req.ID, Err: fmt.Sprintf("no connection %d", req.Stream)})
		return
	}
	c.Close()
	a.send(Message{ID: req.ID})
}

// pipes makes the pipes of the streams of req: the ends for the program
// in files, the agent's returned. On error, what was made is closed.
func pipes(req *Request, files *[3]*os.File) (in *os.File, out [3]*os.File, err error) {
	for i, id := range req.Streams {
		if id == 0 {
			continue
		}
		if req.Files[i] != "" {
			err = errors.New("a standard stream is both a file and a stream")
			break
		}
		var r, w *os.File
		if r, w, err = os.Pipe(); err != nil {
			break
		}
		if i == 0 {
			files[0], in = r, w
		} else {
			files[i], out[i] = w, r
		}
	}
	if err != nil {
		if in != nil {
			in.Close()
		}
		for _, f := range out {
			if f != nil {
				f.Close()
			}
		}
		return nil, [3]*os.File{}, err
	}
	return in, out, nil
}

// relayPipes relays the agent's ends of a started program's pipes, and
// returns a channel closed once its output streams have ended.
func (a *agent) relayPipes(req *Request, in *os.File, out [3]*os.File) chan struct{} {
	if in != nil {
		a.addWritable(req.Streams[0], in)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range out {
		if f != nil {
			wg.Go(func() { a.relayOut(req.Streams[i], f) })
		}
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}
