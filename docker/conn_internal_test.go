package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/proctest/proctest/docker/internal/agent"
)

// TestDemux separates the frames of an attached stream.
func TestDemux(t *testing.T) {
	var in bytes.Buffer
	frame := func(stream byte, s string) {
		h := [8]byte{stream}
		binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
		in.Write(h[:])
		in.WriteString(s)
	}
	frame(1, "hel")
	frame(2, "diag 1\n")
	frame(1, "lo\n")
	frame(1, "")
	frame(2, "diag 2\n")
	frame(1, "world\n")
	var stderr bytes.Buffer
	out, err := io.ReadAll(&demux{r: bufio.NewReader(&in), stderr: &stderr})
	if err != nil || string(out) != "hello\nworld\n" || stderr.String() != "diag 1\ndiag 2\n" {
		t.Errorf("demux: stdout %q, stderr %q, %v; want %q, %q", out, stderr.String(), err, "hello\nworld\n", "diag 1\ndiag 2\n")
	}
}

// fakeAgent answers every request on the backend's side of an agentConn
// with success, as the agent would, framing its lines as the engine does.
func fakeAgent(t *testing.T) *agentConn {
	t.Helper()
	backend, agentSide := net.Pipe()
	outR, outW := io.Pipe()
	go func() {
		dec := agent.NewDecoder(agentSide)
		for {
			var req agent.Request
			if dec.Decode(&req) != nil {
				outW.Close()
				return
			}
			line, _ := json.Marshal(agent.Message{ID: req.ID})
			line = append(line, '\n')
			h := [8]byte{1}
			binary.BigEndian.PutUint32(h[4:], uint32(len(line)))
			outW.Write(append(h[:], line...))
		}
	}()
	c := newAgentConn(backend, bufio.NewReader(outR), io.Discard)
	t.Cleanup(func() {
		agentSide.Close()
		c.close()
	})
	return c
}

// TestStreamConn: a dialled connection's reads, as a net.Conn's: data in
// order, a zero-length read returns at once, a deadline ends a read,
// Close wakes every blocked reader, and a Write after Close fails.
func TestStreamConn(t *testing.T) {
	c := fakeAgent(t)
	conn, err := dialAgent(context.Background(), c, "tcp", "n1:7000")
	if err != nil {
		t.Fatal(err)
	}
	sc := conn.(*streamConn)
	sc.deliver([]byte("hello "), false)
	sc.deliver([]byte("world"), false)
	if n, err := conn.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v; want 0, nil at once", n, err)
	}
	b := make([]byte, 64)
	n, _ := conn.Read(b)
	if string(b[:n]) != "hello world" {
		t.Errorf("Read = %q, want %q", b[:n], "hello world")
	}
	if _, err := conn.Write([]byte("to the agent")); err != nil {
		t.Errorf("Write: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := conn.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	conn.SetReadDeadline(time.Time{})
	const readers = 4
	ended := make(chan error, readers)
	for range readers {
		go func() {
			_, err := conn.Read(make([]byte, 8))
			ended <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	conn.Close()
	for i := range readers {
		select {
		case err := <-ended:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("blocked Read after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d blocked readers still blocked 5 s after Close", readers-i, readers)
		}
	}
	if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v, want net.ErrClosed", err)
	}
}
