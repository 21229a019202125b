package netns

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// The host init. Each host's PID namespace has, as pid 1, this program
// re-executed with initEnv set (the program calls MaybeRunInit first
// thing). It reaps the orphans of the host, stops and continues the whole
// host on request, and ends when its standard input, a pipe from the
// harness, ends; when it ends the kernel kills every other process of the
// namespace.

// initEnv is the environment variable that makes this program a host init.
const initEnv = "PROCTEST_HOSTINIT"

// initReady is what an init writes on its standard output once its signal
// handlers are in place.
const initReady = "proctest-hostinit ready\n"

// MaybeRunInit makes this program a host's init if it was started as one,
// and then never returns; otherwise it does nothing. A program that makes
// hosts calls it before anything else, from TestMain or main, because each
// host's init is the program itself, re-executed (/proc/self/exe) with
// PROCTEST_HOSTINIT=1 in its environment.
//
// The init reaps the orphans of its host, ignores SIGTERM, SIGINT and
// SIGHUP, stops every other process of the host on SIGUSR1
// (kill(-1, SIGSTOP)) and continues them on SIGUSR2, and exits when its
// standard input is closed, which kills the host.
func MaybeRunInit() {
	if os.Getenv(initEnv) != "1" {
		return
	}
	os.Exit(runInit())
}

// runInit is the init's loop; it returns the exit code.
func runInit() int {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGCHLD, syscall.SIGUSR1, syscall.SIGUSR2)
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	if _, err := os.Stdout.WriteString(initReady); err != nil {
		return 1
	}
	for {
		select {
		case <-eof:
			return 0
		case s := <-sigs:
			switch s {
			case syscall.SIGCHLD:
				reapAll()
			case syscall.SIGUSR1:
				unix.Kill(-1, unix.SIGSTOP)
			case syscall.SIGUSR2:
				unix.Kill(-1, unix.SIGCONT)
			}
		}
	}
}

// reapAll reaps every child that has ended. Signals coalesce, so one
// SIGCHLD may stand for several.
func reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
