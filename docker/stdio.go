package docker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/proctest/proctest"
)

// The standard streams of a process on a container host. A log file under
// the plan's log directory, which is bind-mounted into every container at
// the same path, is opened by the agent itself: the process writes its
// own log, as a local one does. Anything else (a pipe to a watched log, a
// Go reader for stdin) goes through a FIFO made in the log directory: the
// backend holds one end and copies between it and the stream, the agent
// opens the other for the process. The FIFO is unlinked once both ends
// are open, so nothing is left in the directory.

// stdio is the preparation of a process's streams.
type stdio struct {
	paths  [3]string  // for the agent
	hold   []*os.File // O_RDWR ends, so that neither side's open blocks
	fifos  []string   // to unlink
	relays []relay
}

// relay is a copy to start once the process runs.
type relay struct {
	fifo   string
	out    bool     // from the FIFO to file; else from in to the FIFO
	file   *os.File // a duplicate, closed by the relay
	in     io.Reader
	closed bool
}

// prepareStdio prepares the streams of c, mounted under dirs.
func (s *session) prepareStdio(c *proctest.Command) (*stdio, error) {
	st := &stdio{}
	if c.Stdin != nil {
		if err := st.fifo(s.fifoDir, c.Name, 0, nil, c.Stdin); err != nil {
			st.abort()
			return nil, err
		}
	}
	for i, f := range []*os.File{c.Stdout, c.Stderr} {
		if f == nil {
			continue
		}
		if path := s.mountedFile(f); path != "" {
			st.paths[i+1] = path
			continue
		}
		if err := st.fifo(s.fifoDir, c.Name, i+1, f, nil); err != nil {
			st.abort()
			return nil, err
		}
	}
	return st, nil
}

// mountedFile returns the path of f if it is a regular file under a
// directory bind-mounted at the same path in the containers, else "".
func (s *session) mountedFile(f *os.File) string {
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

var streamExt = [3]string{"stdin", "stdout", "stderr"}

// fifo makes a FIFO for stream i, relayed to out or from in.
func (st *stdio) fifo(dir, name string, i int, out *os.File, in io.Reader) error {
	b := make([]byte, 6)
	rand.Read(b)
	path := filepath.Join(dir, fmt.Sprintf(".fifo-%s-%s.%s", safe(name), hex.EncodeToString(b), streamExt[i]))
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("docker: FIFO for %s: %w", streamExt[i], err)
	}
	st.fifos = append(st.fifos, path)
	h, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("docker: FIFO for %s: %w", streamExt[i], err)
	}
	st.hold = append(st.hold, h)
	r := relay{fifo: path, out: out != nil, in: in}
	if f, ok := in.(*os.File); ok {
		// As for output: the plan closes its own once the process
		// started (a pipe from its copy of a reader, or a file).
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("docker: %s: %w", streamExt[i], err)
		}
		r.file = os.NewFile(uintptr(fd), f.Name())
		r.in = r.file
	}
	if out != nil {
		// The plan closes its own as soon as the process started.
		fd, err := unix.FcntlInt(out.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("docker: %s: %w", streamExt[i], err)
		}
		r.file = os.NewFile(uintptr(fd), out.Name())
	}
	st.relays = append(st.relays, r)
	st.paths[i] = path
	return nil
}

// safe turns a process name into a file name part.
func safe(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// start opens the backend's ends of the FIFOs, now that the process holds
// its own, releases the rest, and starts the relays, joined by wg.
func (st *stdio) start(wg *sync.WaitGroup) error {
	var errs []error
	for i := range st.relays {
		r := &st.relays[i]
		flag := os.O_RDONLY
		if !r.out {
			flag = os.O_WRONLY
		}
		// Our O_RDWR end is still open: this open does not block.
		f, err := os.OpenFile(r.fifo, flag, 0)
		if err != nil {
			errs = append(errs, err)
			if r.file != nil {
				r.file.Close()
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.out {
				io.Copy(r.file, f)
				r.file.Close()
			} else {
				io.Copy(f, r.in)
				if r.file != nil {
					r.file.Close()
				}
			}
			f.Close()
		}()
		r.closed = true
	}
	st.release()
	return errors.Join(errs...)
}

// release closes the held ends and unlinks the FIFOs.
func (st *stdio) release() {
	for _, h := range st.hold {
		h.Close()
	}
	st.hold = nil
	for _, p := range st.fifos {
		os.Remove(p)
	}
	st.fifos = nil
}

// abort undoes the preparation of a process that did not start.
func (st *stdio) abort() {
	for i := range st.relays {
		if r := &st.relays[i]; r.file != nil && !r.closed {
			r.file.Close()
		}
	}
	st.release()
}
