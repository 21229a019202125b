package contain

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The guard: a copy of the running program, started at its first plan
// with PROCTEST_GUARD set, which waits for its parent to close a pipe and
// then kills what the parent's plans left: every cgroup the parent made,
// then every process whose PROCTEST_PLAN names the parent. Last it runs
// the reapers the parent registered over the same pipe, one line each.

// RunGuardIfAsked runs the guard and exits if this program was started
// as one; it returns at once otherwise.
func RunGuardIfAsked() {
	prefix := os.Getenv(GuardEnv)
	if prefix == "" {
		return
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	var reapers []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		reapers = append(reapers, sc.Text())
	}
	io.Copy(io.Discard, os.Stdin) // a line too long: wait for the end all the same
	if base := os.Getenv(cgroupGuardEnv); base != "" {
		killCgroups(base, "proctest-"+prefix)
	}
	killTagged(prefix)
	runReapers(reapers)
	os.Exit(0)
}

// reaperTimeout is how long the guard gives each reaper.
const reaperTimeout = time.Minute

// runReapers runs this program again for each entry of reapers, with the
// entry added to the environment, one after the other.
func runReapers(reapers []string) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, GuardEnv+"=") && !strings.HasPrefix(kv, cgroupGuardEnv+"=") {
			env = append(env, kv)
		}
	}
	for _, kv := range reapers {
		// No output: the program's may be closed by now.
		cmd := exec.Command("/proc/self/exe")
		cmd.Env = append(env[:len(env):len(env)], kv)
		if cmd.Start() != nil {
			continue
		}
		t := time.AfterFunc(reaperTimeout, func() { cmd.Process.Kill() })
		cmd.Wait()
		t.Stop()
	}
}

// AddReaper asks the guard, started if need be, to run this program again
// with env ("KEY=value") added to its environment once the program has
// ended and the guard has killed what its plans left. Each env is run
// once, however often it is added.
func AddReaper(env string) error {
	if strings.ContainsAny(env, "\n\x00") || !strings.Contains(env, "=") {
		return fmt.Errorf("reaper environment %q: not one KEY=value", env)
	}
	if err := StartGuard(); err != nil {
		return err
	}
	guard.mu.Lock()
	defer guard.mu.Unlock()
	if guard.reapers[env] {
		return nil
	}
	if _, err := guard.pipe.WriteString(env + "\n"); err != nil {
		return fmt.Errorf("cannot register a reaper with the guard: %w", err)
	}
	if guard.reapers == nil {
		guard.reapers = map[string]bool{}
	}
	guard.reapers[env] = true
	return nil
}

// killCgroups kills the members of every cgroup under base whose name
// starts with prefix, and removes the groups.
func killCgroups(base, prefix string) {
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		waitFor(5*time.Second, func() bool { return eventsHas(dir, "populated 0") })
		removeTree(dir)
	}
}

// killTagged kills every process whose PROCTEST_PLAN starts with prefix.
// A process caught in the middle of exec shows no environment, so the
// search goes on until several looks in a row, over at least 50 ms, find
// nothing; it gives up after 10 s.
func killTagged(prefix string) {
	match := []byte(PlanEnv + "=" + prefix)
	start := time.Now()
	empty := 0
	for time.Since(start) < 10*time.Second {
		found := ScanTagged(match)
		if len(found) == 0 {
			empty++
			if empty >= 5 && time.Since(start) > 50*time.Millisecond {
				return
			}
		} else {
			empty = 0
		}
		for _, pid := range found {
			unix.Kill(pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ScanTagged returns the live processes, other than this one, whose
// environment holds an entry starting with match. It reads every
// process of the machine.
func ScanTagged(match []byte) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	ents, err := d.Readdirnames(-1)
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found []int
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent)
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + ent + "/environ")
		if err != nil || len(env) == 0 {
			continue // gone, a kernel thread, or a zombie
		}
		for kv := range bytes.SplitSeq(env, []byte{0}) {
			if bytes.HasPrefix(kv, match) {
				if !isZombie(pid) {
					found = append(found, pid)
				}
				break
			}
		}
	}
	return found
}

var guard struct {
	once sync.Once
	err  error
	// pipe is the guard's end of life: it must stay open, and so
	// reachable, for the life of the program. Reapers are written to it.
	pipe *os.File

	mu      sync.Mutex
	reapers map[string]bool // written to pipe
}

// StartGuard starts the guard process once per program. An error means the
// guarantee that nothing survives a SIGKILL of this program does not hold.
func StartGuard() error {
	prepare()
	guard.once.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			guard.err = err
			return
		}
		cmd := exec.Command("/proc/self/exe")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, PlanEnv+"=") && !strings.HasPrefix(kv, ProcEnv+"=") &&
				!strings.HasPrefix(kv, "GOCOVERDIR=") {
				env = append(env, kv)
			}
		}
		env = append(env, GuardEnv+"="+strconv.Itoa(os.Getpid())+".")
		if setup.cgroupBase != "" {
			env = append(env, cgroupGuardEnv+"="+setup.cgroupBase)
		}
		cmd.Env = env
		cmd.Stdin = r
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = cmd.Start()
		r.Close()
		if err != nil {
			w.Close()
			guard.err = fmt.Errorf("cannot start the guard that kills the plans' processes if this program is killed: %w", err)
			return
		}
		guard.pipe = w
		// The guard runs until this program ends; it is never waited for.
	})
	return guard.err
}
