// Command kv is a small replicated key-value store: one leader accepts
// writes and any number of followers replicate them, each node being a
// separate process that speaks HTTP on loopback.
//
// Every write is an entry in an append-only log; a node's version is the
// number of entries it has applied. Followers long-poll the leader with
// GET /log?from=N&wait=D and apply the returned entries in order, so a
// follower that restarts simply resumes from its own version. With -data DIR
// a node appends each entry to DIR/log.jsonl and reloads it at start; a torn
// final record left by a crash is discarded.
//
// Usage:
//
//	kv serve -name NAME [-addr 127.0.0.1:0] [-leader HOST:PORT] [-data DIR] [-crash-after N] [-quorum N [-quorum-wait 2s]]
//	kv put  -addr HOST:PORT KEY VALUE
//	kv get  -addr HOST:PORT KEY
//	kv wait -addr HOST:PORT -version N [-timeout 10s]
//	kv promote -addr HOST:PORT
//	kv follow -addr HOST:PORT -leader HOST:PORT
//	kv leader -addrs HOST:PORT,...
//
// A node prints "NAME listening on HOST:PORT" to stdout once it accepts
// connections, and a follower later prints "NAME caught up at version N" the
// first time it has replicated everything the leader had. On SIGINT or
// SIGTERM a node shuts down gracefully, prints "NAME stopped" to stderr and
// exits 0. With -crash-after N it instead exits with status 3 right after
// its Nth write (leader) or Nth replicated entry (follower). With -quorum N
// the leader acknowledges a write only once a majority of the N members of
// the cluster has it, and refuses it (503, "no majority") otherwise: kv put
// then exits 1.
//
// HTTP endpoints on every node: GET /kv/KEY (404 if absent), PUT /kv/KEY
// (leader only; followers answer 421 naming the leader), GET /status (JSON
// name, role, version, ready), GET /healthz (200 once the leader is up or
// the follower has caught up, 503 before), GET /log, POST /promote (the
// node leads from now on: "NAME promoted at version N" on stdout) and POST
// /follow?leader=HOST:PORT (it replicates from that leader: "NAME
// following HOST:PORT"). kv leader asks nodes which one leads, for a
// failover: "leader NAME at HOST:PORT".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// usageText summarises the subcommands.
const usageText = `usage:
  kv serve -name NAME [-addr 127.0.0.1:0] [-leader HOST:PORT] [-data DIR] [-crash-after N] [-quorum N [-quorum-wait 2s]]
  kv put  -addr HOST:PORT KEY VALUE
  kv get  -addr HOST:PORT KEY
  kv wait -addr HOST:PORT -version N [-timeout 10s]
  kv promote -addr HOST:PORT
  kv follow -addr HOST:PORT -leader HOST:PORT
  kv leader -addrs HOST:PORT,...
`

// main dispatches to the subcommand and exits with its status.
func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the subcommand named by args[0] and returns the exit status.
func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usageText)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(args[1:])
	case "put":
		return cmdPut(args[1:])
	case "get":
		return cmdGet(args[1:])
	case "wait":
		return cmdWait(args[1:])
	case "promote":
		return cmdPromote(args[1:])
	case "follow":
		return cmdFollow(args[1:])
	case "leader":
		return cmdLeader(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Print(usageText)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "kv: unknown command %q\n%s", args[0], usageText)
		return 2
	}
}

// cmdServe runs a node until it receives SIGINT or SIGTERM.
func cmdServe(args []string) int {
	fs := flag.NewFlagSet("kv serve", flag.ContinueOnError)
	cfg := config{stdout: os.Stdout, stderr: os.Stderr}
	fs.StringVar(&cfg.name, "name", "", "node name, used in output (required)")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&cfg.leader, "leader", "", "leader HOST:PORT; if set, run as a follower")
	fs.StringVar(&cfg.dataDir, "data", "", "directory for the persistent log (default: memory only)")
	fs.IntVar(&cfg.crashAfter, "crash-after", 0, "exit with status 3 after N writes or replicated entries (0: never)")
	fs.IntVar(&cfg.members, "quorum", 0, "leader: acknowledge a write only once a majority of N members has it (0: at once)")
	fs.DurationVar(&cfg.quorumWait, "quorum-wait", 2*time.Second, "with -quorum: how long a write waits for a majority before it is refused")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.name == "" || fs.NArg() != 0 {
		fmt.Fprint(os.Stderr, "kv serve: -name is required and no arguments are accepted\n", usageText)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.name, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "%s stopped\n", cfg.name)
	return 0
}
