package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker/internal/agent"
)

// The standard streams of a process on a container host. A log file under
// a directory bind-mounted into every container at the same path (the
// plan's log directory, when the engine shares this machine's files) is
// opened by the agent itself: the process writes its own log, as a local
// one does. Anything else (a log file the container cannot see, a pipe to
// a watched log, a Go reader for stdin) is a pipe in the container,
// relayed by the agent as a stream of its protocol: the backend writes
// what comes out to the plan's file, and sends the input.

// stdio is the preparation of a process's streams.
type stdio struct {
	conn    *agentConn
	files   [3]string // for the agent: files it opens
	streams [3]uint64 // for the agent: the rest
	in      io.Reader // relayed to streams[0] once the process runs
	inFile  *os.File  // a duplicate the relay closes, if in is a file
}

// prepareStdio prepares the streams of c, for the agent of conn.
func (s *session) prepareStdio(conn *agentConn, c *proctest.Command) (*stdio, error) {
	st := &stdio{conn: conn}
	for i, f := range []*os.File{c.Stdout, c.Stderr} {
		if f == nil {
			continue
		}
		if path := s.mountedFile(f); path != "" {
			st.files[i+1] = path
			continue
		}
		// The plan closes its own as soon as the process started.
		out, err := dupFile(f)
		if err != nil {
			st.abort()
			return nil, fmt.Errorf("docker: %s: %w", streamName[i+1], err)
		}
		id, ok := conn.newStream(func(data []byte, eof bool) {
			if len(data) > 0 {
				out.Write(data)
			}
			if eof {
				out.Close()
			}
		})
		if !ok {
			out.Close()
			st.abort()
			return nil, errAgentGone
		}
		st.streams[i+1] = id
	}
	if c.Stdin != nil {
		st.in = c.Stdin
		if f, ok := c.Stdin.(*os.File); ok {
			// As for output: the plan closes its own once the process
			// started (a pipe from its copy of a reader, or a file).
			in, err := dupFile(f)
			if err != nil {
				st.abort()
				return nil, fmt.Errorf("docker: stdin: %w", err)
			}
			st.in, st.inFile = in, in
		}
		id, ok := conn.newStream(nil)
		if !ok {
			st.abort()
			return nil, errAgentGone
		}
		st.streams[0] = id
	}
	return st, nil
}

var streamName = [3]string{"stdin", "stdout", "stderr"}

// dupFile returns a duplicate of f, in non-blocking mode, so that a read
// or write blocked in it (a pipe) returns once it is closed. (f.Fd would
// make the file blocking: the descriptor is duplicated without it.)
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	cerr := rc.Control(func(orig uintptr) {
		fd, err = unix.FcntlInt(orig, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// mountedFile returns the path of f if it is a regular file under a
// directory bind-mounted at the same path in the containers, else "".
func (s *session) mountedFile(f *os.File) string {
	if len(s.mounts) == 0 {
		return ""
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	path, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return ""
	}
	for _, m := range s.mounts {
		if strings.HasPrefix(path, m+string(filepath.Separator)) {
			return path
		}
	}
	return ""
}

// start starts the relay of the standard input, if any, joined by wg,
// once the process runs; the relay ends with the process (its host's
// agent gone included), even if its input has not.
func (st *stdio) start(wg *sync.WaitGroup, ended <-chan struct{}) {
	if st.in == nil {
		return
	}
	relayed := make(chan struct{})
	var once sync.Once
	closeIn := func() {
		if st.inFile != nil {
			once.Do(func() { st.inFile.Close() })
		}
	}
	wg.Go(func() {
		// A read blocked in a file (the plan's pipe) returns once the
		// file is closed.
		select {
		case <-ended:
			closeIn()
		case <-relayed:
		}
	})
	wg.Go(func() {
		defer close(relayed)
		defer closeIn()
		buf := make([]byte, 32<<10)
		for {
			n, err := st.in.Read(buf)
			if n > 0 {
				req := agent.Request{Op: agent.OpWrite, Stream: st.streams[0], Data: buf[:n]}
				if _, werr := st.conn.request(context.Background(), req, nil); werr != nil {
					return // the process, or its host, is gone
				}
			}
			if err != nil {
				// At the end, or a failed read: the process sees the
				// end of its input either way.
				st.conn.request(context.Background(), agent.Request{Op: agent.OpWrite, Stream: st.streams[0], EOF: true}, nil)
				return
			}
		}
	})
}

// abort undoes the preparation of a process that did not start.
func (st *stdio) abort() {
	for _, id := range st.streams[1:] {
		if id != 0 {
			st.conn.dropStream(id)
		}
	}
	if st.inFile != nil {
		st.inFile.Close()
	}
}
