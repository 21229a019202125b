package proctest

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Logs in memory. Creating two files a process on a disk can cost more
// than starting the process, so by default a plan's logs go to /dev/shm, a
// file system in memory, when it is large enough and has room. What is in
// memory is bounded:
//
//   - /dev/shm is chosen only while it has memConfig.floor bytes free; else
//     the logs go to disk, and the plan says why.
//   - While a plan runs, its logs may take memConfig.limit bytes of memory
//     (at most half of what was free when it started). Past that, the
//     plan warns, and cuts the middle out of each large log, keeping its
//     first and last bytes and a line that marks the cut: the memory is
//     given back (the file has a hole), the process writes on unhindered.
//   - The logs of a plan that fails, or that keeps its logs, do not stay
//     in /dev/shm: they are moved to disk (PROCTEST_LOGDIR if it is on
//     disk, else the system's temporary directory), and the report names
//     where. A log root in memory that the test chose itself (LogDir,
//     PROCTEST_LOGDIR) is left alone, but bounded as above.

// memConfig is where logs go when no log root is set, and how much memory
// they may take. Tests change it through an option of export_test.go.
type memConfig struct {
	shm   string // the memory file system to use: /dev/shm
	disk  string // where kept logs move to; "" for the default
	floor int64  // the room shm must have free to be chosen
	limit int64  // how much a plan's logs may take in memory
}

// defaultMem is the memConfig of a plan.
var defaultMem = memConfig{shm: "/dev/shm", floor: 512 << 20, limit: 1 << 30}

// minShmSize is the size a memory file system must have to be chosen.
const minShmSize = 1 << 30

// chooseLogRoot returns the log root of a plan: the one set with LogDir
// or PROCTEST_LOGDIR, or else the memory file system if it qualifies,
// or else the system's temporary directory; auto is false for the first.
// The note says why a memory file system that is large enough was not
// chosen.
func (c *config) chooseLogRoot() (root, note string, auto bool) {
	if c.logRoot != "" {
		return c.logRoot, "", false
	}
	size, free, ok := memoryRoom(c.mem.shm)
	if !ok || size < minShmSize {
		return c.diskRoot(), "", true
	}
	if free < c.mem.floor {
		return c.diskRoot(), fmt.Sprintf("logs on disk: %s has %s free, less than %s", c.mem.shm, bytesText(free), bytesText(c.mem.floor)), true
	}
	return c.mem.shm, "", true
}

// diskRoot returns where logs kept from memory go: PROCTEST_LOGDIR if it
// is set and not in memory, else the system's temporary directory.
func (c *config) diskRoot() string {
	if c.mem.disk != "" {
		return c.mem.disk
	}
	if dir := os.Getenv("PROCTEST_LOGDIR"); dir != "" {
		if _, _, inMemory := memoryRoom(dir); !inMemory {
			return dir
		}
	}
	return os.TempDir()
}

// memLimit returns how much the logs of a plan may take in memory, when
// free bytes are free as it starts.
func (c *config) memLimit(free int64) int64 {
	return max(min(c.mem.limit, free/2), 0)
}

// bytesText writes n bytes for people: "512 MiB".
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

const (
	// cutHead and cutTail are how much of its start and end a log keeps
	// when its middle is cut.
	cutHead = 64 << 10
	cutTail = 256 << 10
	// memPollStart and memPollMax bound how often the memory the logs
	// take is checked: a file system call, then a look at the plan's
	// files once it grew past the limit.
	memPollStart = 10 * time.Millisecond
	memPollMax   = 100 * time.Millisecond
)

// cutMarker is the line that replaces the middle of a cut log.
func cutMarker(limit int64) string {
	return fmt.Sprintf("\n--- proctest: output cut here: the plan's logs passed their bound of %s in memory ---\n", bytesText(limit))
}

// memWatch keeps the logs of a plan in memory within their limit. Its
// results are read after stop.
type memWatch struct {
	logs  *planLogs
	limit int64
	stop  chan struct{}
	done  chan struct{}

	over  int64 // the most the logs took, past the limit; 0 if never
	files map[string]bool
	err   error // the first error cutting a log
}

// watchMemory starts watching the memory the logs take, with the limit.
func watchMemory(l *planLogs, limit int64) *memWatch {
	w := &memWatch{logs: l, limit: limit, stop: make(chan struct{}), done: make(chan struct{}), files: map[string]bool{}}
	go w.run()
	return w
}

