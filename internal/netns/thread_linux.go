package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Namespaces belong to threads. Every switch into a namespace happens on a
// goroutine of its own, locked to its thread; if the thread cannot be
// switched back, the goroutine ends still locked and the runtime ends the
// thread with it, so that no thread in a foreign namespace ever returns to
// the pool. Nothing here runs on the main goroutine.

// openThreadNS opens the namespace of kind (for example "net") of the
// calling thread, which must be locked.
func openThreadNS(kind string) (int, error) {
	fd, err := unix.Open("/proc/thread-self/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /proc/thread-self/ns/%s: %w", kind, err)
	}
	return fd, nil
}

// onThread runs fn on a new locked thread whose network namespace is
// switched to nsFD (or, if nsFD is negative, to a new, anonymous one), and
// waits for it. The thread is switched back afterwards, or ended.
func onThread(nsFD int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := openThreadNS("net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer unix.Close(orig)
		if nsFD < 0 {
			err = unix.Unshare(unix.CLONE_NEWNET)
			if err != nil {
				err = fmt.Errorf("unshare network namespace: %w", err)
			}
		} else if err = unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			err = fmt.Errorf("enter network namespace: %w", err)
		}
		if err != nil {
			// Both calls change nothing when they fail.
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = fn()
		if berr := unix.Setns(orig, unix.CLONE_NEWNET); berr != nil {
			// Left locked: the thread ends with this goroutine.
			errc <- errors.Join(err, fmt.Errorf("switch the thread back: %w", berr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// newNetNS makes a new, anonymous network namespace and returns a
// descriptor that holds it. Nothing else refers to it: it ends when the
// descriptor is closed and nothing runs in it.
func newNetNS() (int, error) {
	fd := -1
	err := onThread(-1, func() error {
		var err error
		fd, err = openThreadNS("net")
		return err
	})
	if err != nil && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	return fd, err
}

// dupFD duplicates fd, close-on-exec, so that an operation can use a
// namespace while another goroutine closes the original.
func dupFD(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("dup: %w", err)
	}
	return nfd, nil
}

// nsDialContext dials from the network namespace nsFD: the socket is made
// on a thread switched into it and belongs to it for its life, so that the
// connection can then be used from any goroutine. addr must be numeric:
// names are not resolved inside the namespace.
func nsDialContext(ctx context.Context, nsFD int, network, addr string) (net.Conn, error) {
	if err := numeric(addr); err != nil {
		return nil, err
	}
	var c net.Conn
	err := onThread(nsFD, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	if err != nil && c != nil {
		c.Close()
		c = nil
	}
	return c, err
}

// nsListen listens in the network namespace nsFD.
func nsListen(ctx context.Context, nsFD int, network, addr string) (net.Listener, error) {
	if err := numeric(addr); err != nil {
		return nil, err
	}
	var l net.Listener
	err := onThread(nsFD, func() error {
		var lc net.ListenConfig
		var err error
		l, err = lc.Listen(ctx, network, addr)
		return err
	})
	if err != nil && l != nil {
		l.Close()
		l = nil
	}
	return l, err
}

// nsListenPacket listens for packets in the network namespace nsFD.
func nsListenPacket(ctx context.Context, nsFD int, network, addr string) (net.PacketConn, error) {
	if err := numeric(addr); err != nil {
		return nil, err
	}
	var pc net.PacketConn
	err := onThread(nsFD, func() error {
		var lc net.ListenConfig
		var err error
		pc, err = lc.ListenPacket(ctx, network, addr)
		return err
	})
	if err != nil && pc != nil {
		pc.Close()
		pc = nil
	}
	return pc, err
}

// numeric reports an error unless addr is host:port with an IP address or
// an empty host: a name would be looked up by goroutines that are not on
// the namespace's thread.
func numeric(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("address %q: want an IP address, not a name", addr)
	}
	return nil
}

// noIPv6 turns IPv6 off in the network namespace of the calling thread,
// which must be locked, for the links made after: hosts are IPv4 only, and
// so they send no router solicitations or duplicate address probes. A
// kernel without IPv6 has nothing to turn off.
func noIPv6() {
	for _, conf := range []string{"all", "default"} {
		f, err := os.OpenFile("/proc/sys/net/ipv6/conf/"+conf+"/disable_ipv6", os.O_WRONLY, 0)
		if err != nil {
			continue
		}
		f.WriteString("1")
		f.Close()
	}
}
