//go:build !linux

package bench

import "syscall"

// idleSys returns how the holder starts its idle processes: elsewhere than
// on Linux, nothing ends them if the holder is killed with SIGKILL; Stop
// then kills their process group.
func idleSys() *syscall.SysProcAttr { return nil }
