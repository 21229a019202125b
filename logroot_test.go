package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// A log root another user could change is refused before anything runs,
// naming the directory and what is wrong with it, and nothing is made in
// it; one with the sticky bit, such as /tmp, is fine.
func TestLogRootRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a directory to another user")
	}
	tests := []struct {
		name string
		// make makes the log root in dir and returns it.
		make func(t *testing.T, dir string) string
		want string // in the error; "" for a root that is fine
	}{
		{name: "writable by all", make: func(t *testing.T, dir string) string {
			return mkdirMode(t, dir, "open", 0o777, -1)
		}, want: "writable by other users (mode drwxrwxrwx) without the sticky bit"},
		{name: "writable by the group", make: func(t *testing.T, dir string) string {
			return mkdirMode(t, dir, "group", 0o775, -1)
		}, want: "writable by other users (mode drwxrwxr-x) without the sticky bit"},
		{name: "owned by another user", make: func(t *testing.T, dir string) string {
			return mkdirMode(t, dir, "theirs", 0o755, nobody)
		}, want: fmt.Sprintf("owned by user %d, not by this user (0) or root", nobody)},
		{name: "symlink to a directory of another user", make: func(t *testing.T, dir string) string {
			theirs := mkdirMode(t, dir, "theirs", 0o755, nobody)
			link := filepath.Join(dir, "link")
			if err := os.Symlink(theirs, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, want: fmt.Sprintf("owned by user %d", nobody)},
		{name: "sticky and writable by all", make: func(t *testing.T, dir string) string {
			return mkdirMode(t, dir, "sticky", 0o777|os.ModeSticky, -1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			root := tt.make(t, dir)
			marker := filepath.Join(dir, "marker")
			p := proctest.New(t.Name(), proctest.LogDir(root))
			p.Wait(p.Spawn("touch", marker), 0)
			err := p.Execute(context.Background())
			ents, _ := os.ReadDir(root)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Execute with log root %s = %v, want nil", root, err)
				}
				if len(ents) != 0 {
					t.Errorf("log root %s holds %v after a plan that passed", root, ents)
				}
				return
			}
			pe := asError[*proctest.PlanError](t, err)
			msg := pe.Error()
			if !strings.Contains(msg, "before it started anything") || !strings.Contains(msg, "log root "+root+": ") ||
				!strings.Contains(msg, tt.want) {
				t.Errorf("Execute with log root %s = %q, want it to fail before it started anything, naming the root and saying %q", root, msg, tt.want)
			}
			if pe.LogDir != "" {
				t.Errorf("PlanError.LogDir = %q, want none", pe.LogDir)
			}
			if len(ents) != 0 {
				t.Errorf("log root %s holds %v, want nothing made in it", root, ents)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("the plan ran its process with a refused log root")
			}
		})
	}
}

// PROCTEST_LOGDIR is checked like LogDir. (Not parallel: it sets the
// environment.)
func TestLogRootFromEnvironmentRefused(t *testing.T) {
	root := mkdirMode(t, t.TempDir(), "open", 0o777, -1)
	t.Setenv("PROCTEST_LOGDIR", root)
	p := proctest.New(t.Name())
	p.Wait(p.Spawn("true"), 0)
	err := p.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "log root "+root+": writable by other users") {
		t.Errorf("Execute with PROCTEST_LOGDIR=%s (mode 0777) = %v, want it refused", root, err)
	}
}

