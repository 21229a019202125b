package docker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"
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
