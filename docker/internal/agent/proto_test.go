package agent

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestDecoder reads requests line by line, skips empty lines, and names a
// bad line.
func TestDecoder(t *testing.T) {
	in := `{"id":1,"op":"start","args":["a","b"],"files":["","/x","/x"]}` + "\n\n" +
		`{"id":2,"op":"signal","pid":7,"sig":15}` + "\n" + `not json` + "\n"
	d := NewDecoder(strings.NewReader(in))
	var r Request
	if err := d.Decode(&r); err != nil || r.ID != 1 || r.Op != OpStart || len(r.Args) != 2 || r.Files[1] != "/x" {
		t.Fatalf("Decode = %+v, %v, want the start request", r, err)
	}
	r = Request{}
	if err := d.Decode(&r); err != nil || r.ID != 2 || r.Pid != 7 || r.Sig != 15 {
		t.Fatalf("Decode = %+v, %v, want the signal request", r, err)
	}
	if err := d.Decode(&r); err == nil || !strings.Contains(err.Error(), `"not json"`) {
		t.Fatalf("Decode of a bad line = %v, want an error naming it", err)
	}
	if err := d.Decode(&r); !errors.Is(err, io.EOF) {
		t.Fatalf("Decode at the end = %v, want io.EOF", err)
	}
}

// FuzzDecoder: no input makes the decoder panic or loop.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte(`{"id":1,"op":"start","args":["x"]}` + "\n"))
	f.Add([]byte(`{"event":"exit","pid":3,"signal":9}` + "\n{}\n\n"))
	f.Add([]byte("\x00\xff{\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(strings.NewReader(string(b)))
		for range len(b) + 2 {
			var m Message
			if err := d.Decode(&m); err == io.EOF {
				return
			}
		}
	})
}
