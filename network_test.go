package proctest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proctest/proctest"
)

func init() {
	// udp-peers ADDR PEER... listens on ADDR:9000 and, for 1.5 s, sends
	// a datagram to each PEER:9000 every 10 ms while it collects what
	// arrives, so that peers started a little apart still overlap; then it
	// prints the addresses it heard from, sorted, on one line.
	helpers["udp-peers"] = func(args []string) {
		c, err := net.ListenPacket("udp4", args[0]+":9000")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var peers []net.Addr
		for _, peer := range args[1:] {
			if a, err := net.ResolveUDPAddr("udp4", peer+":9000"); err == nil {
				peers = append(peers, a)
			}
		}
		end := time.Now().Add(1500 * time.Millisecond)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for time.Now().Before(end) {
				for _, a := range peers {
					c.WriteTo([]byte("hi"), a)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		heard := map[string]bool{}
		c.SetReadDeadline(end.Add(200 * time.Millisecond))
		buf := make([]byte, 64)
		for {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			heard[from.(*net.UDPAddr).IP.String()] = true
		}
		<-done
		var list []string
		for a := range heard {
			list = append(list, a)
		}
		slices.Sort(list)
		fmt.Println("heard", strings.Join(list, " "))
	}
	// udp-send ADDR N sends N numbered datagrams to ADDR, one every
	// millisecond, slow enough for a busy receiver's buffer.
	helpers["udp-send"] = func(args []string) {
		n, _ := strconv.Atoi(args[1])
		c, err := net.Dial("udp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := range n {
			fmt.Fprintf(c, "%d", i)
			time.Sleep(time.Millisecond)
		}
	}
	// udp-count ADDR counts the datagrams that arrive on ADDR until none
	// came for 500 ms after the first, and prints "got N"; it prints
	// "listening" once it listens.
	helpers["udp-count"] = func(args []string) {
		c, err := net.ListenPacket("udp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		n := 0
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				break
			}
			n++
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		}
		fmt.Println("got", n)
	}
	// tcp-sink ADDR accepts connections and prints what each sends.
	helpers["tcp-sink"] = func(args []string) {
		l, err := net.Listen("tcp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			go func() {
				io.Copy(os.Stdout, c)
				c.Close()
			}()
		}
	}
	// tcp-source ADDR connects and writes a numbered line every 10 ms;
	// with a second argument N, it writes N bytes as fast as it can
	// instead and prints how long that took.
	helpers["tcp-source"] = func(args []string) {
		c, err := net.Dial("tcp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if len(args) > 1 {
			n, _ := strconv.Atoi(args[1])
			start := time.Now()
			c.Write(make([]byte, n))
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
			fmt.Printf("sent %d bytes in %.3fs\n", n, time.Since(start).Seconds())
			return
		}
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(c, "line %d\n", i); err != nil {
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// dialFrom returns a Go step's check that a TCP dial from h to addr does
// (ok) or does not get through within 300 ms.
func dialFrom(h *proctest.Host, addr string, ok bool) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		c, err := h.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
		}
		switch {
		case ok && err != nil:
			return fmt.Errorf("dial %s from %s: %v, want a connection", addr, h.Name(), err)
		case !ok && err == nil:
			return fmt.Errorf("dial %s from %s got through, want it cut", addr, h.Name())
		}
		return nil
	}
}

// TestIsolate cuts n3 from the others: dials n1->n3 and n3->n1 fail while
// n1 and n2 talk; after Heal, they get through again.
func TestIsolate(t *testing.T) {
	needHosts(t)
	t.Parallel()
	var healed time.Duration
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n2, n3 := p.Host("n1"), p.Host("n2"), p.Host("n3")
		var servers []*proctest.Proc
		for _, h := range []*proctest.Host{n1, n2, n3} {
			srv := h.SpawnNamed("srv-"+h.Name(), "listen", h.Addr().String()+":7000")
			p.WaitPort(srv, h.Addr().String()+":7000")
			servers = append(servers, srv)
		}
		p.Isolate(n3)
		for _, c := range []struct {
			from *proctest.Host
			to   string
			ok   bool
		}{{n1, "{{n3.addr}}:7000", false}, {n3, "{{n1.addr}}:7000", false}, {n1, "{{n2.addr}}:7000", true}, {n2, "{{n1.addr}}:7000", true}} {
			p.Wait(p.Go("dial", dialFrom(c.from, c.to, c.ok)), 0)
		}
		p.Heal()
		p.Wait(p.Go("after-heal", func(ctx context.Context) error {
			start := time.Now()
			for {
				if err := dialFrom(n1, n3.Addr().Value()+":7000", true)(ctx); err == nil {
					break
				}
				if ctx.Err() != nil {
					return errors.New("n1 never reached n3 after the heal")
				}
			}
			healed = time.Since(start)
			return dialFrom(n3, n1.Addr().Value()+":7000", true)(ctx)
		}), 0)
		for _, srv := range servers {
			p.Kill(srv, srv.Exits(0))
		}
	}, proctest.LogDir(t.TempDir()))
	t.Logf("n1 reached n3 %v after the heal", healed)
}

