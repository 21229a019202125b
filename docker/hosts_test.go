package docker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
)

// TestExitStatuses tells an exit with code 137 from a death by SIGKILL,
// in the events and in the failure report, and signals processes in a
// container.
func TestExitStatuses(t *testing.T) {
	t.Parallel()
	var events []proctest.Event
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		code := n1.SpawnNamed("code", "testprog", "exit", "137")
		p.Wait(code, 137)
		killed := n1.SpawnNamed("killed", "testprog", "self-kill")
		p.WaitExit(killed.Dies(syscall.SIGKILL))
		term := n1.SpawnNamed("term", "testprog", "sleep")
		p.Kill(term)
		// SIGINT, as SIGTERM, ends a Go program by that signal whether
		// it comes before its runtime handles signals or after (a Go
		// program catches SIGUSR1 and does nothing).
		sigint := n1.SpawnNamed("sigint", "testprog", "sleep")
		p.Kill(sigint, proctest.Using(syscall.SIGINT))
		// The report of a wrong expectation says both.
		wrong := n1.SpawnNamed("wrong", "testprog", "self-kill")
		p.Wait(wrong, 137)
	}, proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	ec := asError[*proctest.ExitCodeError](t, err)
	if ec.Proc != "wrong" || ec.Got.Signal != syscall.SIGKILL || ec.Want.Code != 137 {
		t.Errorf("ExitCodeError = %+v, want wrong: got death by SIGKILL, want exit 137", ec)
	}
	want := map[string]string{"code": "exit 137", "killed": "signal SIGKILL", "term": "signal SIGTERM", "sigint": "signal SIGINT", "wrong": "signal SIGKILL"}
	got := map[string]string{}
	for _, e := range events {
		if e.Kind == proctest.EventExit && e.Status != nil {
			got[e.Proc] = e.Status.String()
		}
		if e.Kind == proctest.EventSpawn && e.Host != "n1" {
			t.Errorf("spawn event of %s: Host = %q, want n1", e.Proc, e.Host)
		}
	}
	for name, st := range want {
		if got[name] != st {
			t.Errorf("exit of %s = %q, want %q", name, got[name], st)
		}
	}
}

// TestKillRestartHost kills a host running a server and a daemon: the
// server dies by SIGKILL, the address stops answering; after RestartHost
// the server comes back at the same address, and a file written in the
// host's directory is still there, and in the log directory after the
// plan.
func TestKillRestartHost(t *testing.T) {
	t.Parallel()
	var events []proctest.Event
	var n2 *proctest.Host
	err := execute(t, func(p *proctest.Plan) {
		var n1 *proctest.Host
		n1, n2 = p.Host("n1"), p.Host("n2")
		srv := n2.SpawnNamed("srv", "testprog", "listen", "{{n2.addr}}:7000")
		p.WaitPort(srv, "{{n2.addr}}:7000")
		d := n2.SpawnNamed("daemon", "testprog", "daemon")
		p.Wait(d, 0)
		w := n2.SpawnNamed("write", "testprog", "write", "{{n2.dir}}/file", "kept")
		p.Wait(w, 0)
		p.WaitFile(nil, "{{n2.dir}}/file")
		p.KillHost(n2)
		dead := n1.SpawnNamed("dead", "testprog", "get", "http://{{n2.addr}}:7000/")
		p.Wait(dead, 2)
		p.RestartHost(n2)
		p.Restart(srv)
		p.WaitPort(srv, "{{n2.addr}}:7000")
		get := n1.SpawnNamed("get", "testprog", "get", "http://{{n2.addr}}:7000/again")
		p.Wait(get, 0)
		p.ExpectStdout(get, "^ok /again from n2$")
		read := n2.SpawnNamed("read", "testprog", "read", "{{n2.dir}}/file")
		p.Wait(read, 0)
		p.ExpectStdout(read, "^kept$")
		p.Kill(srv)
	}, proctest.KeepLogs(), proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(n2.Dir().Value(), "file")); string(b) != "kept" {
		t.Errorf("the host's file in the log directory: %q, %v; want \"kept\"", b, err)
	}
	var exits []string
	addrs := map[string]bool{}
	for _, e := range events {
		if e.Kind == proctest.EventExit && e.Proc == "srv" {
			exits = append(exits, e.Status.String())
		}
		if e.Kind == proctest.EventHost && e.Host == "n2" && strings.HasPrefix(e.Detail, "up at ") {
			addrs[e.Detail] = true
		}
	}
	if len(exits) != 2 || exits[0] != "signal SIGKILL" || exits[1] != "signal SIGTERM" {
		t.Errorf("exits of srv = %q, want death by SIGKILL (KillHost), then by SIGTERM", exits)
	}
	if len(addrs) != 1 {
		t.Errorf("n2 came up at %v, want one address", addrs)
	}
}

