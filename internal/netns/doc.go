// Package netns makes "hosts" on one Linux machine, for tests of
// distributed programs: each host is a network namespace with its own
// address and loopback, a PID namespace whose init kills everything on
// the host when it ends, and, where cgroup v2 is writable, a cgroup of its
// own. Hosts sit on a Network, a bridge in a private namespace, whose
// packets can be dropped by a declarative State (partitions of any shape,
// one way, new connections only, random loss), and hosts can be paused,
// killed and restarted whole. It is the Linux machinery behind proctest's
// hosts; it does not know about plans.
//
// Everything is anonymous and held by file descriptors: no namespace is
// named, nothing is added to the machine's own network namespace, and if
// the program is killed the namespaces, links and rules go with it. Only
// cgroup directories can be left behind; RemoveCgroups removes them.
//
// Limits: it needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN; see Available);
// IPv4 only; no packet delay unless the kernel has sch_netem (see
// HasNetem); on other systems every call fails with errors.ErrUnsupported.
//
// Process-wide effects, all explicit:
//   - Each host's init is this program, re-executed: the program must call
//     MaybeRunInit before anything else, from TestMain or main.
//   - Each running host holds one OS thread of this program, locked and
//     switched into the host's namespaces, for its life; the init is
//     started from it with Pdeathsig, so that it dies if the thread does
//     (golang/go#27505).
//   - Dialling, listening and applying rules switch short-lived locked
//     threads into the namespaces; a thread that cannot switch back is
//     ended, never returned to the runtime's pool.
//   - The processes a Host starts are children of this program: whoever
//     starts them must wait for them (exec.Cmd.Wait), before a host's init
//     can end (see Host.Wait).
//
// A sketch of use (error handling elided):
//
//	func TestMain(m *testing.M) {
//		netns.MaybeRunInit()
//		os.Exit(m.Run())
//	}
//
//	n, _ := netns.NewNetwork(netip.MustParsePrefix("10.77.0.0/24"))
//	defer n.Close(ctx)
//	n1, _ := n.AddHost(ctx, "n1", netip.MustParseAddr("10.77.0.1"), "")
//	n2, _ := n.AddHost(ctx, "n2", netip.MustParseAddr("10.77.0.2"), "")
//	cmd := exec.Command("/usr/bin/server", "-listen", "10.77.0.2:7000")
//	n2.Start(cmd)
//	go cmd.Wait()
//	n.Apply(netns.State{Drop: map[string][]string{"n2": {"n1"}}}) // n2 drops n1's packets
//	n.Apply(netns.State{})                                         // healed
//	n2.Kill()                                                      // cmd dies by SIGKILL
//	n2.Wait(ctx)                                                   // once cmd is waited for
//	n2.Restart(ctx)
package netns
