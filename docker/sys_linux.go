package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// openNetNS opens the network namespace of the process pid of this
// machine (a container's init).
func openNetNS(pid int) (int, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("network namespace of the container: %w", err)
	}
	return fd, nil
}

// dupFD duplicates fd, close-on-exec.
func dupFD(fd int) (int, error) {
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
}

// closeFD closes fd.
func closeFD(fd int) { unix.Close(fd) }

// dialIn dials addr from the network namespace nsFD: the socket is made
// on a thread switched into it, and stays in it for its life. A thread
// that cannot be switched back is never returned to the pool: its
// goroutine ends locked, which ends the thread.
func dialIn(ctx context.Context, nsFD int, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("enter the container's network namespace: %w", err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if berr := unix.Setns(orig, unix.CLONE_NEWNET); berr != nil {
			ch <- result{c, errors.Join(err, fmt.Errorf("switch the thread back: %w", berr))}
			return // locked: the thread ends with this goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{c, err}
	}()
	r := <-ch
	if r.err != nil && r.c != nil {
		r.c.Close()
		r.c = nil
	}
	return r.c, r.err
}

// execAllowed reports whether programs can run from files under dir: its
// file system is not mounted noexec.
func execAllowed(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Flags&unix.ST_NOEXEC == 0
}