// TestPauseHost freezes a host whose process ticks: no tick while
// paused, ticks again after ResumeHost. A signal sent while the host is
// paused is delivered when it resumes.
func TestPauseHost(t *testing.T) {
	t.Parallel()
	var file string
	size := func() int64 {
		st, err := os.Stat(file)
		if err != nil {
			return 0
		}
		return st.Size()
	}
	err := execute(t, func(p *proctest.Plan) {
		n2 := p.Host("n2")
		// Ticks to its standard output, whose log file is this
		// machine's whether or not the engine shares its files.
		tick := n2.SpawnNamed("ticker", "testprog", "ticker", "/dev/stdout")
		p.WaitFunc(tick, "ticking", func(ctx context.Context) error {
			file = filepath.Join(filepath.Dir(n2.Dir().Value()), "ticker.stdout")
			if size() == 0 {
				return fmt.Errorf("no tick yet")
			}
			return nil
		})
		p.PauseHost(n2)
		frozen := p.Go("frozen", func(ctx context.Context) error {
			before := size()
			time.Sleep(300 * time.Millisecond)
			if after := size(); after != before {
				return fmt.Errorf("ticks went from %d to %d bytes while the host was paused", before, after)
			}
			return nil
		})
		p.Wait(frozen, 0)
		p.Signal(tick, syscall.SIGSTOP)
		p.ResumeHost(n2)
		p.Signal(tick, syscall.SIGCONT)
		p.WaitFunc(tick, "ticking again", func(ctx context.Context) error {
			before := size()
			time.Sleep(30 * time.Millisecond)
			if size() == before {
				return fmt.Errorf("no tick")
			}
			return nil
		})
		p.Kill(tick)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMissingImage: a plan naming an image the engine does not have fails
// before anything starts, naming the image.
func TestMissingImage(t *testing.T) {
	t.Parallel()
	needEngine(t)
	const image = "proctest-no-such-image:404"
	var events []proctest.Event
	p := proctest.New(t.Name(), proctest.LogDir(t.TempDir()),
		proctest.WithBackend(docker.New(docker.Image(testImage), docker.HostImage("n2", image))),
		proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	before := p.Spawn("testprog", "exit", "0") // on this machine: never started
	p.Wait(before, 0)
	n1, n2 := p.Host("n1"), p.Host("n2")
	p.Wait(n1.Spawn("testprog", "exit", "0"), 0)
	p.Wait(n2.Spawn("testprog", "exit", "0"), 0)
	err := p.Execute(context.Background())
	ue := asError[*proctest.UnsupportedError](t, err)
	if !strings.Contains(ue.Error(), image) {
		t.Errorf("error = %q, want the image's name %s in it", ue, image)
	}
	for _, e := range events {
		if e.Kind == proctest.EventSpawn || e.Kind == proctest.EventHost {
			t.Errorf("event %v: something started", e)
		}
	}
}

// TestStreams: stdin from a Go reader, watched output (a pipe to the
// plan), output into the log files, and a program missing in the image.
func TestStreams(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		cat := n1.SpawnNamed("cat", "testprog", "cat")
		cat.Stdin = strings.NewReader("hello\nfrom stdin\n")
		p.WaitStdout(cat, "^from stdin$")
		p.Wait(cat, 0)
		p.ExpectStdout(cat, "^hello\nfrom stdin$")
		// Much input, copied out as fast as it comes, and the end of
		// the program right after its last write: all of it is in the
		// log by the time its exit is seen.
		var in strings.Builder
		for i := range 30000 {
			fmt.Fprintf(&in, "line %d of the input\n", i)
		}
		big := n1.SpawnNamed("big", "testprog", "cat")
		big.Stdin = strings.NewReader(in.String())
		p.Wait(big, 0)
		check := p.Go("check-big", func(ctx context.Context) error {
			out, err := os.ReadFile(filepath.Join(filepath.Dir(n1.Dir().Value()), "big.stdout"))
			if string(out) != in.String() {
				return fmt.Errorf("big.stdout has %d bytes, want the %d of the input (%v)", len(out), in.Len(), err)
			}
			return nil
		})
		p.Wait(check, 0)
		pr := n1.SpawnNamed("print", "testprog", "print", "both")
		p.Wait(pr, 0)
		p.ExpectStdout(pr, "^both$")
		p.ExpectStderr(pr, "^both$")
		missing := n1.SpawnNamed("missing", "no-such-program")
		p.Wait(missing, 0)
	})
	se := asError[*proctest.StartError](t, err)
	if se.Proc != "missing" || !strings.Contains(se.Error(), "no-such-program: executable file not found") {
		t.Errorf("StartError = %v, want missing: no-such-program not found", se)
	}
}

// TestLocalAndLeftover: a process without a host runs on this machine;
// a daemon left on a host is found, named, and killed at the end.
func TestLocalAndLeftover(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		local := p.SpawnNamed("local", "sh", "-c", "echo $PROCTEST_PLAN")
		p.Wait(local, 0)
		p.ExpectStdout(local, `^\d+\.\d+$`)
		d := n1.SpawnNamed("daemon", "testprog", "daemon")
		p.Wait(d, 0)
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || sr.Procs[0].Name != "daemon" || !strings.Contains(sr.Procs[0].Command, "testprog sleep (on n1)") {
		t.Errorf("StillRunningError.Procs = %+v, want the daemon's child on n1", sr.Procs)
	}
}

// TestHostDial: a Go step dials from inside a host, whose loopback is its
// own.
func TestHostDial(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		srv := n1.SpawnNamed("srv", "testprog", "listen", "127.0.0.1:7000")
		p.WaitStdout(srv, "listening")
		get := p.Go("get", func(ctx context.Context) error {
			if c, err := net.Dial("tcp", "127.0.0.1:7000"); err == nil {
				c.Close() // something of this machine: not what is tested
			}
			c, err := n1.DialContext(ctx, "tcp", "127.0.0.1:7000")
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /in HTTP/1.0\r\n\r\n")
			b, err := io.ReadAll(c)
			if !strings.Contains(string(b), "ok /in from n1") {
				return fmt.Errorf("reply %q, %v", b, err)
			}
			return nil
		})
		p.Wait(get, 0)
		p.Kill(srv)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutputComplete: 200 programs each print and exit at once; when
// each exit is seen, its output is all in its log files. (Through the
// agent's streams when the engine does not share this machine's files:
// the exit must wait for the output.)
func TestOutputComplete(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		for i := range 200 {
			pr := n1.SpawnNamed(fmt.Sprintf("print-%d", i), "testprog", "print", fmt.Sprintf("line %d", i))
			p.Wait(pr, 0)
			p.ExpectStdout(pr, fmt.Sprintf("^line %d$", i))
			p.ExpectStderr(pr, fmt.Sprintf("^line %d$", i))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStdinNotRead: a program that never reads its input, given 8 MB of
// it, is killed; the plan ends, its relay with it, and so do the
// programs after it on the same host (the agent is not held up).
func TestStdinNotRead(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		deaf := n1.SpawnNamed("deaf", "testprog", "sleep")
		deaf.Stdin = strings.NewReader(strings.Repeat("x", 8<<20))
		after := n1.SpawnNamed("after", "testprog", "print", "still served")
		p.Wait(after, 0)
		p.ExpectStdout(after, "^still served$")
		p.Kill(deaf)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStdinBlocked: a program whose input is a pipe that stays open
// (its writer closed only after the plan) ends, and so does the plan.
func TestStdinBlocked(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() {
		done <- execute(t, func(p *proctest.Plan) {
			quick := p.Host("n1").SpawnNamed("quick", "testprog", "exit", "0")
			quick.Stdin = pr
			p.Wait(quick, 0)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the plan has not ended a minute after it started")
	}
}

// TestRelativeLogDir: with a relative log directory, a host's directory
// is still where its processes write and read ("{{n1.dir}}"), and its
// file ends up in the log directory. (Not parallel: it changes the
// working directory.)
func TestRelativeLogDir(t *testing.T) {
	needEngine(t)
	t.Chdir(t.TempDir())
	var n1 *proctest.Host
	p := proctest.New(t.Name(), proctest.LogDir("rel"), proctest.KeepLogs(), proctest.WithBackend(docker.New(docker.Image(testImage))))
	n1 = p.Host("n1")
	p.Wait(n1.SpawnNamed("write", "testprog", "write", "{{n1.dir}}/f", "here"), 0)
	read := n1.SpawnNamed("read", "testprog", "read", "{{n1.dir}}/f")
	p.Wait(read, 0)
	p.ExpectStdout(read, "^here$")
	os.Mkdir("rel", 0o755)
	if err := p.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(n1.Dir().Value()) {
		t.Errorf("{{n1.dir}} = %s, want an absolute path", n1.Dir().Value())
	}
	if b, err := os.ReadFile(filepath.Join(n1.Dir().Value(), "f")); string(b) != "here" {
		t.Errorf("the host's file in the log directory: %q, %v", b, err)
	}
}
