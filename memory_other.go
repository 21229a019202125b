//go:build !linux

package proctest

import (
	"errors"
	"os"
)

// memoryRoom reports that no file system counts as in memory: only Linux
// logs go to /dev/shm.
func memoryRoom(path string) (size, free int64, ok bool) { return 0, 0, false }

// memoryFS reports that no directory is in memory.
func memoryFS(root *os.Root) (free int64, ok bool) { return 0, false }

// fsUsed is not known off Linux.
func fsUsed(root *os.Root) (int64, bool) { return 0, false }

// fsFull is not known off Linux.
func fsFull(root *os.Root) bool { return false }

// cutMiddle cannot cut logs off Linux.
func cutMiddle(l *planLogs, name string, size int64, marker string) error {
	return errors.New("cutting logs needs Linux")
}

// copyData copies in to out.
func copyData(out, in *os.File) error { return copyAll(out, in) }
