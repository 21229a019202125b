package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Main runs the agent on standard input and output until its input ends,
// then kills every process of the container, and returns the exit code
// for the program.
func Main() int {
	if os.Getpid() != 1 {
		// Its end kills every process it can signal: only the init of
		// a PID namespace may be the agent.
		fmt.Fprintln(os.Stderr, "proctest-agent: not the init (pid 1) of a container: refusing to run")
		return 2
	}
	a := &agent{out: json.NewEncoder(os.Stdout), tasks: map[int]*program{}}
	// SIGCHLD is delivered to a channel so that the reaper can take the
	// lock first: a pid is never reaped while a signal to it is under way.
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	done := make(chan struct{})
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for {
			select {
			case <-chld:
				a.reap()
			case <-done:
				return
			}
		}
	}()
	// The table is made first, so that connections are tracked from the
	// start; without NET_ADMIN there is none, and OpNet says why.
	a.net, a.netErr = newNetTable()
	a.send(Message{Event: EventReady, Pid: os.Getpid(), Version: Version})
	err := a.serve(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proctest-agent:", err)
	}
	close(done)
	<-reaped
	// The backend is gone: nothing of the container may outlive it.
	// (kill(-1) kills every process the caller may signal but itself:
	// only as the init of a PID namespace is that the container alone,
	// which Main checked first.)
	unix.Kill(-1, unix.SIGKILL)
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(-1, &ws, 0, nil); err == unix.ECHILD {
			break
		}
	}
	if err != nil {
		return 1
	}
	return 0
}

// agent is the state of the agent.
type agent struct {
	wmu sync.Mutex // serializes writes to out
	out *json.Encoder

	// mu is held while a pid is reaped, signalled, or started and
	// announced: a pid in tasks is alive or a zombie, never reused.
	mu    sync.Mutex
	tasks map[int]*program // the programs started and not yet reaped

	streams streams

	net    *netTable // the container's nftables table, or nil
	netErr error     // why there is none
}

// program is a program the agent started.
type program struct {
	start uint64 // the ID of its start request
	// output is closed once its output streams have ended; nil if it
	// has none.
	output chan struct{}
	stdin  uint64 // its input's stream, or 0
}

// applyNet makes the container drop what n says.
func (a *agent) applyNet(n *Net) error {
	if a.net == nil {
		return fmt.Errorf("no network faults in the container (the agent needs NET_ADMIN and an eth0): %v", a.netErr)
	}
	if n == nil {
		n = &Net{}
	}
	return a.net.apply(n)
}

// send writes m as one line.
func (a *agent) send(m Message) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if err := a.out.Encode(m); err != nil {
		fmt.Fprintln(os.Stderr, "proctest-agent: write:", err)
	}
}

// serve answers the requests read from r until it ends.
func (a *agent) serve(r io.Reader) error {
	dec := NewDecoder(r)
	for {
		var req Request
		err := dec.Decode(&req)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch req.Op {
		case OpStart:
			a.start(&req) // replies itself, under the lock
		case OpSignal:
			a.send(Message{ID: req.ID, Err: a.signal(req.Pid, req.Task, syscall.Signal(req.Sig))})
		case OpNet:
			m := Message{ID: req.ID}
			if err := a.applyNet(req.Net); err != nil {
				m.Err = err.Error()
			}
			a.send(m)
		case OpWrite:
			a.write(&req)
		case OpDial:
			a.dial(&req)
		case OpClose:
			a.closeConn(&req)
		case OpStat:
			m := Message{ID: req.ID}
			if _, err := os.Stat(req.Path); errors.Is(err, fs.ErrNotExist) {
				m.Err = ErrNotExist
			} else if err != nil {
				m.Err = err.Error()
			}
			a.send(m)
		case OpProcs:
			procs, err := listProcs()
			m := Message{ID: req.ID, Procs: procs}
			if err != nil {
				m.Err = err.Error()
			}
			a.send(m)
		default:
			a.send(Message{ID: req.ID, Err: fmt.Sprintf("unknown operation %q", req.Op)})
		}
	}
}

