package contain

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setup is what prepare found, once per program.
var setup struct {
	once       sync.Once
	cgroupBase string // the cgroup under which plans make theirs
	cgroupErr  error  // why there is none
}

// subreaper counts the plans that need this program to be a child
// subreaper: it is one only while they run, since every orphan of the
// program's other children would otherwise become its zombie too.
var subreaper struct {
	mu    sync.Mutex
	users int
}

// acquireSubreaper makes this program a child subreaper for one more plan.
func acquireSubreaper() error {
	subreaper.mu.Lock()
	defer subreaper.mu.Unlock()
	if subreaper.users == 0 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("cannot become a child subreaper: %w", err)
		}
	}
	subreaper.users++
	return nil
}

// releaseSubreaper undoes acquireSubreaper.
func releaseSubreaper() {
	subreaper.mu.Lock()
	defer subreaper.mu.Unlock()
	if subreaper.users--; subreaper.users == 0 {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	}
}

// NoCgroupEnv, set to 0, turns the cgroup layer off, for trying what
// remains.
const NoCgroupEnv = "PROCTEST_CGROUP"

// cgroupGuardEnv passes the cgroup under which plans make theirs to the
// guard.
const cgroupGuardEnv = "PROCTEST_GUARD_CGROUP"

// prepare finds where plans can make cgroups, once.
func prepare() {
	setup.once.Do(func() {
		if os.Getenv(NoCgroupEnv) == "0" {
			setup.cgroupErr = errors.New(NoCgroupEnv + "=0")
			return
		}
		setup.cgroupBase, setup.cgroupErr = findCgroup()
	})
}

// findCgroup returns this program's cgroup v2 directory, if it can make
// groups under it.
func findCgroup() (string, error) {
	mnt, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel := ""
	found := false
	for line := range strings.SplitSeq(string(own), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
	}
	dir := filepath.Join(mnt, rel)
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return "", fmt.Errorf("cgroup %s is not writable: %w", dir, err)
	}
	return dir, nil
}

// cgroup2Mount returns where the cgroup2 file system is mounted: read from
// /proc/self/mountinfo, since a hybrid layout mounts it at
// /sys/fs/cgroup/unified rather than /sys/fs/cgroup.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return unescapeMount(fields[4]), nil
			}
		}
	}
	return "", errors.New("no cgroup2 file system is mounted")
}

// unescapeMount undoes the octal escapes of a mountinfo path.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// A Plan is the containment of one plan's processes.
type Plan struct {
	cookie    string
	dir       string // the plan's cgroup; empty without one
	fd        int    // open on dir once a process starts there, else -1
	subreaper bool   // whether the plan made this program a subreaper

	mu     sync.Mutex
	groups map[string]*group // each process's cgroup, by name
	pids   map[int]string    // the pids of the plan's processes, by name
}

// group is one process's cgroup.
type group struct {
	path string
	fd   int
}

// NewPlan sets up the containment of a plan whose processes carry the
// environment tag cookie. It returns the layers in force and, for each
// missing one, why.
func NewPlan(cookie string) (p *Plan, layers []string, missing []error) {
	prepare()
	p = &Plan{cookie: cookie, fd: -1, groups: map[string]*group{}, pids: map[int]string{}}
	if setup.cgroupErr != nil {
		missing = append(missing, fmt.Errorf("no cgroup per plan: %w", setup.cgroupErr))
	} else {
		dir := filepath.Join(setup.cgroupBase, "proctest-"+cookie)
		if err := os.Mkdir(dir, 0o755); err != nil {
			missing = append(missing, fmt.Errorf("no cgroup per plan: %w", err))
		} else if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
			// The root cgroup has no cgroup.kill: look in a child.
			unix.Rmdir(dir)
			missing = append(missing, errors.New("no cgroup per plan: cgroup.kill is missing (Linux 5.14 or later)"))
		} else {
			p.dir = dir
			layers = append(layers, "cgroup "+dir)
		}
	}
	if p.dir == "" {
		// Without a cgroup, orphans are found among this program's
		// children.
		if err := acquireSubreaper(); err != nil {
			missing = append(missing, err)
		} else {
			p.subreaper = true
			layers = append(layers, "child subreaper")
		}
	}
	layers = append(layers, "environment tags")
	return p, layers, missing
}

