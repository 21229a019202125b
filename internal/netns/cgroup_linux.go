package netns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Cgroups. A host whose network was given a cgroup parent lives in a
// cgroup v2 group of its own, made under that parent: every process of the
// host, its init included, is started straight into it (clone3 with
// CLONE_INTO_CGROUP), so that cgroup.freeze pauses exactly the host and
// cgroup.kill kills exactly the host. Only core files are used: no
// controller needs to be enabled.

// CgroupDir returns the directory of this process's own cgroup in the
// cgroup v2 hierarchy, found from /proc/self/mountinfo and
// /proc/self/cgroup, after checking that a group made there has the
// cgroup.freeze and cgroup.kill files. A caller passes a directory under it
// to AddHost. The error says why no cgroup can be used: no cgroup2 mount
// (a v1-only layout), no write access (rootless without delegation), or a
// kernel too old.
func CgroupDir() (string, error) {
	mnt, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	own, err := ownCgroup()
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(own, root)
	if !ok {
		return "", fmt.Errorf("netns: cgroup v2: this process's cgroup %s is outside the mount's root %s", own, root)
	}
	dir := filepath.Join(mnt, rel)
	probe := filepath.Join(dir, fmt.Sprintf("proctest-probe-%d-%d", os.Getpid(), probeSeq.Add(1)))
	if err := os.Mkdir(probe, 0o755); err != nil {
		return "", fmt.Errorf("netns: cgroup v2 at %s is not writable: %w", dir, err)
	}
	defer os.Remove(probe)
	for _, f := range []string{"cgroup.freeze", "cgroup.kill"} {
		if _, err := os.Stat(filepath.Join(probe, f)); err != nil {
			return "", fmt.Errorf("netns: cgroup v2 at %s has no %s (kernel too old): %w", dir, f, err)
		}
	}
	return dir, nil
}

// probeSeq numbers the probe groups of CgroupDir.
var probeSeq atomic.Int64

// cgroup2Mount returns the mount point of the cgroup2 file system and the
// root of the hierarchy it shows.
func cgroup2Mount() (mountPoint, root string, err error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", "", fmt.Errorf("netns: cgroup v2: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// 40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 || g[0] != "cgroup2" {
			continue
		}
		return unescapeMount(f[4]), unescapeMount(f[3]), nil
	}
	return "", "", errors.New("netns: cgroup v2: no cgroup2 file system is mounted")
}

// unescapeMount undoes the octal escapes (\040 for a space) of a field of
// /proc/self/mountinfo.
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

// ownCgroup returns this process's cgroup v2 path ("0::/path" in
// /proc/self/cgroup).
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("netns: cgroup v2: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("netns: cgroup v2: /proc/self/cgroup has no v2 entry")
}

// makeCgroup makes the group dir, and any missing parent, and returns a
// descriptor of it for CLONE_INTO_CGROUP, and the directories it made,
// parents first. A group left over from an earlier run is removed first
// if it is empty.
func makeCgroup(dir string) (fd int, made []string, err error) {
	var missing []string
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return -1, made, err
		}
		made = append(made, missing[i])
	}
	if err := os.Mkdir(dir, 0o755); errors.Is(err, fs.ErrExist) {
		if err := unix.Rmdir(dir); err != nil {
			return -1, made, fmt.Errorf("cgroup %s exists and cannot be removed: %w", dir, err)
		}
		err = os.Mkdir(dir, 0o755)
		if err != nil {
			return -1, made, err
		}
	} else if err != nil {
		return -1, made, err
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		unix.Rmdir(dir)
		return -1, made, fmt.Errorf("%s is not a cgroup v2 group with cgroup.kill: %w", dir, err)
	}
	fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Rmdir(dir)
		return -1, made, fmt.Errorf("open %s: %w", dir, err)
	}
	return fd, made, nil
}

// writeCgroup writes value to the control file name of the group dir.
// It never creates a file.
func writeCgroup(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	return errors.Join(err, f.Close())
}

// setFrozen freezes or thaws the group dir and waits until the kernel
// reports it done in cgroup.events.
func setFrozen(ctx context.Context, dir string, frozen bool) error {
	v := "0"
	if frozen {
		v = "1"
	}
	if err := writeCgroup(dir, "cgroup.freeze", v); err != nil {
		return err
	}
	want := "frozen " + v
	return poll(ctx, func() (bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
		if err != nil {
			return false, err
		}
		for line := range strings.Lines(string(b)) {
			if strings.TrimSpace(line) == want {
				return true, nil
			}
		}
		return false, nil
	})
}

// removeCgroup removes the group dir once its last process is gone
// (a process ends some time before its group forgets it).
func removeCgroup(ctx context.Context, dir string) error {
	return poll(ctx, func() (bool, error) {
		err := unix.Rmdir(dir)
		switch {
		case err == nil || errors.Is(err, unix.ENOENT):
			return true, nil
		case errors.Is(err, unix.EBUSY):
			return false, nil
		}
		return false, fmt.Errorf("remove cgroup %s: %w", dir, err)
	})
}

// RemoveCgroups removes the cgroup v2 group dir and every group below it,
// killing what still runs in them (cgroup.kill) and thawing frozen ones:
// after a crash of the program that made them, cgroup directories are the
// only thing hosts leave behind. A group still busy when ctx ends is
// reported. A dir that does not exist is not an error.
func RemoveCgroups(ctx context.Context, dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netns: remove cgroups: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if e.IsDir() {
			errs = append(errs, RemoveCgroups(ctx, filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Both files may be missing (a cgroup root, an old kernel): then
	// removing is all that can be done.
	writeCgroup(dir, "cgroup.kill", "1")
	writeCgroup(dir, "cgroup.freeze", "0")
	if err := removeCgroup(ctx, dir); err != nil {
		return fmt.Errorf("netns: remove cgroups: %s: %w", dir, err)
	}
	return nil
}