// mkdirMode makes the directory dir/name with mode (set after, so that the
// umask does not matter) owned by uid, or by this user if uid is -1.
func mkdirMode(t *testing.T, dir, name string, mode os.FileMode, uid int) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(path, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func init() {
	// neighbour BASE PLANDIR SECRET TARGET is another user attacking a
	// plan whose log root is BASE/logs, in BASE, a directory of the
	// attacker's: it moves the log root away, and puts in its place a
	// directory of its own where the plan's directory PLANDIR holds
	// symlinks: the logs of graceful to SECRET, a file only the plan's
	// user may read, and timeline.html to TARGET, a file of the plan's
	// user.
	helpers["neighbour"] = func(args []string) {
		base, planDir, secret, target := args[0], args[1], args[2], args[3]
		logs := filepath.Join(base, "logs")
		fake := filepath.Join(logs, planDir)
		err := os.Rename(logs, filepath.Join(base, "old"))
		if err == nil {
			err = os.MkdirAll(fake, 0o755)
		}
		for name, to := range map[string]string{"graceful.stdout": secret, "graceful.stderr": secret, "timeline.html": target} {
			if err == nil {
				err = os.Symlink(to, filepath.Join(fake, name))
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "neighbour (uid %d): %v\n", os.Getuid(), err)
			os.Exit(1)
		}
		fmt.Printf("neighbour (uid %d) moved %s and put symlinks in %s\n", os.Getuid(), logs, fake)
		os.Exit(0)
	}
}

// A neighbour (user 65534) who can rename a directory above the plan's
// logs replaces the path to them while the plan runs, with symlinks to a
// secret file and to a file of the victim's: the report must not show the
// secret, and the timeline page must not overwrite the file. The plan
// reads and writes its logs through the directory it made, wherever it is
// now, and says that its path no longer leads to it.
func TestLogRootNeighbourSwap(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the neighbour as another user")
	}
	// base is the neighbour's; the log root in it is root's, and safe
	// in itself.
	base, err := os.MkdirTemp("", "neighbour-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	for _, err := range []error{os.Chmod(base, 0o755), os.Chown(base, nobody, nobody),
		os.Mkdir(filepath.Join(base, "logs"), 0o755), os.Mkdir(filepath.Join(base, "bin"), 0o755)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "bin", "proctest.test")
	if err := copyFile(exe, bin); err != nil {
		t.Fatal(err)
	}
	private := t.TempDir() // root's alone
	secret := writeFile(t, private, "id_ed25519", "PRIVATE KEY 6c1f0e\n", 0o600)
	target := writeFile(t, private, "notes", "the victim's notes\n", 0o644)

	p := proctest.New(t.Name(), proctest.LogDir(filepath.Join(base, "logs")))
	g := p.Spawn("graceful")
	p.WaitStdout(g, "^ready$")
	n := p.Go("neighbour", func(ctx context.Context) error {
		planDir := filepath.Base(filepath.Dir(proctest.Stdout(ctx).Name()))
		cmd := exec.CommandContext(ctx, bin, base, planDir, secret, target)
		cmd.Args[0] = "neighbour"
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		proctest.Stdout(ctx).Write(out)
		return err
	})
	p.Wait(n, 0)
	p.Kill(g, g.Exits(3)) // it exits 0: the plan fails, with a report and a timeline page
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = p.Execute(ctx)

	var code *proctest.ExitCodeError
	if !errors.As(err, &code) || code.Proc != "graceful" {
		t.Fatalf("Execute = %v, want graceful's ExitCodeError (and the neighbour's attack done)", err)
	}
	report := err.Error()
	if strings.Contains(report, "PRIVATE KEY") {
		t.Errorf("the report shows the secret file the neighbour linked to:\n%s", report)
	}
	if !strings.Contains(report, "| bye") {
		t.Errorf("the report does not show graceful's own stdout (bye):\n%s", report)
	}
	if !strings.Contains(report, "path no longer leads to them") {
		t.Errorf("the report does not say its logs' path was replaced:\n%s", report)
	}
	if b, _ := os.ReadFile(target); string(b) != "the victim's notes\n" {
		t.Errorf("the timeline page overwrote the file the neighbour linked to: it holds %.80q...", b)
	}
	// The page is in the plan's own directory, where the neighbour put
	// it.
	var pe *proctest.PlanError
	errors.As(err, &pe)
	page := filepath.Join(base, "old", filepath.Base(pe.LogDir), "timeline.html")
	if fi, err := os.Lstat(page); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("timeline page %s: %v, %v; want a regular file", page, fi, err)
	}
}

// TestMakeDirName: MakeDir makes its directory in the log root, named
// from the prefix with the characters a file name should not have
// replaced: a prefix from a script's path cannot reach elsewhere.
func TestMakeDirName(t *testing.T) {
	root := t.TempDir()
	p := proctest.New("makedir", proctest.LogDir(root))
	dir, err := p.MakeDir("work-../../a b/c-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	if filepath.Dir(dir) != root || !strings.HasPrefix(filepath.Base(dir), "work-.._.._a_b_c-") {
		t.Errorf("MakeDir = %s, want a directory of %s named work-.._.._a_b_c-*", dir, root)
	}
}
