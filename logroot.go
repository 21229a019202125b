package proctest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// The log root and a plan's log directory.
//
// A plan makes its log directory under the log root and writes, reads and
// moves everything in it through handles held from its creation, never by
// path: so a neighbour who renames a directory on the way (the plan's, or
// the log root's) and puts a symlink in its place gains nothing. The
// plan's own processes, which run as its user, could plant symlinks in it:
// files are created with O_EXCL, never reused, and a file that is read is
// refused if it is not a regular file, or if its name is a symlink.
//
// The log root itself must be safe: owned by this user or root, and not
// writable by other users unless its sticky bit is set (as /tmp and
// /dev/shm are), so that no one else can rename or replace what a plan
// makes in it.

// openLogRoot makes the directory path if need be and opens it as a log
// root, refusing one that another user could change.
func openLogRoot(path string) (*os.Root, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("proctest: log root: %w", err)
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("proctest: log root: %w", err)
	}
	fi, err := root.Stat(".")
	if err == nil {
		err = checkLogRoot(path, fi)
	} else {
		err = fmt.Errorf("proctest: log root: %w", err)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// checkLogRoot returns an error if fi, the log root at path, is owned by
// another user than this one or root, or is writable by others (group or
// world) without the sticky bit.
func checkLogRoot(path string, fi fs.FileInfo) error {
	const where = "set it with LogDir, PROCTEST_LOGDIR or proctest run -logdir"
	if !fi.IsDir() {
		return fmt.Errorf("proctest: log root %s: not a directory", path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := int(st.Uid); uid != os.Geteuid() && uid != 0 {
			return fmt.Errorf("proctest: log root %s: owned by user %d, not by this user (%d) or root: "+
				"its owner could replace the plans' logs; use a directory of your own (%s)", path, uid, os.Geteuid(), where)
		}
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("proctest: log root %s: writable by other users (mode %v) without the sticky bit: "+
			"another user could replace the plans' logs; chmod go-w or +t it, or use a directory of your own (%s)",
			path, fi.Mode(), where)
	}
	return nil
}

// planLogs is a plan's log directory, held open.
type planLogs struct {
	path   string   // as reports name it
	name   string   // its name in the log root
	parent *os.Root // the log root
	root   *os.Root // the directory
	memory bool     // on a file system in memory
}

// newPlanLogs makes a new log directory for the plan named plan in the
// log root parent, whose path is parentPath, and opens it. The directory
// holds parent open from then on.
func newPlanLogs(parent *os.Root, parentPath, plan string) (*planLogs, error) {
	for range 1000 {
		name := "proctest-" + safeName(plan) + "-" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		err := parent.Mkdir(name, 0o700)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("proctest: log directory: %w", err)
		}
		root, err := parent.OpenRoot(name)
		if err != nil {
			return nil, fmt.Errorf("proctest: log directory: %w", err)
		}
		// What was opened must be what was made: a directory of this
		// user's that no one else can enter.
		fi, err := root.Stat(".")
		if err == nil && !ownDir(fi) {
			err = errors.New("replaced while it was made")
		}
		if err != nil {
			root.Close()
			return nil, fmt.Errorf("proctest: log directory %s: %w", filepath.Join(parentPath, name), err)
		}
		l := &planLogs{path: filepath.Join(parentPath, name), name: name, parent: parent, root: root}
		_, l.memory = memoryFS(root)
		return l, nil
	}
	return nil, fmt.Errorf("proctest: log directory: no free name in %s", parentPath)
}

// ownDir reports whether fi is a directory of this user's, closed to
// others.
func ownDir(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return fi.IsDir() && fi.Mode().Perm()&0o077 == 0 && (!ok || int(st.Uid) == os.Geteuid())
}

// create creates the new file name, for writing at its end.
func (l *planLogs) create(name string) (*os.File, error) {
	return l.root.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
}

// appendTo opens the existing log file name for writing at its end.
func (l *planLogs) appendTo(name string) (*os.File, error) {
	return l.openFile(name, os.O_WRONLY|os.O_APPEND)
}

// open opens the log file name for reading.
func (l *planLogs) open(name string) (*os.File, error) {
	return l.openFile(name, os.O_RDONLY)
}

// openFile opens the file name with flag, if it is a regular file and not
// a symlink: what a process of the plan put in place of a log is not
// followed.
func (l *planLogs) openFile(name string, flag int) (*os.File, error) {
	// Checked before opening, so that a FIFO is never opened (which would
	// block), and after, so that what was opened is what was checked.
	lfi, err := l.root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !lfi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%v)", name, lfi.Mode().Type())
	}
	f, err := l.root.OpenFile(name, flag, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, lfi) {
		f.Close()
		return nil, fmt.Errorf("%s: replaced while it was opened", name)
	}
	return f, nil
}

