package bench

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// HelperEnv is the environment variable that makes a program importing
// this package act as a helper instead of running: with it set to "gen",
// the program writes BENCH_BYTES bytes of 64-byte lines to stdout, then
// the line "MARKER", and exits 0; set to "ready", it prints the line
// "ready NS", NS being its CLOCK_REALTIME in nanoseconds, writes NS to the
// file named by its first argument (if any), and sleeps until killed; set
// to "idle", it holds idle processes (see [Env.StartIdle]).
const HelperEnv = "BENCH_HELPER"

// BytesEnv is the environment variable that tells the "gen" helper how
// much to write.
const BytesEnv = "BENCH_BYTES"

// Marker is the line the "gen" helper prints last.
const Marker = "MARKER"

// genChunk is the size of each write of the "gen" helper: a pipe's
// default capacity.
const genChunk = 64 << 10

func init() {
	switch os.Getenv(HelperEnv) {
	case "":
		return
	case "gen":
		os.Exit(helperGen())
	case "ready":
		os.Exit(helperReady())
	case "listen":
		os.Exit(helperListen())
	case "idle":
		os.Exit(helperIdle())
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%s\n", HelperEnv, os.Getenv(HelperEnv))
		os.Exit(2)
	}
}

// helperGen writes the output of the "gen" helper.
func helperGen() int {
	n, err := strconv.ParseInt(os.Getenv(BytesEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	line := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.\n")
	buf := make([]byte, 0, genChunk)
	for len(buf)+len(line) <= genChunk {
		buf = append(buf, line...)
	}
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
			chunk[len(chunk)-1] = '\n'
		}
		if _, err := os.Stdout.Write(chunk); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n -= int64(len(chunk))
	}
	if _, err := os.Stdout.WriteString(Marker + "\n"); err != nil {
		return 1
	}
	return 0
}

// helperReady prints its ready line, writes its stamp file and waits for
// SIGTERM, which then ends it as it would have ended it at once: only after
// the stamp is written.
func helperReady() int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	ns := strconv.FormatInt(time.Now().UnixNano(), 10)
	if _, err := os.Stdout.WriteString("ready " + ns + "\n"); err != nil {
		return 1
	}
	if len(os.Args) > 1 {
		if err := os.WriteFile(os.Args[1], []byte(ns), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	<-term
	signal.Reset(syscall.SIGTERM)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(time.Hour)
	return 0
}

// helperListen is the "listen" helper: after a short start-up, it listens
// on the address os.Args[2], writes its CLOCK_REALTIME just after to the
// file os.Args[1], and waits for SIGTERM.
func helperListen() int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	time.Sleep(20 * time.Millisecond) // a server takes a moment to start
	l, err := net.Listen("tcp", os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ns := strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := os.WriteFile(os.Args[1], []byte(ns), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	<-term
	l.Close()
	return 0
}

// readStamp returns the time written by a "ready" helper to file.
func readStamp(file string) (time.Time, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return time.Time{}, err
	}
	ns, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", file, err)
	}
	return time.Unix(0, ns), nil
}

// genEnv returns the environment entries that make Self the "gen" helper
// writing n bytes.
func genEnv(n int64) []string {
	return []string{HelperEnv + "=gen", BytesEnv + "=" + strconv.FormatInt(n, 10)}
}

// readyEnv returns the environment entry that makes Self the "ready"
// helper.
func readyEnv() []string { return []string{HelperEnv + "=ready"} }
