package netns_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proctest/proctest/internal/netns"
)

// echo runs a TCP echo server on port of h, from this program, until the
// test ends.
func echo(t testing.TB, h *netns.Host, port int) {
	t.Helper()
	l, err := h.Listen(testCtx(t), "tcp", addr(h, port))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(c, c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// dial connects from h to port of to within timeout, exchanges a line
// and returns the error.
func dial(ctx context.Context, from, to *netns.Host, port int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := from.DialContext(ctx, "tcp", addr(to, port))
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "ping\n" {
		err = errors.New("echo answered " + line)
	}
	return err
}

// bigBuffer gives a UDP socket a receive buffer large enough for the
// datagrams of a test, so that none is lost to a full buffer.
func bigBuffer(t testing.TB, pc net.PacketConn) {
	t.Helper()
	rc, err := pc.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 16<<20)
	})
	if err = errors.Join(err, serr); err != nil {
		t.Fatal(err)
	}
}

// datagrams sends count datagrams from h to port of to and returns how
// many arrived: all of them, or those that did before none came for 300 ms.
func datagrams(t testing.TB, from, to *netns.Host, port, count int) int {
	t.Helper()
	ctx := testCtx(t)
	pc, err := to.ListenPacket(ctx, "udp", addr(to, port))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	bigBuffer(t, pc)
	c, err := from.DialContext(ctx, "udp", addr(to, port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range count {
		if _, err := c.Write([]byte{byte(i), byte(i >> 8)}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	buf := make([]byte, 16)
	for got < count {
		pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := pc.ReadFrom(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			t.Fatal(err)
		}
		got++
	}
	return got
}

// isolate returns the state in which h is cut from every other host.
func isolate(h *netns.Host, all []*netns.Host) netns.State {
	s := netns.State{Drop: map[string][]string{}}
	for _, o := range all {
		if o != h {
			s.Drop[h.Name()] = append(s.Drop[h.Name()], o.Name())
			s.Drop[o.Name()] = []string{h.Name()}
		}
	}
	return s
}

func TestIsolateAndHeal(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2", "n3")
	n1, n2, n3 := hs[0], hs[1], hs[2]
	for _, h := range hs {
		echo(t, h, 7000)
	}
	ctx := testCtx(t)
	if err := n.Apply(isolate(n3, hs)); err != nil {
		t.Fatal(err)
	}
	if got, want := n.State().String(), "n1 drops n3; n2 drops n3; n3 drops n1,n2"; got != want {
		t.Errorf("State() = %q, want %q", got, want)
	}
	for _, c := range []struct {
		from, to *netns.Host
		ok       bool
	}{
		{n1, n3, false}, {n3, n1, false}, {n2, n3, false}, {n3, n2, false},
		{n1, n2, true}, {n2, n1, true},
	} {
		err := dial(ctx, c.from, c.to, 7000, 300*time.Millisecond)
		if (err == nil) != c.ok {
			t.Errorf("isolated n3: dial %s -> %s = %v, want success %v", c.from.Name(), c.to.Name(), err, c.ok)
		}
	}
	// The control point is never cut off.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	c, err := n.DialContext(cctx, "tcp", addr(n3, 7000))
	if err != nil {
		t.Errorf("isolated n3: dial from the control point = %v, want success", err)
	} else {
		c.Close()
	}

	if err := n.Apply(netns.State{}); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*netns.Host{{n1, n3}, {n3, n1}, {n2, n3}} {
		if err := dial(ctx, pair[0], pair[1], 7000, 100*time.Millisecond); err != nil {
			t.Errorf("healed: dial %s -> %s = %v, want success within 100 ms", pair[0].Name(), pair[1].Name(), err)
		}
	}
}

func TestOneWayBlock(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2", "n3")
	n1, n3 := hs[0], hs[2]
	if err := n.Apply(netns.State{Drop: map[string][]string{"n3": {"n1"}}}); err != nil {
		t.Fatal(err)
	}
	if got := datagrams(t, n1, n3, 9000, 200); got != 0 {
		t.Errorf("n3 drops n1: %d/200 datagrams n1 -> n3 arrived, want 0", got)
	}
	if got := datagrams(t, n3, n1, 9001, 200); got != 200 {
		t.Errorf("n3 drops n1: %d/200 datagrams n3 -> n1 arrived, want 200", got)
	}
	// At the packet level, TCP fails both ways.
	echo(t, n1, 7000)
	echo(t, n3, 7000)
	ctx := testCtx(t)
	for _, pair := range [][2]*netns.Host{{n1, n3}, {n3, n1}} {
		if err := dial(ctx, pair[0], pair[1], 7000, 300*time.Millisecond); err == nil {
			t.Errorf("n3 drops n1: dial %s -> %s = success, want failure", pair[0].Name(), pair[1].Name())
		}
	}
}

func TestDropNewConnections(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2")
	n1, n2 := hs[0], hs[1]
	echo(t, n1, 7000)
	echo(t, n2, 7000)
	ctx := testCtx(t)
	// A connection made before stays.
	before, err := n1.DialContext(ctx, "tcp", addr(n2, 7000))
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if err := n.Apply(netns.State{DropNew: map[string][]string{"n2": {"n1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := dial(ctx, n1, n2, 7000, 300*time.Millisecond); err == nil {
		t.Errorf("n2 drops new from n1: dial n1 -> n2 = success, want failure")
	}
	if err := dial(ctx, n2, n1, 7000, time.Second); err != nil {
		t.Errorf("n2 drops new from n1: dial n2 -> n1 = %v, want success", err)
	}
	before.SetDeadline(time.Now().Add(time.Second))
	io.WriteString(before, "still\n")
	if line, err := bufio.NewReader(before).ReadString('\n'); err != nil || line != "still\n" {
		t.Errorf("n2 drops new from n1: a connection made before got %q, %v, want it to work", line, err)
	}
}

func TestEstablishedStreamStops(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2", "n3")
	n1, n3 := hs[0], hs[2]
	echo(t, n3, 7000)
	ctx := testCtx(t)
	c, err := n1.DialContext(ctx, "tcp", addr(n3, 7000))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string, d time.Duration) (string, error) {
		c.SetDeadline(time.Now().Add(d))
		if _, err := io.WriteString(c, msg+"\n"); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one", time.Second); err != nil || got != "one\n" {
		t.Fatalf("before: %q, %v", got, err)
	}
	if err := n.Apply(isolate(n3, hs)); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip("two", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("isolated n3: the stream delivered %q, %v, want nothing", got, err)
	}
	if err := n.Apply(netns.State{}); err != nil {
		t.Fatal(err)
	}
	// TCP retransmits what was held back.
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Errorf("healed: the stream delivered %q, %v, want \"two\\n\"", got, err)
	}
}

func TestLoss(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2")
	n1, n2 := hs[0], hs[1]
	if err := n.Apply(netns.State{Loss: map[netns.Link]float64{{From: "n1", To: "n2"}: 0.5}}); err != nil {
		t.Fatal(err)
	}
	if got := datagrams(t, n1, n2, 9000, 2000); got < 700 || got > 1300 {
		t.Errorf("loss 50%% n1 -> n2: %d/2000 datagrams arrived, want 700 to 1300", got)
	}
	if got := datagrams(t, n2, n1, 9001, 200); got != 200 {
		t.Errorf("loss 50%% n1 -> n2: %d/200 datagrams n2 -> n1 arrived, want 200", got)
	}
}

func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2")
	n1, n2 := hs[0], hs[1]
	if err := n.Apply(netns.State{Drop: map[string][]string{"n2": {"n1"}}}); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, err := n2.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := n2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Applied while n2 is down: kept for its restart.
	if err := n.Apply(netns.State{Drop: map[string][]string{"n2": {"n1"}, "n1": {"n2"}}}); err != nil {
		t.Fatal(err)
	}
	if err := n2.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got := datagrams(t, n1, n2, 9000, 50); got != 0 {
		t.Errorf("restarted n2 drops n1: %d/50 datagrams arrived, want 0", got)
	}
	if err := n.Apply(netns.State{}); err != nil {
		t.Fatal(err)
	}
	if got := datagrams(t, n1, n2, 9000, 50); got != 50 {
		t.Errorf("healed: %d/50 datagrams arrived, want 50", got)
	}
}

// TestRate sends 250 KB over a link limited to 1 Mbit/s. It checks a lower
// bound on the time taken, which a loaded machine can only make longer.
// HTB charges a packet to its class once sent, and a GSO packet can hold
// 64 KB: so much can arrive ahead of the rate.
func TestRate(t *testing.T) {
	t.Parallel()
	n, hs := newNet(t, "", "n1", "n2", "n3")
	n1, n2 := hs[0], hs[1]
	const size, bps, slack = 250_000, 1_000_000, 64 << 10
	if err := n.Apply(netns.State{Rate: map[netns.Link]uint64{{From: "n1", To: "n2"}: bps}}); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	l, err := n2.Listen(ctx, "tcp", addr(n2, 7000))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		k, _ := io.Copy(io.Discard, c)
		got <- k
	}()
	c, err := n1.DialContext(ctx, "tcp", addr(n2, 7000))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	k := <-got
	took := time.Since(begin)
	if k != size {
		t.Fatalf("received %d bytes, want %d", k, size)
	}
	if least := time.Duration((size - slack) * 8 * float64(time.Second) / bps); took < least {
		t.Errorf("%d bytes at %d bit/s took %v, want at least %v", size, bps, took, least)
	}
	t.Logf("%d bytes at %d bit/s took %v", size, bps, took)
	// Healing removes the qdisc; applying again makes it anew.
	for _, s := range []netns.State{{}, {Rate: map[netns.Link]uint64{{From: "n1"}: bps}}, {}} {
		if err := n.Apply(s); err != nil {
			t.Fatalf("Apply(%v) = %v", s, err)
		}
	}
}
