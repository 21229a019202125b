package proctest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

// needHosts skips a test where this machine cannot make hosts (it needs
// root on Linux); in CI, which runs as root, it must not skip.
func needHosts(t *testing.T) {
	t.Helper()
	if ok, why := proctest.Supported(proctest.FeatureHosts); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("hosts are not supported here, in CI: %s", why)
		}
		t.Skip("hosts are not supported here:", why)
	}
}

// TestHostsSamePort runs a server on the same port on three hosts; a
// client on n1 reaches those of n2 and n3, and n1's loopback is its own.
func TestHostsSamePort(t *testing.T) {
	needHosts(t)
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		var hosts []*proctest.Host
		var servers []*proctest.Proc
		for _, name := range []string{"n1", "n2", "n3"} {
			h := p.Host(name)
			srv := h.SpawnNamed("srv-"+name, "listen", h.Addr().String()+":7000")
			p.WaitPort(srv, h.Addr().String()+":7000")
			hosts = append(hosts, h)
			servers = append(servers, srv)
		}
		n1 := hosts[0]
		for _, other := range hosts[1:] {
			get := n1.SpawnNamed("get-"+other.Name(), "get", "http://"+other.Addr().String()+":7000/from-n1")
			p.Wait(get, 0)
			p.ExpectStdout(get, "^ok /from-n1$")
		}
		// n1's own 127.0.0.1:7000 has nothing: the servers listen on
		// their hosts' addresses, each in its own namespace.
		local := n1.SpawnNamed("get-local", "get", "http://127.0.0.1:7000/")
		p.Wait(local, 2)
		p.ExpectStderr(local, "connection refused")
		for _, srv := range servers {
			p.Kill(srv, srv.Exits(0))
		}
	}, proctest.LogDir(t.TempDir()))
}

// TestHostName connects a client on n2 to a server on n1 by
// "{{n1.host}}", which namespace hosts, without a name service, expand to
// the address.
func TestHostName(t *testing.T) {
	needHosts(t)
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		srv := n1.SpawnNamed("srv", "listen", "{{n1.addr}}:7000")
		p.WaitPort(srv, "{{n1.addr}}:7000")
		get := n2.SpawnNamed("get", "get", "http://{{n1.host}}:7000/by-host")
		p.Wait(get, 0)
		p.ExpectStdout(get, "^ok /by-host$")
		p.Wait(p.Go("expansion", func(ctx context.Context) error {
			got, addr := p.Expand("{{n1.host}}"), n1.Addr().Value()
			if got != addr || n1.HostName().Value() != addr || addr == "" {
				return fmt.Errorf(`Expand("{{n1.host}}") = %q, HostName().Value() = %q, want the address %q`, got, n1.HostName().Value(), addr)
			}
			return nil
		}), 0)
		p.Kill(srv, srv.Exits(0))
	}, proctest.LogDir(t.TempDir()))
}

// TestKillHost kills a host with a server and a setsid'd daemon on it: the
// plan passes, the server dies by SIGKILL, nothing of the host survives,
// its address stops answering; after RestartHost the server comes back at
// the same address, and a file written in its directory is still there.
func TestKillHost(t *testing.T) {
	needHosts(t)
	t.Parallel()
	var events []proctest.Event
	marker := newMarker()
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		srv := n2.SpawnNamed("srv", "listen", "{{n2.addr}}:7000")
		p.WaitPort(srv, "{{n2.addr}}:7000")
		d := n2.Spawn("sh", "-c", "setsid -f sleep "+marker+"; echo kept > {{n2.dir}}/file")
		p.Wait(d, 0)
		p.KillHost(n2)
		dead := n1.SpawnNamed("dead", "get", "http://{{n2.addr}}:7000/")
		p.Wait(dead, 2)
		p.Wait(p.Go("none-left", func(ctx context.Context) error {
			if left := withMarker(marker); len(left) > 0 {
				return fmt.Errorf("still running after KillHost: %v", left)
			}
			return nil
		}), 0)
		p.RestartHost(n2)
		p.Restart(srv)
		p.WaitPort(srv, "{{n2.addr}}:7000")
		get := n1.SpawnNamed("get", "get", "http://{{n2.addr}}:7000/again")
		p.Wait(get, 0)
		p.ExpectStdout(get, "^ok /again$")
		cat := n2.Spawn("cat", "{{n2.dir}}/file")
		p.Wait(cat, 0)
		p.ExpectStdout(cat, "^kept$")
		p.Kill(srv, srv.Exits(0))
	}, proctest.LogDir(t.TempDir()), proctest.OnEvent(func(e proctest.Event) { events = append(events, e) }))
	var killed bool
	for _, e := range events {
		if e.Kind == proctest.EventExit && e.Proc == "srv" && e.Status != nil && e.Status.Signal.String() == "killed" {
			killed = true
		}
	}
	if !killed {
		t.Errorf("no exit event of srv by SIGKILL among %v", events)
	}
}