// Prepare sets attr for a process of the plan named name: a process group
// of its own, SIGKILL if this program dies, and its cgroup: the plan's,
// or, for a process the plan will pause (own), a group of its own under
// the plan's, so that Pause freezes its tree. (A group per process would
// name every leftover exactly, but starting a process into a new group
// costs about 15% of a spawn; into the plan's, about 5%.)
func (p *Plan) Prepare(name string, attr *syscall.SysProcAttr, own bool) error {
	attr.Setpgid = true
	attr.Pgid = 0
	attr.Pdeathsig = syscall.SIGKILL
	if p.dir == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !own {
		if p.fd < 0 {
			fd, err := unix.Open(p.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("cgroup of the plan: %w", err)
			}
			p.fd = fd
		}
		attr.UseCgroupFD = true
		attr.CgroupFD = p.fd
		return nil
	}
	g := p.groups[name]
	if g == nil {
		path := filepath.Join(p.dir, groupName(name))
		if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cgroup of %s: %w", name, err)
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("cgroup of %s: %w", name, err)
		}
		g = &group{path: path, fd: fd}
		p.groups[name] = g
	}
	// A group left frozen by the last run of this name (paused, then
	// killed) would freeze the new process as it is cloned, before it
	// execs, and the start with it: thaw it first.
	if b, err := os.ReadFile(filepath.Join(g.path, "cgroup.freeze")); err == nil && bytes.HasPrefix(b, []byte("1")) {
		if err := os.WriteFile(filepath.Join(g.path, "cgroup.freeze"), []byte("0"), 0); err != nil {
			return fmt.Errorf("cgroup of %s: thaw it: %w", name, err)
		}
		if err := waitFor(5*time.Second, func() bool { return eventsHas(g.path, "frozen 0") }); err != nil {
			return fmt.Errorf("cgroup of %s: thaw it: %w", name, err)
		}
	}
	attr.UseCgroupFD = true
	attr.CgroupFD = g.fd
	return nil
}

// Started records that the process named name runs as pid.
func (p *Plan) Started(name string, pid int) {
	p.mu.Lock()
	p.pids[pid] = name
	p.mu.Unlock()
}

// Pause stops the process named name, pid, and its descendants: its
// cgroup is frozen where there is one, else its process group is sent
// SIGSTOP.
func (p *Plan) Pause(name string, pid int) error { return p.freeze(name, pid, true) }

// Resume undoes Pause.
func (p *Plan) Resume(name string, pid int) error { return p.freeze(name, pid, false) }

func (p *Plan) freeze(name string, pid int, on bool) error {
	p.mu.Lock()
	g := p.groups[name]
	p.mu.Unlock()
	if g == nil {
		sig := unix.SIGCONT
		if on {
			sig = unix.SIGSTOP
		}
		if err := unix.Kill(-pid, sig); err != nil {
			return unix.Kill(pid, sig)
		}
		return nil
	}
	val, want := "0", "frozen 0"
	if on {
		val, want = "1", "frozen 1"
	}
	if err := os.WriteFile(filepath.Join(g.path, "cgroup.freeze"), []byte(val), 0); err != nil {
		return err
	}
	// The freeze takes effect when every member has reached a point where
	// it can stop; wait for it, as a stopped process is stopped at once.
	return waitFor(5*time.Second, func() bool { return eventsHas(g.path, want) })
}

// eventsHas reports whether the cgroup.events file of dir has line.
func eventsHas(dir, line string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return true // gone: nothing left to wait for
	}
	return bytes.Contains(b, []byte(line+"\n"))
}

// waitFor polls cond with a capped backoff until it holds or limit has
// passed.
func waitFor(limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for delay := 50 * time.Microsecond; !cond(); delay = min(delay*2, 5*time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v", limit)
		}
		time.Sleep(delay)
	}
	return nil
}

// End finds what the plan's processes left running, gives it grace to end
// by itself (it may be dying of a signal the plan sent a moment ago), then
// kills it and waits until it is gone. It returns what it killed. The
// plan's own processes must all have been waited for.
func (p *Plan) End(grace time.Duration) []Found {
	if p.dir != "" {
		return p.endCgroup(grace)
	}
	if p.subreaper {
		defer releaseSubreaper()
		return p.endOrphans(grace)
	}
	return nil
}

