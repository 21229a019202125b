// Command proctest-docker is the proctest command with the plans' hosts as
// Docker containers: the same subcommands, flags and output, with the
// Docker backend (package docker) instead of network namespaces.
//
// Usage:
//
//	proctest-docker -image IMAGE [-host-image HOST=IMAGE]... run [flags] PATH...
//	proctest-docker -image IMAGE check PATH...
//	proctest-docker help
//
// IMAGE is a local image (nothing is ever pulled) that every host runs,
// unless -host-image names another for a host. Processes of a plan that
// are on no host run on this machine.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/proctest/proctest"
	"github.com/proctest/proctest/docker"
	"github.com/proctest/proctest/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// hostImages is the -host-image flag: HOST=IMAGE, repeated.
type hostImages []docker.Option

func (h *hostImages) String() string { return "" }

func (h *hostImages) Set(v string) error {
	host, image, ok := strings.Cut(v, "=")
	if !ok || host == "" || image == "" {
		return fmt.Errorf("want HOST=IMAGE, got %q", v)
	}
	*h = append(*h, docker.HostImage(host, image))
	return nil
}

// run parses the flags that choose the images, then runs the proctest
// command with the rest.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proctest-docker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "the local image every host runs")
	var hosts hostImages
	fs.Var(&hosts, "host-image", "HOST=IMAGE: the image of one host (repeated)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: proctest-docker -image IMAGE [-host-image HOST=IMAGE]... run|check|help ...\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	opts := append([]docker.Option{}, hosts...)
	if *image != "" {
		opts = append(opts, docker.Image(*image))
	}
	return cli.Main(fs.Args(), stdout, stderr, proctest.WithBackend(docker.New(opts...)))
}