// readFile returns the content of the log file name.
func (l *planLogs) readFile(name string) ([]byte, error) {
	f, err := l.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// createNew creates the new file name and writes it with write.
func (l *planLogs) createNew(name string, write func(f *os.File) error) error {
	f, err := l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// moved reports whether the log directory's path no longer leads to it:
// something renamed it, or a directory on its path, while the plan ran.
func (l *planLogs) moved() bool {
	here, err := l.root.Stat(".")
	if err != nil {
		return true
	}
	there, err := os.Stat(l.path)
	return err != nil || !os.SameFile(here, there)
}

// remove deletes the log directory and closes it.
func (l *planLogs) remove() {
	l.parent.RemoveAll(l.name)
	l.close()
}

// close closes the handles.
func (l *planLogs) close() {
	l.root.Close()
	l.parent.Close()
}

// openLogs makes the plan's log directory, under the log root of its
// config, and starts watching the memory it takes if it is in memory. It
// returns what the plan should say about it as it starts.
func (e *executor) openLogs() ([]Event, error) {
	path, note, auto := e.cfg.chooseLogRoot()
	// Absolute, so that the paths of the logs and of the hosts'
	// directories mean the same to every process and every backend.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	root, err := openLogRoot(path)
	if err != nil {
		return nil, err
	}
	logs, err := newPlanLogs(root, path, e.plan.name)
	if err != nil {
		root.Close()
		return nil, err
	}
	e.logs = logs
	e.moveOut = auto && logs.memory
	var notes []Event
	if note != "" {
		notes = append(notes, Event{Kind: EventInfo, Detail: note})
	}
	if free, ok := memoryFS(logs.root); ok {
		e.mem = watchMemory(logs, e.cfg.memLimit(free))
	}
	return notes, nil
}

// dropLogs deletes the log directory of a plan that did not start.
func (e *executor) dropLogs() {
	if e.mem != nil {
		e.mem.end()
		e.mem = nil
	}
	e.logs.remove()
}

// endLogs ends the watch on the memory the logs take, saying if they took
// too much, and moves the logs of a plan that failed, or keeps its logs,
// out of memory. It is called once every process of the plan has ended.
func (e *executor) endLogs(failed bool) {
	if e.mem != nil {
		if msg := e.mem.end(); msg != "" {
			e.emit(Event{Kind: EventWarning, Detail: msg})
		}
		e.mem = nil
	}
	if !e.moveOut || !failed && !e.cfg.keepLogs {
		return
	}
	path := e.cfg.diskRoot()
	disk, err := openLogRoot(path)
	if err == nil {
		var moved *planLogs
		if moved, err = e.logs.moveTo(disk, path, e.plan.name); err == nil {
			e.logs = moved
			e.emit(Event{Kind: EventInfo, Detail: "logs moved out of memory to " + moved.path})
			return
		}
	}
	e.emit(Event{Kind: EventWarning, Detail: fmt.Sprintf("logs left in memory in %s: cannot move them to disk: %v", e.logs.path, err)})
}

// MakeDir makes a directory of the plan's own in its log root (see
// [Plan.LogRoot]), mode 0700, named prefix followed by random characters,
// and returns its path. Characters of prefix other than letters, digits,
// '_', '+', '-' and '.' (not first) become '_', and a prefix longer than
// 64 bytes is cut there. It first checks the log root as the plan does when
// it runs: owned by this user or root, and not writable by other users
// unless its sticky bit is set; so no one else can rename or replace the
// directory. A program keeping files of its own beside the plan's logs,
// as a plan script's work directory, makes them there.
func (p *Plan) MakeDir(prefix string) (string, error) {
	root, err := openLogRoot(p.LogRoot())
	if err != nil {
		return "", err
	}
	defer root.Close()
	if prefix != "" {
		prefix = safeName(prefix)
	}
	dir, err := os.MkdirTemp(p.LogRoot(), prefix)
	if err != nil {
		return "", fmt.Errorf("proctest: %w", err)
	}
	fi, err := root.Lstat(filepath.Base(dir))
	if err != nil || !fi.IsDir() || !ownDir(fi) {
		os.Remove(dir)
		return "", fmt.Errorf("proctest: %s is not the directory just made", dir)
	}
	return dir, nil
}
