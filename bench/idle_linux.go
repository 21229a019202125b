package bench

import "syscall"

// idleSys returns how the holder starts its idle processes: each gets
// SIGKILL if the holder's thread ends, so that even a holder killed with
// SIGKILL leaves none running.
func idleSys() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