func (w *memWatch) run() {
	defer close(w.done)
	base, _ := fsUsed(w.logs.root)
	delay := memPollStart
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.check(&base)
			return
		case <-t.C:
		}
		w.check(&base)
		delay = min(delay*2, memPollMax)
		t.Reset(delay)
	}
}

// check cuts the logs if they take more than the limit. base is what the
// file system held besides them: when it grew by no more than the limit,
// the logs cannot have passed it.
func (w *memWatch) check(base *int64) {
	used, ok := fsUsed(w.logs.root)
	if ok && used-*base <= w.limit {
		return
	}
	files, total := w.logs.allocated()
	if ok {
		*base = used - total
	}
	if total <= w.limit {
		return
	}
	w.over = max(w.over, total)
	for name, size := range files {
		if size <= cutHead+cutTail+2*int64(os.Getpagesize()) {
			continue
		}
		if err := cutMiddle(w.logs, name, size, cutMarker(w.limit)); err != nil {
			if w.err == nil {
				w.err = err
			}
			continue
		}
		w.files[name] = true
	}
}

// end stops the watch and returns what to say about it, if anything.
func (w *memWatch) end() string {
	close(w.stop)
	<-w.done
	if w.over == 0 {
		return ""
	}
	msg := fmt.Sprintf("the logs took %s of memory, more than their bound of %s", bytesText(w.over), bytesText(w.limit))
	if len(w.files) > 0 {
		msg += fmt.Sprintf(": the middle of %d logs was cut (marked %q)", len(w.files), "--- proctest: output cut here")
	}
	if w.err != nil {
		msg += fmt.Sprintf("; a log could not be cut: %v", w.err)
	}
	return msg
}

// allocated returns the plan's log files with their sizes, and the bytes
// they take on their file system.
func (l *planLogs) allocated() (sizes map[string]int64, total int64) {
	d, err := l.root.Open(".")
	if err != nil {
		return nil, 0
	}
	ents, _ := d.ReadDir(-1)
	d.Close()
	sizes = map[string]int64{}
	for _, ent := range ents {
		fi, err := l.root.Lstat(ent.Name())
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		sizes[ent.Name()] = fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			total += int64(st.Blocks) * 512
		} else {
			total += fi.Size()
		}
	}
	return sizes, total
}

// moveTo copies the logs into a new log directory in the log root disk,
// whose path is diskPath, then deletes them here; it returns the new
// directory, which holds disk open. The holes that cuts left are not
// copied. When it fails, it closes disk and the logs stay here.
func (l *planLogs) moveTo(disk *os.Root, diskPath, plan string) (*planLogs, error) {
	dst, err := newPlanLogs(disk, diskPath, plan)
	if err != nil {
		disk.Close()
		return nil, err
	}
	if err := copyTree(dst.root, l.root); err != nil {
		dst.remove()
		return nil, err
	}
	l.remove()
	return dst, nil
}

// copyTree copies the regular files and directories of src into dst;
// it leaves out anything else, such as symlinks.
func copyTree(dst, src *os.Root) error {
	d, err := src.Open(".")
	if err != nil {
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, ent := range ents {
		name := ent.Name()
		fi, err := src.Lstat(name)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode().IsRegular():
			if err := copyFile(dst, src, name, fi); err != nil {
				return err
			}
		case fi.IsDir():
			if err := dst.Mkdir(name, 0o700); err != nil {
				return err
			}
			s, err := src.OpenRoot(name)
			if err != nil {
				return err
			}
			t, err := dst.OpenRoot(name)
			if err == nil {
				err = copyTree(t, s)
				t.Close()
			}
			s.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFile copies the regular file name, whose Lstat is fi, from src to a
// new file in dst.
func copyFile(dst, src *os.Root, name string, fi os.FileInfo) error {
	in, err := src.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	if ifi, err := in.Stat(); err != nil || !os.SameFile(ifi, fi) {
		return fmt.Errorf("%s: replaced while it was copied", name)
	}
	out, err := dst.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	err = copyData(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyAll copies all of in to out.
func copyAll(out io.Writer, in io.Reader) error {
	_, err := io.CopyBuffer(out, in, make([]byte, 256<<10))
	return err
}
