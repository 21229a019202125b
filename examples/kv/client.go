package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// httpClient is used by the put and get subcommands.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// baseURL turns HOST:PORT (or a full http:// URL) into a base URL.
func baseURL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimRight(addr, "/")
	}
	return "http://" + addr
}

// keyURL returns the URL of key on the node at addr.
func keyURL(addr, key string) string {
	return baseURL(addr) + "/kv/" + url.PathEscape(key)
}

// readMessage returns the first line of an error response body.
func readMessage(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return msg
}

// parseClientFlags parses -addr plus any extra flags and checks that exactly
// nargs arguments follow. It returns false after printing usage on error.
func parseClientFlags(fs *flag.FlagSet, args []string, nargs int) (addr string, ok bool) {
	fs.StringVar(&addr, "addr", "", "node HOST:PORT (required)")
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	if addr == "" || fs.NArg() != nargs {
		fmt.Fprintf(os.Stderr, "%s: -addr is required and exactly %d argument(s) must follow the flags\n%s",
			fs.Name(), nargs, usageText)
		return "", false
	}
	return addr, true
}

// cmdPut writes KEY=VALUE on the leader. Exit status: 0 on success, 1 if
// the node refused the write, 2 on usage or connection errors.
func cmdPut(args []string) int {
	fs := flag.NewFlagSet("kv put", flag.ContinueOnError)
	addr, ok := parseClientFlags(fs, args, 2)
	if !ok {
		return 2
	}
	req, err := http.NewRequest(http.MethodPut, keyURL(addr, fs.Arg(0)), strings.NewReader(fs.Arg(1)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kv put: %v\n", err)
		return 2
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kv put: %v\n", err)
		return 2
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "kv put: %s: %s\n", resp.Status, readMessage(resp))
		return 1
	}
	var body struct{ Version int }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Fprintf(os.Stderr, "kv put: bad response: %v\n", err)
		return 2
	}
	fmt.Printf("ok version %d\n", body.Version)
	return 0
}

// cmdGet prints the value of KEY followed by a newline. Exit status: 0 if
// found, 1 if not found, 2 on usage, connection or other errors.
func cmdGet(args []string) int {
	fs := flag.NewFlagSet("kv get", flag.ContinueOnError)
	addr, ok := parseClientFlags(fs, args, 1)
	if !ok {
		return 2
	}
	resp, err := httpClient.Get(keyURL(addr, fs.Arg(0)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kv get: %v\n", err)
		return 2
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		value, err := io.ReadAll(resp.Body)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kv get: %v\n", err)
			return 2
		}
		fmt.Printf("%s\n", value)
		return 0
	case http.StatusNotFound:
		fmt.Fprintf(os.Stderr, "kv get: key %q not found\n", fs.Arg(0))
		return 1
	default:
		fmt.Fprintf(os.Stderr, "kv get: %s: %s\n", resp.Status, readMessage(resp))
		return 2
	}
}

// cmdWait polls /status until the node has applied at least -version
// entries. Exit status: 0 when reached, 1 on timeout, 2 on usage errors.
func cmdWait(args []string) int {
	fs := flag.NewFlagSet("kv wait", flag.ContinueOnError)
	want := fs.Int("version", 0, "version to wait for")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait")
	addr, ok := parseClientFlags(fs, args, 0)
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	backoff := 10 * time.Millisecond
	for {
		st, err := fetchStatus(ctx, addr)
		if err == nil && st.Version >= *want {
			fmt.Printf("ok version %d\n", st.Version)
			return 0
		}
		if err == nil {
			err = fmt.Errorf("%s is at version %d", st.Name, st.Version)
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 200*time.Millisecond)
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "kv wait: timed out after %v waiting for version %d at %s: %v\n",
				*timeout, *want, addr, err)
			return 1
		}
	}
}

// fetchStatus returns the /status of the node at addr.
func fetchStatus(ctx context.Context, addr string) (status, error) {
	var st status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL(addr)+"/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, errors.New(resp.Status + ": " + readMessage(resp))
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// post sends a POST to path on the node at addr and prints "ok version N".
// Exit status: 0 on success, 1 if the node refused, 2 on usage or
// connection errors.
func post(cmd, addr, path string) int {
	resp, err := httpClient.Post(baseURL(addr)+path, "text/plain", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
		return 2
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "%s: %s: %s\n", cmd, resp.Status, readMessage(resp))
		return 1
	}
	var body struct{ Version int }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Fprintf(os.Stderr, "%s: bad response: %v\n", cmd, err)
		return 2
	}
	fmt.Printf("ok version %d\n", body.Version)
	return 0
}

// cmdPromote makes the follower at -addr the leader.
func cmdPromote(args []string) int {
	fs := flag.NewFlagSet("kv promote", flag.ContinueOnError)
	addr, ok := parseClientFlags(fs, args, 0)
	if !ok {
		return 2
	}
	return post("kv promote", addr, "/promote")
}

// cmdFollow makes the node at -addr replicate from -leader.
func cmdFollow(args []string) int {
	fs := flag.NewFlagSet("kv follow", flag.ContinueOnError)
	leader := fs.String("leader", "", "the leader's HOST:PORT (required)")
	addr, ok := parseClientFlags(fs, args, 0)
	if !ok {
		return 2
	}
	if *leader == "" {
		fmt.Fprint(os.Stderr, "kv follow: -leader is required\n", usageText)
		return 2
	}
	return post("kv follow", addr, "/follow?leader="+url.QueryEscape(*leader))
}

// cmdLeader asks the nodes at -addrs (HOST:PORT,...) which one leads and
// prints "leader NAME at HOST:PORT". Nodes that do not answer are
// skipped. Exit status: 0 when exactly one answering node leads, 1
// otherwise, 2 on usage errors.
func cmdLeader(args []string) int {
	fs := flag.NewFlagSet("kv leader", flag.ContinueOnError)
	addrs := fs.String("addrs", "", "the nodes, HOST:PORT,... (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addrs == "" || fs.NArg() != 0 {
		fmt.Fprint(os.Stderr, "kv leader: -addrs is required and no arguments are accepted\n", usageText)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var leaders []string
	for _, addr := range strings.Split(*addrs, ",") {
		st, err := fetchStatus(ctx, addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kv leader: %s: %v\n", addr, err)
			continue
		}
		if st.Role == "leader" {
			leaders = append(leaders, fmt.Sprintf("leader %s at %s", st.Name, addr))
		}
	}
	if len(leaders) != 1 {
		fmt.Fprintf(os.Stderr, "kv leader: %d leaders: %s\n", len(leaders), strings.Join(leaders, "; "))
		return 1
	}
	fmt.Println(leaders[0])
	return 0
}