// TestPauseHost freezes a host whose process ticks: no tick while paused,
// ticks again after ResumeHost. A host still paused at the end is resumed
// and its processes stopped as usual.
func TestPauseHost(t *testing.T) {
	needHosts(t)
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ticks")
	tk := ticks(file)
	size := tk.size
	err := execute(t, func(p *proctest.Plan) {
		n2 := p.Host("n2")
		tick := n2.Spawn("ticker", file)
		p.WaitFunc(tick, "ticking", tk.ticking)
		p.PauseHost(n2)
		frozen := p.Go("frozen", tk.still("the host was paused"))
		p.Wait(frozen, 0)
		p.ResumeHost(n2)
		p.WaitFunc(tick, "ticking again", func(ctx context.Context) error {
			before := size()
			time.Sleep(20 * time.Millisecond)
			if size() == before {
				return fmt.Errorf("no tick")
			}
			return nil
		})
		p.PauseHost(n2) // still paused at the end: resumed, then stopped
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || sr.Procs[0].Name != "ticker" || sr.Procs[0].Stopped != "SIGTERM" {
		t.Errorf("StillRunningError.Procs = %+v, want the ticker stopped by SIGTERM", sr.Procs)
	}
}

// TestHostValidation checks the misuse of hosts found before anything
// runs.
func TestHostValidation(t *testing.T) {
	other := proctest.New("other")
	foreign := other.Host("x1")
	for _, tc := range []struct {
		name  string
		build func(p *proctest.Plan)
		want  string
	}{
		{"spawn on a killed host", func(p *proctest.Plan) {
			n1 := p.Host("n1")
			p.KillHost(n1)
			n1.Spawn("true")
		}, "host n1 of true is down: kill-host n1 at hosts_test.go:"},
		{"restart a live host", func(p *proctest.Plan) {
			p.RestartHost(p.Host("n1"))
		}, "restart-host n1: host n1 is running: only a killed host can be restarted"},
		{"restart a process of a killed host", func(p *proctest.Plan) {
			n1 := p.Host("n1")
			s := n1.Spawn("sleep", "60")
			p.KillHost(n1)
			p.Restart(s)
		}, "host n1 of sleep is down"},
		{"kill a killed host", func(p *proctest.Plan) {
			n1 := p.Host("n1")
			p.KillHost(n1)
			p.KillHost(n1)
		}, "host n1 is already down"},
		{"pause a killed host", func(p *proctest.Plan) {
			n1 := p.Host("n1")
			p.KillHost(n1)
			p.PauseHost(n1)
		}, "pause-host n1: host n1 is down"},
		{"host of another plan", func(p *proctest.Plan) {
			p.KillHost(foreign)
		}, `host x1 belongs to plan "other"`},
		{"host named after a process", func(p *proctest.Plan) {
			p.Wait(p.Spawn("true"), 0)
			p.Host("true")
		}, "host name true is already the name of a process"},
		{"bad host name", func(p *proctest.Plan) {
			p.Host("N-1")
		}, `host name "N-1" is not a lower-case letter`},
		{"two hosts of one name", func(p *proctest.Plan) {
			p.Host("n1")
			p.Host("n1")
		}, "host n1 is already declared"},
		{"name of an unknown host", func(p *proctest.Plan) {
			p.Host("n1")
			p.Spawn("get", "http://{{n9.host}}:7000/")
		}, "{{n9.host}}: no host n9 is declared before this step"},
		{"name of a host declared later", func(p *proctest.Plan) {
			p.Spawn("get", "http://{{n1.host}}:7000/")
			p.Host("n1")
		}, "{{n1.host}}: no host n1 is declared before this step"},
		{"name of a variable that is no host", func(p *proctest.Plan) {
			port := p.FreePort("port")
			p.Spawn("get", "http://{{port.host}}:"+port.String()+"/")
		}, "{{port.host}}: no host port is declared before this step"},
		{"address of an unknown host", func(p *proctest.Plan) {
			p.Spawn("get", "http://{{n9.addr}}:7000/")
		}, "{{n9.addr}}: no host n9 is declared before this step"},
		{"wait on a host's killed process", func(p *proctest.Plan) {
			n1 := p.Host("n1")
			s := n1.Spawn("sleep", "60")
			p.KillHost(n1)
			p.Wait(s, 0)
		}, "sleep already ended: kill-host n1 at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proctest.New(tc.name, proctest.LogDir(t.TempDir()))
			tc.build(p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func init() {
	// run-host-plan MARKER runs a three-host plan with a server and a
	// setsid'd daemon on each host, prints "ready" and blocks; its parent
	// test then kills it.
	helpers["run-host-plan"] = func(args []string) {
		m := args[0]
		p := proctest.New("run-host-plan", proctest.AllowDaemons())
		for _, name := range []string{"n1", "n2", "n3"} {
			h := p.Host(name)
			srv := h.SpawnNamed("srv-"+name, "listen", h.Addr().String()+":7000")
			p.WaitPort(srv, h.Addr().String()+":7000")
			p.Wait(h.SpawnNamed("daemon-"+name, "sh", "-c", "setsid -f sleep "+m), 0)
		}
		p.Go("report", func(ctx context.Context) error {
			fmt.Println("ready")
			<-ctx.Done()
			return nil
		})
		p.Sleep(time.Hour)
		p.Execute(context.Background())
		os.Exit(0)
	}
}

// links returns the names of the network links of this machine's
// namespace.
func links(t *testing.T) map[string]bool {
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

// TestHostsSurviveNoSIGKILL kills a program in the middle of a three-host
// plan: no process of the plan, no network link in this machine's
// namespace and no cgroup of the plan remains.
func TestHostsSurviveNoSIGKILL(t *testing.T) {
	needHosts(t)
	cg := planCgroup(t)
	before := links(t)
	for i := range 5 {
		m := newMarker()
		cmd := exec.Command("run-host-plan", m)
		cmd.Env = append(os.Environ(), "PROCTEST_LOGDIR="+t.TempDir())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line := make([]byte, 6)
		if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run-host-plan said %q, %v", line, err)
		}
		// setsid -f returns before its child has exec'd the marked
		// sleep: wait for it.
		for start := time.Now(); len(withMarker(m)) < 4 && time.Since(start) < 2*time.Second; {
			time.Sleep(5 * time.Millisecond)
		}
		if n := len(withMarker(m)); n != 4 {
			t.Errorf("round %d: %d marked processes before the kill, want 4 (the program and a daemon a host)", i, n)
		}
		cmd.Process.Kill()
		cmd.Wait()
		killed := time.Now()
		gone := func() bool {
			if len(withMarker(m)) > 0 {
				return false
			}
			if cg != "" {
				if dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(cg), fmt.Sprintf("proctest-%d.*", cmd.Process.Pid))); len(dirs) > 0 {
					return false
				}
			}
			for l := range links(t) {
				if !before[l] {
					return false
				}
			}
			return true
		}
		for !gone() && time.Since(killed) < 10*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		if !gone() {
			t.Fatalf("round %d: 10s after the SIGKILL, daemons %v, or cgroups or links remain", i, withMarker(m))
		}
		t.Logf("round %d: all gone %v after the SIGKILL", i, time.Since(killed).Round(time.Millisecond))
	}
}

// TestTwentyHostPlans runs twenty three-host plans at once.
func TestTwentyHostPlans(t *testing.T) {
	needHosts(t)
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			proctest.Run(t, func(p *proctest.Plan) {
				var servers []*proctest.Proc
				for _, name := range []string{"n1", "n2", "n3"} {
					h := p.Host(name)
					srv := h.SpawnNamed("srv-"+name, "listen", h.Addr().String()+":7000")
					p.WaitPort(srv, h.Addr().String()+":7000")
					servers = append(servers, srv)
				}
				get := p.Host("c1").Spawn("get", "http://{{n3.addr}}:7000/plan")
				p.Wait(get, 0)
				p.ExpectStdout(get, "^ok /plan$")
				for _, srv := range servers {
					p.Kill(srv, srv.Exits(0))
				}
			}, proctest.LogDir(t.TempDir()))
		})
	}
}

// TestRestartAfterKillHostIsStoppedGently restarts a process after its
// host was killed and restarted: left running at the end, it is stopped
// as any other, SIGTERM first.
func TestRestartAfterKillHostIsStoppedGently(t *testing.T) {
	needHosts(t)
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1 := p.Host("n1")
		srv := n1.Spawn("graceful")
		p.WaitStdout(srv, "^ready$")
		p.KillHost(n1)
		p.RestartHost(n1)
		p.Restart(srv)
		p.WaitStdout(srv, "^ready$")
	})
	sr := asError[*proctest.StillRunningError](t, err)
	if len(sr.Procs) != 1 || sr.Procs[0].Stopped != "SIGTERM" {
		t.Errorf("StillRunningError.Procs = %+v, want graceful stopped by SIGTERM", sr.Procs)
	}
}

