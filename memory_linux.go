package proctest

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// The magic numbers of the file systems in memory.
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// inMemory reports whether st describes a file system in memory.
func inMemory(st *unix.Statfs_t) bool {
	return uint32(st.Type) == tmpfsMagic || uint32(st.Type) == ramfsMagic
}

// memoryRoom returns the size and free room of the file system at path,
// and whether it is in memory and this program may write to path.
func memoryRoom(path string) (size, free int64, ok bool) {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil || !inMemory(&st) || unix.Access(path, unix.W_OK) != nil {
		return 0, 0, false
	}
	return int64(st.Blocks) * int64(st.Bsize), int64(st.Bavail) * int64(st.Bsize), true
}

// statfs returns what the file system of the directory root says of
// itself.
func statfs(root *os.Root) (*unix.Statfs_t, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(d.Fd()), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// memoryFS reports whether the directory root is on a file system in
// memory, and how much room it has free.
func memoryFS(root *os.Root) (free int64, ok bool) {
	st, err := statfs(root)
	if err != nil || !inMemory(st) {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// fsUsed returns how many bytes the file system of root holds.
func fsUsed(root *os.Root) (int64, bool) {
	st, err := statfs(root)
	if err != nil {
		return 0, false
	}
	return int64(st.Blocks-st.Bfree) * int64(st.Bsize), true
}

// fsFull reports whether the file system of root has no room left for
// this program's writes.
func fsFull(root *os.Root) bool {
	st, err := statfs(root)
	return err == nil && (st.Bfree == 0 || os.Geteuid() != 0 && st.Bavail == 0)
}

// cutMiddle gives back the memory of the middle of the log file name, of
// size bytes, keeping its first cutHead and last cutTail bytes: it writes
// marker where the cut starts and punches a hole after it. The process
// that writes the log appends to it unhindered.
func cutMiddle(l *planLogs, name string, size int64, marker string) error {
	f, err := l.openFile(name, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	page := int64(os.Getpagesize())
	start := (cutHead + int64(len(marker)) + page - 1) / page * page
	end := (size - cutTail) / page * page
	if end <= start {
		return nil
	}
	if _, err := f.WriteAt([]byte(marker), start-int64(len(marker))); err != nil {
		return fmt.Errorf("cut %s: %w", name, err)
	}
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, start, end-start); err != nil {
		return fmt.Errorf("cut %s: %w", name, err)
	}
	return nil
}

// copyData copies in to out, leaving out the holes in it.
func copyData(out, in *os.File) error {
	fd := int(in.Fd())
	var off int64
	for {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // no data after off
		}
		if err != nil {
			// No hole support: copy it all.
			if _, err := in.Seek(off, io.SeekStart); err != nil {
				return err
			}
			return copyAll(out, in)
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if err := copyAll(out, io.NewSectionReader(in, data, hole-data)); err != nil {
			return err
		}
		off = hole
	}
}