// endCgroup ends what is left in the plan's cgroup and removes it.
func (p *Plan) endCgroup(grace time.Duration) []Found {
	defer func() {
		for _, g := range p.groups {
			unix.Close(g.fd)
		}
		p.groups = nil
		if p.fd >= 0 {
			unix.Close(p.fd)
			p.fd = -1
		}
	}()
	seen := map[int]Found{}
	var left []Found
	deadline := time.Now().Add(grace)
	for delay := 100 * time.Microsecond; ; delay = min(delay*2, 10*time.Millisecond) {
		left = p.members(seen)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(delay)
	}
	if slices.ContainsFunc(left, func(f Found) bool { return f.Cmd == "" }) {
		// A process with no command line is in the middle of exec, or
		// of exiting by itself: look once more, a moment later.
		time.Sleep(time.Millisecond)
		left = p.members(seen)
	}
	if len(left) > 0 {
		// Kill every process of the plan's tree at once: nothing can fork
		// its way out of a cgroup.kill.
		if err := os.WriteFile(filepath.Join(p.dir, "cgroup.kill"), []byte("1"), 0); err != nil {
			for _, f := range left {
				unix.Kill(f.Pid, unix.SIGKILL)
			}
		}
		waitFor(10*time.Second, func() bool {
			if eventsHas(p.dir, "populated 0") {
				return true
			}
			for _, f := range p.members(seen) {
				unix.Kill(f.Pid, unix.SIGKILL)
			}
			return false
		})
	}
	reapOrphans(func(pid int) bool {
		_, ok := seen[pid]
		return ok
	})
	removeTree(p.dir)
	return left
}

// members lists the processes in the plan's cgroup tree, recording each in
// seen with its name and command line when first met.
func (p *Plan) members(seen map[int]Found) []Found {
	var out []Found
	filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil || len(b) == 0 {
			return nil
		}
		name := ""
		if rel, err := filepath.Rel(p.dir, path); err == nil && rel != "." {
			top, _, _ := strings.Cut(rel, string(filepath.Separator))
			name = p.nameOfGroup(top)
		}
		for f := range strings.FieldsSeq(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			fd, ok := seen[pid]
			if !ok || fd.Cmd == "" || fd.Name == "" {
				// A process caught in the middle of exec shows no
				// command line yet: look again next time.
				fd = Found{Pid: pid, Name: name, Cmd: Cmdline(pid)}
				if fd.Name == "" {
					fd.Name = p.attribute(pid, seen)
				}
				seen[pid] = fd
			}
			out = append(out, fd)
		}
		return nil
	})
	return out
}

// attribute names the process of the plan that pid, a leftover in the
// plan's own group, comes from: by process group, session or environment
// tag; "" if none tells.
func (p *Plan) attribute(pid int, known map[int]Found) string {
	if pgid, sid, ok := groupAndSession(pid); ok {
		if name, ok := p.owner(pgid, sid, known); ok {
			return name
		}
	}
	if tag, proc := tags(pid); tag == p.cookie {
		return proc
	}
	return ""
}

// nameOfGroup returns the name of the process whose cgroup is dir.
func (p *Plan) nameOfGroup(dir string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, g := range p.groups {
		if filepath.Base(g.path) == dir {
			return name
		}
	}
	return ""
}

// removeTree removes a cgroup and the groups below it, deepest first.
func removeTree(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeTree(filepath.Join(dir, e.Name()))
		}
	}
	// A group whose last member is exiting can be busy a moment longer.
	waitFor(2*time.Second, func() bool {
		err := unix.Rmdir(dir)
		return err == nil || err == unix.ENOENT
	})
}

