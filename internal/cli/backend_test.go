package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proctest/proctest"
)

// TestBackendFlag: -backend 'NAME ARG...' runs proctest-NAME from PATH
// with its ARGs, then run and the other arguments, and its exit status
// is the command's; a backend not installed is a usage error naming the
// command; a command of another backend refuses the flag.
func TestBackendFlag(t *testing.T) {
	dir := t.TempDir()
	fake := "#!/bin/sh\necho \"args: $*\"\necho 'on stderr' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "proctest-fake"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	for _, tc := range []struct {
		args        []string
		code        int
		out, errOut string
	}{
		{[]string{"run", "-v", "-backend", "fake -image kv:test", "-timeout=1m", "a.plan"}, 3, "args: -image kv:test run -v -timeout=1m a.plan\n", "on stderr\n"},
		{[]string{"run", "--backend=fake", "a.plan", "-backend", "x"}, 3, "args: run a.plan -backend x\n", "on stderr\n"},
		{[]string{"run", "-timeout", "1m", "-run", "-x", "-v", "-backend", "fake", "a.plan"}, 3, "args: run -timeout 1m -run -x -v a.plan\n", "on stderr\n"},
		{[]string{"run", "-backend", "missing", "a.plan"}, 2, "", "proctest: -backend missing: no command proctest-missing in $PATH\n"},
		{[]string{"run", "-backend"}, 2, "", "proctest run: flag needs an argument: -backend\n"},
	} {
		var out, errOut strings.Builder
		code := Main(tc.args, &out, &errOut)
		if code != tc.code || out.String() != tc.out || errOut.String() != tc.errOut {
			t.Errorf("proctest %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.out, tc.errOut)
		}
	}
	var out, errOut strings.Builder
	if code := Main([]string{"run", "-backend", "fake", "a.plan"}, &out, &errOut, proctest.KeepLogs()); code != 2 || !strings.Contains(errOut.String(), "a backend of its own already") {
		t.Errorf("-backend to a command with a backend of its own: exit %d, stderr %q; want 2 and a refusal", code, errOut.String())
	}
}
