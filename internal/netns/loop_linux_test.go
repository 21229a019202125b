package netns_test

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/proctest/proctest/internal/netns"
	"go.uber.org/goleak"
)

// TestCreateCloseLoop makes and closes a network of three hosts, each
// running a process, fifty times, and then finds nothing left: no
// descriptor, goroutine, child process or cgroup directory. It is not
// parallel: it counts what the whole program holds.
func TestCreateCloseLoop(t *testing.T) {
	needHosts(t)
	parent := ""
	if _, err := netns.CgroupDir(); err == nil {
		parent = cgroupParent(t)
	}
	ctx := testCtx(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	// A first round starts what lives as long as the program.
	round := func() {
		n, err := netns.NewNetwork(netip.MustParsePrefix("10.77.0.0/24"))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 1; i <= 3; i++ {
			h, err := n.AddHost(ctx, "n"+strconv.Itoa(i), netip.AddrFrom4([4]byte{10, 77, 0, byte(i)}), parent)
			if err != nil {
				t.Fatal(err)
			}
			cmd := &exec.Cmd{Path: sleep, Args: []string{"sleep", "60"}}
			if err := h.Start(cmd); err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { cmd.Wait() })
		}
		if err := n.Apply(netns.State{Drop: map[string][]string{"n3": {"n1", "n2"}}}); err != nil {
			t.Fatal(err)
		}
		if err := n.Close(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
	round()
	fds := openFDs(t)
	ignore := goleak.IgnoreCurrent()
	for range 50 {
		round()
	}
	if err := goleak.Find(ignore); err != nil {
		t.Errorf("goroutines left: %v", err)
	}
	if now := openFDs(t); now != fds {
		t.Errorf("open descriptors: %d after, %d before", now, fds)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("child processes left: %v", kids)
	}
	if parent != "" {
		if _, err := os.Stat(parent); err == nil {
			t.Errorf("cgroup directory %s left", parent)
		}
	}
}

// openFDs counts this program's open descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// children returns the pids of this program's child processes.
func children(t *testing.T) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var kids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 1 && f[1] == self {
			kids = append(kids, pid)
		}
	}
	return kids
}

// TestParallelNetworks runs four networks with the same prefix at once:
// each host reaches the hosts of its own network only.
func TestParallelNetworks(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			_, hs := newNet(t, "", "n1", "n2")
			l, err := hs[0].Listen(testCtx(t), "tcp", addr(hs[0], 7000))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer l.Close()
			token := fmt.Sprintf("network %d", i)
			wg.Go(func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					fmt.Fprintln(c, token)
					c.Close()
				}
			})
			for range 10 {
				c, err := hs[1].DialContext(testCtx(t), "tcp", addr(hs[0], 7000))
				if err != nil {
					t.Fatal(err)
				}
				line, err := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if err != nil && err != io.EOF || strings.TrimSpace(line) != token {
					t.Fatalf("n2 of %s reached %q, %v", token, line, err)
				}
			}
		})
	}
}