// failHost is the local backend, but for the host named fail, which it
// cannot make.
type failHost struct {
	proctest.Backend
	fail string
}

func (b failHost) Supports(f proctest.Feature) error {
	return b.Backend.(proctest.FeatureChecker).Supports(f)
}

func (b failHost) Open(ctx context.Context, info proctest.PlanInfo) (proctest.Session, error) {
	s, err := b.Backend.Open(ctx, info)
	if err != nil {
		return nil, err
	}
	return &failHostSession{Session: s, hs: s.(proctest.HostSession), fail: b.fail}, nil
}

type failHostSession struct {
	proctest.Session
	hs   proctest.HostSession
	fail string
}

func (s *failHostSession) AddHost(ctx context.Context, spec proctest.HostSpec) (proctest.HostHandle, error) {
	if spec.Name == s.fail {
		return nil, errors.New("no room for this host")
	}
	return s.hs.AddHost(ctx, spec)
}

// selfCopies returns the pids of the processes, other than this one,
// running this test binary: the guard, and the inits of hosts.
func selfCopies(t *testing.T) []int {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && exe == self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestHostFailsMidway: the third host of a plan cannot be made, after
// two were: the plan fails naming it and why, before any step, and
// nothing of the two made is left: no process, link or cgroup.
func TestHostFailsMidway(t *testing.T) {
	needHosts(t)
	cg := planCgroup(t) // a plan first: the guard, a copy of this binary, runs
	before := links(t)
	guard := selfCopies(t)
	for i := range 20 {
		var up []string
		p := proctest.New("midway", proctest.LogDir(t.TempDir()),
			proctest.WithBackend(failHost{Backend: proctest.Local, fail: "n3"}),
			proctest.OnEvent(func(e proctest.Event) {
				if e.Kind == proctest.EventHost {
					up = append(up, e.Host)
				}
			}))
		var hosts []*proctest.Host
		for _, name := range []string{"n1", "n2", "n3", "n4"} {
			hosts = append(hosts, p.Host(name))
		}
		for _, h := range hosts {
			p.Wait(h.Spawn("true"), 0)
		}
		err := p.Execute(context.Background())
		if err == nil || !strings.Contains(err.Error(), "host n3: no room for this host") {
			t.Fatalf("round %d: Execute = %v, want the failure of host n3", i, err)
		}
		if strings.Join(up, ",") != "n1,n2" {
			t.Errorf("round %d: hosts up %q, want n1 and n2", i, up)
		}
		if pids := selfCopies(t); len(pids) > len(guard) {
			t.Errorf("round %d: processes of this binary left (host inits?): %v", i, pids)
		}
		for l := range links(t) {
			if !before[l] {
				t.Errorf("round %d: link %s left", i, l)
			}
		}
		if cg != "" {
			if dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(cg), fmt.Sprintf("proctest-%d.*", os.Getpid()))); len(dirs) > 0 {
				t.Errorf("round %d: cgroups left: %v", i, dirs)
			}
		}
	}
}