// endOrphans ends, without a cgroup, what the plan's processes left: the
// children of this program (its subreaper) that belong to the plan by
// process group, session or environment tag.
func (p *Plan) endOrphans(grace time.Duration) []Found {
	known := map[int]Found{}
	deadline := time.Now().Add(grace)
	empty := 0
	for delay := 100 * time.Microsecond; ; delay = min(delay*2, 10*time.Millisecond) {
		alive := 0
		for _, f := range p.orphans(known) {
			if !isZombie(f.Pid) {
				alive++
			}
		}
		for pid := range known {
			if !isZombie(pid) {
				alive++
			}
		}
		if alive == 0 {
			// A process caught in the middle of exec shows no
			// environment: an empty look is trusted only when repeated.
			if empty++; empty >= 3 {
				break
			}
		} else {
			empty = 0
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(delay)
	}
	var left []Found
	counted := map[int]bool{}
	for round := 0; round < 200; round++ {
		var alive []Found
		for _, f := range p.orphans(known) {
			if !isZombie(f.Pid) {
				alive = append(alive, f)
			}
		}
		for pid, f := range known {
			if !isZombie(pid) && !counted[pid] {
				alive = append(alive, f)
			}
		}
		if len(alive) == 0 {
			break
		}
		for _, f := range alive {
			unix.Kill(f.Pid, unix.SIGKILL)
			if !counted[f.Pid] {
				counted[f.Pid] = true
				left = append(left, f)
			}
		}
		time.Sleep(time.Duration(round+1) * 100 * time.Microsecond)
	}
	reapOrphans(func(pid int) bool {
		_, ok := known[pid]
		return ok
	})
	return left
}

// orphans returns the children of this program that belong to the plan:
// in the process group or session of one of its processes or of a
// leftover already known, or tagged with its cookie. Each is added to
// known.
func (p *Plan) orphans(known map[int]Found) []Found {
	var out []Found
	for _, pid := range children() {
		if f, ok := known[pid]; ok {
			if f.Cmd == "" {
				// Caught in the middle of exec: look again.
				f.Cmd = Cmdline(pid)
				known[pid] = f
			}
			out = append(out, f)
			continue
		}
		pgid, sid, ok := groupAndSession(pid)
		if !ok {
			continue
		}
		name, ok := p.owner(pgid, sid, known)
		if !ok {
			tag, proc := tags(pid)
			if tag != p.cookie {
				continue
			}
			name = proc
		}
		f := Found{Pid: pid, Name: name, Cmd: Cmdline(pid)}
		known[pid] = f
		out = append(out, f)
	}
	return out
}

// owner returns the name of the plan process a process in group pgid and
// session sid descends from.
func (p *Plan) owner(pgid, sid int, known map[int]Found) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range []int{pgid, sid} {
		if name, ok := p.pids[id]; ok {
			return name, true
		}
		// A leftover known by no name (caught in the middle of exec,
		// or this very process) tells nothing.
		if f, ok := known[id]; ok && f.Name != "" {
			return f.Name, true
		}
	}
	return "", false
}

// children returns the pids of this program's children, from every
// thread's children file.
func children() []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for f := range strings.FieldsSeq(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// reapOrphans reaps the ended children of this program that mine says
// belong to the plan. Only those: a child that os/exec waits for is never
// touched.
func reapOrphans(mine func(pid int) bool) {
	for _, pid := range children() {
		if mine(pid) && isZombie(pid) {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// stat returns the fields of /proc/pid/stat after the command name: the
// state first.
func stat(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	// The command name is in parentheses and may hold parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(b[i+1:]))
	return f, len(f) > 4
}

// groupAndSession returns the process group and session of pid.
func groupAndSession(pid int) (pgid, sid int, ok bool) {
	f, ok := stat(pid)
	if !ok {
		return 0, 0, false
	}
	pgid, err1 := strconv.Atoi(f[2])
	sid, err2 := strconv.Atoi(f[3])
	return pgid, sid, err1 == nil && err2 == nil
}

// isZombie reports whether pid has ended but not been reaped, or is gone.
func isZombie(pid int) bool {
	f, ok := stat(pid)
	return !ok || f[0] == "Z" || f[0] == "X"
}

// Cgroup returns the plan's cgroup directory, or "" without one.
func (p *Plan) Cgroup() string { return p.dir }

// Tags returns the plan ID and process name in pid's environment.
func Tags(pid int) (plan, proc string) { return tags(pid) }

// tags returns the plan cookie and process name in pid's environment.
func tags(pid int) (plan, proc string) {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return "", ""
	}
	for kv := range bytes.SplitSeq(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(PlanEnv+"=")); ok {
			plan = string(v)
		} else if v, ok := bytes.CutPrefix(kv, []byte(ProcEnv+"=")); ok {
			proc = string(v)
		}
	}
	return plan, proc
}

// Cmdline returns the command line of pid, its arguments joined by spaces.
func Cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// WaitExited waits until pid, a child of this program, has ended, without
// reaping it.
func WaitExited(pid int) {
	var info unix.Siginfo
	for unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
	}
}
