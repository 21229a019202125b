package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// The -backend flag of proctest run. The command of this module runs
// plans on this machine, and cannot import a backend from another
// module (the Docker one would bring the Docker client's dependencies
// into this module). Another backend is a command of its own, named
// proctest-NAME, found in PATH, with the same subcommands: -backend
// 'NAME ARG...' runs it, its ARGs first, then run and the other
// arguments, and its exit status is this command's.

// backendUsage is the flag's help.
const backendUsage = "run the plans elsewhere than on this machine: `NAME [ARG...]` runs the command proctest-NAME, found in $PATH, as proctest-NAME ARG... run FLAGS PATH... (-backend 'docker -image kv:test' runs the plans' hosts as containers of that image)"

// boolFlags are the flags of proctest run that take no value.
var boolFlags = map[string]bool{"v": true, "json": true, "keep": true, "h": true, "help": true}

// cutBackend returns the value of the -backend flag in args, where the
// flags are (before the first argument that is not one), and args
// without it.
func cutBackend(args []string) (backend string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name != "backend" {
			rest = append(rest, a)
			if !hasValue && !boolFlags[name] && i+1 < len(args) {
				// The flag's value, which may look like anything.
				i++
				rest = append(rest, args[i])
			}
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return "", nil, errors.New("flag needs an argument: -backend")
			}
			i++
			value = args[i]
		}
		backend = value
	}
	return backend, rest, nil
}

// runBackend runs proctest run with args on the backend command that
// backend names, and returns its exit status. A done ctx (SIGINT or
// SIGTERM to this command) is passed on to it as SIGTERM.
func runBackend(ctx context.Context, backend string, args []string, stdout, stderr io.Writer) int {
	words := strings.Fields(backend)
	if len(words) == 0 {
		fmt.Fprintln(stderr, "proctest: -backend: empty")
		return 2
	}
	name := "proctest-" + words[0]
	path, err := exec.LookPath(name)
	if err != nil {
		fmt.Fprintf(stderr, "proctest: -backend %s: no command %s in $PATH", words[0], name)
		if words[0] == "docker" {
			fmt.Fprint(stderr, " (install it with: go install github.com/proctest/proctest/docker/cmd/proctest-docker@latest)")
		}
		fmt.Fprintln(stderr)
		return 2
	}
	argv := append(append(words[1:len(words):len(words)], "run"), args...)
	cmd := exec.Command(path, argv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "proctest: -backend: %v\n", err)
		return 2
	}
	ended := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		select {
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
		case <-ended:
		}
	}()
	err = cmd.Wait()
	close(ended)
	<-forwarded
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	}
	fmt.Fprintf(stderr, "proctest: -backend: %s: %v\n", name, err)
	return 1
}
