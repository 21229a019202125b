package proctest_test

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// readOnlyDir returns a directory that even root cannot write: a
// read-only bind mount of an empty directory, unmounted at cleanup.
func readOnlyDir(t *testing.T) string {
	dir := t.TempDir()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("this case needs to mount a file system, which is not permitted here: %v", err)
	}
	unmountAtCleanup(t, dir)
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("this case needs to remount a bind mount read-only, which is not permitted here: %v", err)
	}
	return dir
}

// smallTmpfs returns the root of a 256 KiB tmpfs, unmounted at cleanup.
func smallTmpfs(t *testing.T) string {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0755"); err != nil {
		t.Skipf("this case needs to mount a tmpfs, which is not permitted here: %v", err)
	}
	unmountAtCleanup(t, dir)
	return dir
}

// unmountAtCleanup unmounts dir when the test ends, before its temporary
// directories are removed.
func unmountAtCleanup(t *testing.T, dir string) {
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
}

// dieWithParent makes a child die with the test.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }

// limitProcesses sets the soft limit on this user's processes.
func limitProcesses(n int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &lim); err != nil {
		return err
	}
	lim.Cur = uint64(n)
	return unix.Setrlimit(unix.RLIMIT_NPROC, &lim)
}