// reap reaps every child that has ended, reporting those the backend
// started.
func (a *agent) reap() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		prog := a.tasks[pid]
		if prog == nil {
			continue // an orphan: reaped, as an init does
		}
		delete(a.tasks, pid)
		if prog.stdin != 0 {
			a.dropWritable(prog.stdin)
		}
		m := Message{Event: EventExit, Pid: pid, Task: prog.start}
		if ws.Signaled() {
			m.Signal = int(ws.Signal())
		} else {
			m.Code = ws.ExitStatus()
		}
		out := prog.output
		if out == nil {
			a.send(m)
			continue
		}
		go func() {
			select {
			case <-out:
			case <-time.After(outputGrace):
			}
			a.send(m)
		}()
	}
}

// signal signals the process group of pid, or pid alone if it left its
// group, if pid is still the program of the start request start.
func (a *agent) signal(pid int, start uint64, sig syscall.Signal) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if prog := a.tasks[pid]; prog == nil || prog.start != start {
		return ErrDone
	}
	if err := unix.Kill(-pid, sig); err == nil {
		return ""
	}
	if err := unix.Kill(pid, sig); err != nil {
		return err.Error()
	}
	return ""
}

// start starts the program of req and replies.
func (a *agent) start(req *Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pid, out, err := a.fork(req)
	if err != nil {
		a.send(Message{ID: req.ID, Err: err.Error()})
		return
	}
	a.tasks[pid] = &program{start: req.ID, output: out, stdin: req.Streams[0]}
	// Replied under the lock: its exit event cannot come first.
	a.send(Message{ID: req.ID, Pid: pid})
}

// fork starts the program of req, and relays its streams: out is closed
// once its output streams have ended (nil if it has none).
func (a *agent) fork(req *Request) (pid int, out chan struct{}, err error) {
	if len(req.Args) == 0 {
		return 0, nil, errors.New("no command")
	}
	env := mergeEnv(os.Environ(), req.Env)
	path, err := lookPath(req.Args[0], getenv(env, "PATH"), req.Dir)
	if err != nil && req.Path != "" && req.Path != req.Args[0] {
		if _, serr := os.Stat(req.Path); serr == nil {
			path, err = req.Path, nil
		}
	}
	if err != nil {
		return 0, nil, err
	}
	var files [3]*os.File
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	in, outs, err := pipes(req, &files)
	if err != nil {
		return 0, nil, err
	}
	for i, name := range req.Files {
		if files[i] != nil {
			continue // a stream
		}
		flag := os.O_WRONLY | os.O_APPEND
		if i == 0 {
			flag = os.O_RDONLY
		}
		if name == "" {
			name = os.DevNull
		}
		if i == 2 && name == req.Files[1] && name != os.DevNull {
			files[2], err = dup(files[1])
		} else {
			files[i], err = os.OpenFile(name, flag|syscall.O_CLOEXEC, 0)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		pid, err = syscall.ForkExec(path, req.Args, &syscall.ProcAttr{
			Dir:   req.Dir,
			Env:   env,
			Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		})
	}
	if err != nil {
		if in != nil {
			in.Close()
		}
		for _, f := range outs {
			if f != nil {
				f.Close()
			}
		}
		return 0, nil, err
	}
	if in == nil && outs == [3]*os.File{} {
		return pid, nil, nil
	}
	return pid, a.relayPipes(req, in, outs), nil
}

// dup duplicates f.
func dup(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// mergeEnv returns base with add added, later entries replacing earlier
// ones of the same name.
func mergeEnv(base, add []string) []string {
	var out []string
	index := map[string]int{}
	for _, kv := range append(base[:len(base):len(base)], add...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// getenv returns the value of key in env.
func getenv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// defaultPath is the PATH of a container whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds file as a shell would, in path; a name with a '/' is
// taken as is, relative to dir.
func lookPath(file, path, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return file, nil
	}
	if path == "" {
		path = defaultPath
	}
	for d := range strings.SplitSeq(path, ":") {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in $PATH (%s) of the container", file, path)
}

// executable returns nil if path is an executable file.
func executable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s: not an executable file", path)
	}
	return nil
}

// listProcs lists the container's processes other than the agent and
// zombies.
func listProcs() ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := "/proc/" + e.Name()
		stat, err := os.ReadFile(dir + "/stat")
		if err != nil {
			continue // gone
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			continue
		}
		cmd, _ := os.ReadFile(dir + "/cmdline")
		p := Proc{Pid: pid, Cmdline: strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))}
		if env, err := os.ReadFile(dir + "/environ"); err == nil {
			for kv := range strings.SplitSeq(string(env), "\x00") {
				if v, ok := strings.CutPrefix(kv, "PROCTEST_PROC="); ok {
					p.Name = v
					break
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}
