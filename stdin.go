package proctest

import (
	"fmt"
	"io"
	"os"
)

// StdinFile returns a reader for [Proc.Stdin] that opens the file at path
// only when the process starts (each time it starts), so that the plan may
// create the file first, and a missing file fails the start with a
// [StartError] naming it. Like any reader that is not an *os.File, it is
// copied to the process through a pipe. A relative path is relative to the
// current directory of the program running the plan.
func StdinFile(path string) io.Reader { return &lazyFile{path: path} }

// lazyFile is the reader of StdinFile. The executor calls open as the
// process starts, and release if it could not start.
type lazyFile struct {
	path string
	f    *os.File
}

// open opens the file; the plan calls it as the process starts, so that a
// missing file is a clear error.
func (l *lazyFile) open() error {
	f, err := os.Open(l.path)
	if err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	l.f = f
	return nil
}

// release closes the file if the process never started.
func (l *lazyFile) release() {
	if l.f != nil {
		l.f.Close()
	}
}

// Read reads the file, opening it first if need be.
func (l *lazyFile) Read(b []byte) (int, error) {
	if l.f == nil {
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Read(b)
	if err != nil {
		l.f.Close()
	}
	return n, err
}