// TestBlockOneWay blocks n1 -> n3 at the packet level: none of n1's
// datagrams reach n3, all of n3's reach n1.
func TestBlockOneWay(t *testing.T) {
	needHosts(t)
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n3 := p.Host("n1"), p.Host("n3")
		p.Block(n1, n3)
		for _, c := range []struct {
			from, to *proctest.Host
			want     string
		}{{n1, n3, "^got 0$"}, {n3, n1, "^got 200$"}} {
			count := c.to.Spawn("udp-count", c.to.Addr().String()+":9000")
			p.WaitStdout(count, "^listening$")
			send := c.from.Spawn("udp-send", c.to.Addr().String()+":9000", "200")
			p.Wait(send, 0)
			p.Wait(count, 0)
			p.ExpectStdout(count, c.want)
		}
	}, proctest.LogDir(t.TempDir()))
}

// TestIsolateCutsEstablishedStreams checks that a partition drops packets,
// not connections: a stream n1 -> n3 made before stops delivering.
func TestIsolateCutsEstablishedStreams(t *testing.T) {
	needHosts(t)
	t.Parallel()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n3 := p.Host("n1"), p.Host("n3")
		sink := n3.Spawn("tcp-sink", "{{n3.addr}}:7000")
		p.WaitPort(sink, "{{n3.addr}}:7000")
		src := n1.Spawn("tcp-source", "{{n3.addr}}:7000")
		p.WaitStdout(sink, "^line 5$")
		p.Isolate(n3)
		var before int
		p.Wait(p.Go("settle", func(ctx context.Context) error {
			time.Sleep(500 * time.Millisecond) // what was in flight lands
			before = lines(dir, "tcp-sink")
			return nil
		}), 0)
		p.Wait(p.Go("cut", func(ctx context.Context) error {
			time.Sleep(300 * time.Millisecond)
			if after := lines(dir, "tcp-sink"); after != before {
				return fmt.Errorf("the sink got %d more lines after the partition", after-before)
			}
			return nil
		}), 0)
		p.Kill(src)
		p.Kill(sink)
	}, proctest.LogDir(t.TempDir()), logDirOf(&dir))
}

// lines counts the lines of name's stdout log in the log directory dir.
func lines(dir, name string) int {
	f, err := os.Open(dir + "/" + name + ".stdout")
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// TestMajoritiesRing cuts five hosts into a majorities ring from a fixed
// seed: each hears exactly two of the other four, no two hear the same
// ones, and the same seed gives the same shape.
func TestMajoritiesRing(t *testing.T) {
	needHosts(t)
	t.Parallel()
	shape := func() string {
		p := proctest.New("ring")
		p.Seed(7)
		var hs []*proctest.Host
		for i := 1; i <= 5; i++ {
			hs = append(hs, p.Host(fmt.Sprint("n", i)))
		}
		return proctest.MajoritiesRing(p.Rand(), hs...).String()
	}
	if a, b := shape(), shape(); a != b {
		t.Errorf("seed 7 gave %q, then %q", a, b)
	}
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		p.Seed(7)
		var hs []*proctest.Host
		for i := 1; i <= 5; i++ {
			hs = append(hs, p.Host(fmt.Sprint("n", i)))
		}
		p.Grudge(proctest.MajoritiesRing(p.Rand(), hs...))
		var probes []*proctest.Proc
		for _, h := range hs {
			args := []string{h.Addr().String()}
			for _, o := range hs {
				if o != h {
					args = append(args, o.Addr().String())
				}
			}
			probes = append(probes, h.SpawnNamed("probe-"+h.Name(), "udp-peers", args...))
		}
		var exits []proctest.Exit
		for _, pr := range probes {
			exits = append(exits, pr.Exits(0))
		}
		p.WaitPar(exits...)
	}, proctest.LogDir(t.TempDir()), proctest.KeepLogs(), logDirOf(&dir))
	seen := map[string]string{}
	for i := 1; i <= 5; i++ {
		b, err := os.ReadFile(fmt.Sprintf("%s/probe-n%d.stdout", dir, i))
		if err != nil {
			t.Fatal(err)
		}
		heard := strings.Fields(strings.TrimPrefix(strings.TrimSpace(string(b)), "heard"))
		if len(heard) != 2 {
			t.Errorf("n%d heard %v, want exactly two hosts", i, heard)
		}
		key := strings.Join(heard, " ")
		if other, ok := seen[key]; ok {
			t.Errorf("n%d and %s both heard %s", i, other, key)
		}
		seen[key] = fmt.Sprint("n", i)
	}
	os.RemoveAll(dir)
}

