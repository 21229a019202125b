package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"A=1", "PATH=/bin", "B=2"}, []string{"B=3", "C=4", "A=5"})
	want := []string{"A=5", "PATH=/bin", "B=3", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data"), nil, 0o644)
	for _, tc := range []struct {
		file, path, dir string
		want, err       string
	}{
		{file: "prog", path: "/nowhere:" + dir, want: prog},
		{file: "data", path: dir, err: "executable file not found in $PATH"},
		{file: "./prog", dir: dir, want: "./prog"},
		{file: prog, want: prog},
		{file: "./nope", dir: dir, err: "no such file"},
	} {
		got, err := lookPath(tc.file, tc.path, tc.dir)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("lookPath(%q, %q, %q) = %q, %v, want an error with %q", tc.file, tc.path, tc.dir, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("lookPath(%q, %q, %q) = %q, %v, want %q", tc.file, tc.path, tc.dir, got, err, tc.want)
		}
	}
}

// TestMainRefusesOutsideInit: only the init of a PID namespace may run
// the agent, whose end kills every process it can signal.
func TestMainRefusesOutsideInit(t *testing.T) {
	if code := Main(); code != 2 {
		t.Errorf("Main() = %d outside a container's init, want 2", code)
	}
}
