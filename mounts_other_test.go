//go:build !linux

package proctest_test

import (
	"errors"
	"syscall"
	"testing"
)

// readOnlyDir skips the test: it needs Linux mounts.
func readOnlyDir(t *testing.T) string {
	t.Skip("needs a read-only bind mount (Linux)")
	return ""
}

// smallTmpfs skips the test: it needs Linux mounts.
func smallTmpfs(t *testing.T) string {
	t.Skip("needs a small tmpfs (Linux)")
	return ""
}

// dieWithParent does nothing off Linux.
func dieWithParent(attr *syscall.SysProcAttr) {}

// limitProcesses is not tried off Linux.
func limitProcesses(n int) error { return errors.New("not tried off Linux") }