// TestLossAndRate shapes links: with 50% loss, between 35% and 65% of
// 2,000 datagrams arrive; at 1 Mbit/s, 500 KB take at least 3 s.
func TestLossAndRate(t *testing.T) {
	needHosts(t)
	t.Parallel()
	var dir string
	proctest.Run(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		p.Shape(n1, n2, proctest.Loss(0.5))
		count := n2.Spawn("udp-count", "{{n2.addr}}:9000")
		p.WaitStdout(count, "^listening$")
		send := n1.Spawn("udp-send", "{{n2.addr}}:9000", "2000")
		p.Wait(send, 0)
		p.Wait(count, 0)
		p.Heal()
		p.Shape(n1, n2, proctest.Rate("1mbit"))
		sink := n2.Spawn("tcp-sink", "{{n2.addr}}:7000")
		p.WaitPort(sink, "{{n2.addr}}:7000")
		src := n1.Spawn("tcp-source", "{{n2.addr}}:7000", "500000")
		p.Wait(src, 0).Timeout(30 * time.Second)
		p.Kill(sink)
	}, proctest.LogDir(t.TempDir()), proctest.KeepLogs(), logDirOf(&dir))
	defer os.RemoveAll(dir)
	b, _ := os.ReadFile(dir + "/udp-count.stdout")
	var got int
	if _, err := fmt.Sscanf(strings.TrimPrefix(string(b), "listening\n"), "got %d", &got); err != nil || got < 700 || got > 1300 {
		t.Errorf("with 50%% loss, udp-count said %q, want between 700 and 1300 of 2000", b)
	}
	b, _ = os.ReadFile(dir + "/tcp-source.stdout")
	var n int
	var secs float64
	if _, err := fmt.Sscanf(string(b), "sent %d bytes in %fs", &n, &secs); err != nil || secs < 3 {
		t.Errorf("at 1 Mbit/s, tcp-source said %q, want 500000 bytes in at least 3 s", b)
	}
}

// TestDelayUnsupported asks for a delay where the kernel has no netem: the
// plan fails before anything starts, with an UnsupportedError.
func TestDelayUnsupported(t *testing.T) {
	needHosts(t)
	if ok, _ := proctest.Supported(proctest.FeatureDelay); ok {
		t.Skip("this kernel can delay packets")
	}
	marker := filepath.Join(t.TempDir(), "ran")
	err := execute(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		p.Wait(n1.Spawn("touch", marker), 0)
		p.Shape(n1, n2, proctest.Delay(50*time.Millisecond, 10*time.Millisecond))
	})
	ue := asError[*proctest.UnsupportedError](t, err)
	if ue.Feature != proctest.FeatureDelay || !strings.Contains(ue.Reason, "netem") || !strings.Contains(ue.Where, "network_test.go") {
		t.Errorf("UnsupportedError = %+v, want delay, naming netem, at this file", ue)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the plan ran a step")
	}
}

// TestReportShowsNetworkAndSeed fails a plan during a partition: the
// report says what the network was and since when, and the seed.
func TestReportShowsNetworkAndSeed(t *testing.T) {
	needHosts(t)
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		p.Seed(42)
		n1, n2, n3 := p.Host("n1"), p.Host("n2"), p.Host("n3")
		p.Partition(proctest.Hosts{n1, n2}, proctest.Hosts{n3})
		p.Grudge(proctest.RandomNode(p.Rand(), n1, n2, n3))
		p.Wait(n1.Spawn("false"), 0)
	})
	for _, want := range []string{"network: n1,n2 | n3; ", " drops ", ", since +", "seed: 42 (PROCTEST_SEED=42 replays it)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}
