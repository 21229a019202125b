package netns_test

import (
	"context"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"

	"github.com/proctest/proctest/internal/netns"
)

// benchNet makes a network for a benchmark, with count hosts.
func benchNet(b *testing.B, count int, parent string) (*netns.Network, []*netns.Host) {
	b.Helper()
	names := make([]string, count)
	for i := range names {
		names[i] = "n" + strconv.Itoa(i+1)
	}
	return newNet(b, parent, names...)
}

// benchParent returns a cgroup parent if cgroups can be used, else "".
func benchParent(b *testing.B) string {
	needHosts(b)
	if _, err := netns.CgroupDir(); err != nil {
		return ""
	}
	return cgroupParent(b)
}

// BenchmarkHostSetup measures AddHost: namespaces, link, cgroup, init.
func BenchmarkHostSetup(b *testing.B) {
	n, _ := benchNet(b, 0, "")
	parent := benchParent(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		h, err := n.AddHost(ctx, "h"+strconv.Itoa(i), netip.AddrFrom4([4]byte{10, 77, 0, byte(i%250 + 1)}), parent)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		h.Kill()
		if err := h.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if i%250 == 0 {
			// Addresses are not reused within a network.
			b.StopTimer()
			n.Close(ctx)
			n, _ = benchNet(b, 0, "")
			b.StartTimer()
		}
	}
}

// BenchmarkHostKill measures Kill and Wait of a host running one process,
// the process waited for meanwhile, and Restart.
func BenchmarkHostKill(b *testing.B) {
	for _, mode := range []string{"cgroup", "signal"} {
		b.Run(mode, func(b *testing.B) {
			parent := ""
			if mode == "cgroup" {
				if parent = benchParent(b); parent == "" {
					b.Skip("no cgroup v2")
				}
			}
			_, hs := benchNet(b, 1, parent)
			h := hs[0]
			ctx := context.Background()
			sleep, err := exec.LookPath("sleep")
			if err != nil {
				b.Skip(err)
			}
			b.Run("kill", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					cmd := &exec.Cmd{Path: sleep, Args: []string{"sleep", "60"}}
					if err := h.Start(cmd); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					h.Kill()
					cmd.Wait()
					if err := h.Wait(ctx); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if err := h.Restart(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
			b.Run("restart", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					h.Kill()
					if err := h.Wait(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if err := h.Restart(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkSpawn measures starting /bin/true and waiting for it, on a
// host and as a plain child.
func BenchmarkSpawn(b *testing.B) {
	path, err := exec.LookPath("true")
	if err != nil {
		b.Skip(err)
	}
	b.Run("local", func(b *testing.B) {
		for b.Loop() {
			cmd := &exec.Cmd{Path: path, Args: []string{"true"}}
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("host", func(b *testing.B) {
		_, hs := benchNet(b, 1, benchParent(b))
		for b.Loop() {
			cmd := &exec.Cmd{Path: path, Args: []string{"true"}}
			if err := hs[0].Start(cmd); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApply measures applying a state to every host, alternating an
// isolation of the first host with a healed network.
func BenchmarkApply(b *testing.B) {
	for _, count := range []int{3, 9} {
		b.Run(strconv.Itoa(count)+"hosts", func(b *testing.B) {
			n, hs := benchNet(b, count, "")
			states := []netns.State{isolate(hs[0], hs), {}}
			i := 0
			for b.Loop() {
				if err := n.Apply(states[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
