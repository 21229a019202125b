package script_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, after all tests, that no goroutine was left behind. The
// test binary also stands in for two helper programs, run with
// SCRIPT_TEST_HELPER set and named in scripts as $SCRIPT_TEST_EXE: "serve
// ADDR" answers every HTTP GET with "ok PATH", "get URL" prints the body.
func TestMain(m *testing.M) {
	switch os.Getenv("SCRIPT_TEST_HELPER") {
	case "serve":
		l, err := net.Listen("tcp", os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "ok", r.URL.Path)
		}))
		os.Exit(1)
	case "get":
		resp, err := http.Get(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		io.Copy(os.Stdout, resp.Body)
		os.Exit(0)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SCRIPT_TEST_EXE", exe)
	goleak.VerifyTestMain(m)
}
