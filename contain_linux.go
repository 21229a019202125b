package proctest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Containment. Every program a plan starts gets two environment variables:
// PROCTEST_PLAN, unique to the plan in this machine, and PROCTEST_PROC, the
// process's name. Descendants inherit them, even those that leave the
// process group or call setsid, so that at its end a plan finds what its
// processes left behind by reading /proc/PID/environ, and kills it. (A
// descendant that clears its environment escapes; nothing short of a PID
// namespace or a cgroup would find it.)
//
// If the program running plans dies without a chance to clean up (SIGKILL),
// its direct children die with it (Pdeathsig), and a guard process kills
// the rest: a copy of the running program, re-executed at the first plan
// with PROCTEST_GUARD set, which waits for its parent to close a pipe and
// then kills every process whose PROCTEST_PLAN names its parent.

const (
	planEnv  = "PROCTEST_PLAN"
	procEnv  = "PROCTEST_PROC"
	guardEnv = "PROCTEST_GUARD"
)

// planSeq numbers the plans of this program.
var planSeq atomic.Int64

// newCookie returns the PROCTEST_PLAN value of a new plan: "PID.N".
func newCookie() string {
	return fmt.Sprintf("%d.%d", os.Getpid(), planSeq.Add(1))
}

func init() {
	if prefix := os.Getenv(guardEnv); prefix != "" {
		runGuard(prefix)
		os.Exit(0)
	}
}

// runGuard waits until its standard input ends, which happens when the
// program that started it is gone, then kills every process whose
// PROCTEST_PLAN starts with prefix.
func runGuard(prefix string) {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	io.Copy(io.Discard, os.Stdin)
	match := []byte(planEnv + "=" + prefix)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		found := scanProcs(match, true)
		if len(found) == 0 {
			return
		}
		for _, f := range found {
			unix.Kill(f.pid, unix.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	guardOnce sync.Once
	guardErr  error
	// guardPipe is the guard's end of life: it must stay open, and so
	// reachable, for the life of the program.
	//lint:ignore U1000 only held, never read
	guardPipe *os.File
)

// startGuard starts the guard process once per program. An error means the
// guarantee that nothing survives a SIGKILL of this program does not hold;
// the plan reports it as a warning.
func startGuard() error {
	guardOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			guardErr = err
			return
		}
		cmd := exec.Command("/proc/self/exe")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, planEnv+"=") && !strings.HasPrefix(kv, procEnv+"=") &&
				!strings.HasPrefix(kv, "GOCOVERDIR=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, guardEnv+"="+strconv.Itoa(os.Getpid())+".")
		cmd.Stdin = r
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = cmd.Start()
		r.Close()
		if err != nil {
			w.Close()
			guardErr = fmt.Errorf("cannot start the guard that kills the plans' processes if this program is killed: %w", err)
			return
		}
		guardPipe = w
		// The guard runs until this program ends; it is never waited for.
	})
	return guardErr
}

// A procInfo describes a process found in /proc.
type procInfo struct {
	pid  int
	name string // its PROCTEST_PROC
	cmd  string // its command line
}

// scanProcs returns the live processes, other than this one, whose
// environment holds an entry equal to match, or starting with it if
// prefix is set.
func scanProcs(match []byte, prefix bool) []procInfo {
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
	var found []procInfo
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent)
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + ent + "/environ")
		if err != nil || len(env) == 0 {
			continue // gone, a kernel thread, or a zombie
		}
		var name string
		ok := false
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, match) || prefix && bytes.HasPrefix(kv, match) {
				ok = true
			}
			if v, isProc := bytes.CutPrefix(kv, []byte(procEnv+"=")); isProc {
				name = string(v)
			}
		}
		if !ok || isZombie(pid) {
			continue
		}
		found = append(found, procInfo{pid: pid, name: name, cmd: cmdline(pid)})
	}
	return found
}

// isZombie reports whether pid has ended but not been reaped, or is gone.
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// cmdline returns the command line of pid, its arguments joined by spaces.
func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// leftoverGrace is how long a process found at the end of a plan has to
// end by itself before it counts as left behind: it may be dying of a
// signal the plan sent its process group a moment ago.
const leftoverGrace = 200 * time.Millisecond

// killLeftovers kills every live process of the plan with the given cookie
// that has not ended by itself within leftoverGrace, and waits until they
// are gone. It returns what it killed.
func killLeftovers(cookie string) []procInfo {
	match := []byte(planEnv + "=" + cookie)
	found := scanProcs(match, false)
	for delay, waited := 100*time.Microsecond, time.Duration(0); len(found) > 0 && waited < leftoverGrace; delay *= 2 {
		time.Sleep(delay)
		waited += delay
		found = scanProcs(match, false)
	}
	var all []procInfo
	seen := map[int]bool{}
	for round := 0; round < 50; round++ {
		if round > 0 {
			found = scanProcs(match, false)
		}
		if len(found) == 0 {
			break
		}
		for _, f := range found {
			unix.Kill(f.pid, unix.SIGKILL)
			if !seen[f.pid] {
				seen[f.pid] = true
				all = append(all, f)
			}
		}
		// SIGKILL takes effect at once, but a dying process may still
		// be on its way out; back off a little before looking again.
		time.Sleep(time.Duration(round+1) * time.Millisecond)
	}
	return all
}
