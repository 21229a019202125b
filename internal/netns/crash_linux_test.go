package netns_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/netns"
)

func init() {
	// holder makes a network of three hosts in cgroups under args[0],
	// starts "sleep 60" on each, prints "ready" and the pids of the
	// inits and sleeps, and waits to be killed.
	helpers["holder"] = func(args []string) int {
		ctx := context.Background()
		n, err := netns.NewNetwork(netip.MustParsePrefix("10.77.0.0/24"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var pids []string
		for i := 1; i <= 3; i++ {
			h, err := n.AddHost(ctx, "n"+strconv.Itoa(i), netip.AddrFrom4([4]byte{10, 77, 0, byte(i)}), args[0])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			cmd := exec.Command("sleep", "60")
			if err := h.Start(cmd); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			pids = append(pids, strconv.Itoa(h.InitPid()), strconv.Itoa(cmd.Process.Pid))
		}
		if err := n.Apply(netns.State{Drop: map[string][]string{"n1": {"n2"}}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready", strings.Join(pids, " "))
		select {}
	}
}

// TestCrash kills a program holding a network with SIGKILL: its hosts'
// processes die with it, its links go with its namespaces, and only its
// cgroup directories are left, for RemoveCgroups.
func TestCrash(t *testing.T) {
	t.Parallel()
	needHosts(t)
	parent := cgroupParent(t)
	ctx := testCtx(t)
	links := interfaces(t)
	// The holder runs in this program's namespaces, as a plain child.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := &exec.Cmd{Path: exe, Args: []string{exe, parent}, Env: append(os.Environ(), helperEnv+"=holder"), Stdout: w, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	buf := make([]byte, 4096)
	k, _ := r.Read(buf)
	f := strings.Fields(string(buf[:k]))
	if len(f) != 7 || f[0] != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("holder said %q", buf[:k])
	}
	var pids []int
	for _, s := range f[1:] {
		pid, _ := strconv.Atoi(s)
		pids = append(pids, pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	alive := func() []int {
		var left []int
		for _, pid := range pids {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				continue
			}
			i := strings.LastIndexByte(string(b), ')')
			if st := b[i+2]; st != 'Z' && st != 'X' {
				left = append(left, pid)
			}
		}
		return left
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := poll(wait, func() bool { return len(alive()) == 0 }); err != nil {
		t.Errorf("processes of the killed program's hosts alive: %v", alive())
	}
	if got := interfaces(t); !slices.Equal(got, links) {
		t.Errorf("this namespace's links: %v before, %v after", links, got)
	}
	ents, _ := os.ReadDir(parent)
	var left []string
	for _, e := range ents {
		if e.IsDir() {
			left = append(left, e.Name())
		}
	}
	if !slices.Equal(left, []string{"n1", "n2", "n3"}) {
		t.Errorf("cgroups left under %s: %v, want n1 n2 n3", parent, left)
	}
	if err := netns.RemoveCgroups(ctx, parent); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parent); err == nil {
		t.Errorf("RemoveCgroups left %s", parent)
	}
}

// interfaces returns the names of the links of this program's network
// namespace, sorted.
func interfaces(t *testing.T) []string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	slices.Sort(names)
	return names
}

func TestHasNetem(t *testing.T) {
	t.Parallel()
	needHosts(t)
	ok, why := netns.HasNetem()
	if ok == (why != "") {
		t.Errorf("HasNetem() = %v, %q: want a reason exactly when false", ok, why)
	}
	t.Logf("HasNetem() = %v, %q", ok, why)
}

func TestCgroupDir(t *testing.T) {
	t.Parallel()
	dir, err := netns.CgroupDir()
	if err != nil {
		t.Skipf("CgroupDir() = %v", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != 0x63677270 { // CGROUP2_SUPER_MAGIC
		t.Errorf("CgroupDir() = %s, which is not in a cgroup2 file system (%v)", dir, err)
	}
	if err := netns.RemoveCgroups(testCtx(t), dir+"/proctest-none"); err != nil {
		t.Errorf("RemoveCgroups of a missing directory = %v, want nil", err)
	}
}
