// Command testprog is the program of the docker package's tests, built
// static into the image of their hosts. Its first argument says what it
// does:
//
//	listen ADDR       serve HTTP on ADDR: "ok PATH from HOSTNAME"; print "listening"
//	get URL [MS]      GET URL, print the body; exit 2 if it cannot connect
//	                  within MS milliseconds (5000)
//	exit N            exit with code N
//	self-kill         kill itself with SIGKILL
//	sleep             sleep until killed
//	ticker FILE       append a line to FILE every 10 ms
//	cat               copy stdin to stdout
//	daemon            start "testprog sleep" in a session of its own, exit 0
//	write FILE TEXT   write TEXT to FILE
//	read FILE         print the contents of FILE
//	print TEXT        print TEXT on stdout and stderr
//	sink ADDR         accept TCP connections on ADDR and read them to the end,
//	                  then close them; print "listening"
//	source ADDR N     send N bytes to ADDR, wait for the peer to close, and
//	                  print "sent N bytes in SECONDSs"
//	qdiscs IFACE      print the kind of each qdisc of IFACE, one a line
//	udp-count ADDR    count the datagrams that come to ADDR until none came
//	                  for 500 ms after the first (or none in 3 s): "got N";
//	                  print "listening" first
//	udp-send ADDR N   send N datagrams to ADDR, one a millisecond
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testprog VERB ARGS...")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "listen":
		host, _ := os.Hostname()
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "ok %s from %s\n", r.URL.Path, host)
		})
		l, err := net.Listen("tcp", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		fmt.Fprintln(os.Stderr, http.Serve(l, nil))
		os.Exit(1)
	case "get":
		ms := 5000
		if len(args) > 1 {
			ms, _ = strconv.Atoi(args[1])
		}
		c := &http.Client{Timeout: time.Duration(ms) * time.Millisecond}
		resp, err := c.Get(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		defer resp.Body.Close()
		io.Copy(os.Stdout, resp.Body)
	case "exit":
		code, _ := strconv.Atoi(args[0])
		os.Exit(code)
	case "self-kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	case "ticker":
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := 0; ; i++ {
			fmt.Fprintln(f, "tick", i)
			time.Sleep(10 * time.Millisecond)
		}
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "daemon":
		cmd := exec.Command(os.Args[0], "sleep")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
	case "write":
		if err := os.WriteFile(args[0], []byte(args[1]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "read":
		b, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s\n", b)
	case "print":
		fmt.Println(args[0])
		fmt.Fprintln(os.Stderr, args[0])
	case "sink":
		l, err := net.Listen("tcp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		for {
			c, err := l.Accept()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	case "source":
		n, _ := strconv.Atoi(args[1])
		c, err := net.Dial("tcp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// Timed until the sink has read everything and closed: what
		// the socket's buffer took in is not sent yet.
		start := time.Now()
		if _, err := c.Write(make([]byte, n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		fmt.Printf("sent %d bytes in %.3fs\n", n, time.Since(start).Seconds())
	case "udp-count":
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
	case "udp-send":
		c, err := net.Dial("udp4", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n, _ := strconv.Atoi(args[1])
		for i := range n {
			fmt.Fprintf(c, "datagram %d", i)
			time.Sleep(time.Millisecond)
		}
	case "qdiscs":
		link, err := netlink.LinkByName(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		qs, err := netlink.QdiscList(link)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, q := range qs {
			fmt.Println(q.Type())
		}
	default:
		fmt.Fprintln(os.Stderr, "testprog: unknown verb", os.Args[1])
		os.Exit(2)
	}
}
