package docker

import "golang.org/x/sys/unix"

// execAllowed reports whether programs can run from files under dir: its
// file system is not mounted noexec.
func execAllowed(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Flags&unix.ST_NOEXEC == 0
}
