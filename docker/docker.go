package docker

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/proctest/proctest"
)

// An Option configures the backend made by [New].
type Option interface {
	apply(*backend)
}

type optionFunc func(*backend)

func (f optionFunc) apply(b *backend) { f(b) }

// Image sets the image of every host that [HostImage] gives none: an
// image of the engine, by name ("kv:test") or id. Nothing is pulled.
func Image(ref string) Option {
	return optionFunc(func(b *backend) { b.image = ref })
}

// HostImage sets the image of the host named host.
func HostImage(host, ref string) Option {
	return optionFunc(func(b *backend) { b.hostImages[host] = ref })
}

// Remote makes the backend take the engine for one on another machine,
// whatever its address (see [RemoteEnv]): nothing is bind-mounted, and
// the hosts' output and input go through their agents.
func Remote() Option {
	return optionFunc(func(b *backend) { b.remote = true })
}

// New returns a backend whose hosts are containers of the Docker engine
// named by the environment (DOCKER_HOST, or the local socket), on this
// machine or another (see the package doc for what needs shared files).
// Processes spawned without a host run on this machine, as with
// [proctest.Local]. The backend is also a
// [proctest.FeatureChecker]: a plan with hosts fails before anything
// starts, with an [proctest.UnsupportedError] saying why, if no engine
// answers, if an image is missing (naming it), or if the agent cannot be
// built.
func New(opts ...Option) proctest.Backend {
	b := &backend{hostImages: map[string]string{}}
	for _, o := range opts {
		o.apply(b)
	}
	return b
}

// backend is the Backend made by New.
type backend struct {
	remote     bool
	image      string
	hostImages map[string]string
}

// imageFor returns the image of the host named name.
func (b *backend) imageFor(name string) string {
	if ref, ok := b.hostImages[name]; ok {
		return ref
	}
	return b.image
}

// images returns every image the options name.
func (b *backend) images() []string {
	var refs []string
	if b.image != "" {
		refs = append(refs, b.image)
	}
	for _, ref := range b.hostImages {
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	return refs
}

// LookPath implements [proctest.Backend]. A program found on this machine
// is returned as exec.LookPath returns it; one that is not is returned
// as is, to be looked up where it starts: in a container, in the
// image's PATH. (The plan checks its programs before it knows where they
// run; a program missing on this machine for a process without a host
// fails when it starts.)
func (b *backend) LookPath(file string) (string, error) {
	if path, err := exec.LookPath(file); err == nil {
		return path, nil
	}
	return file, nil
}

// Supports implements [proctest.FeatureChecker]: hosts need an engine on
// this machine, the images of the options, and the agent; packet delay is
// not done in containers.
func (b *backend) Supports(f proctest.Feature) error {
	switch f {
	case proctest.FeatureHosts:
	case proctest.FeatureDelay:
		return errors.New("docker: packet delay between containers is not done (rate limits and loss are)")
	default:
		return fmt.Errorf("docker: unknown feature %q", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := ping(ctx)
	if err != nil {
		return err
	}
	refs := b.images()
	if len(refs) == 0 {
		return errors.New("docker: no image for the hosts: give one with docker.Image or docker.HostImage")
	}
	for _, ref := range refs {
		if err := checkImage(ctx, c, ref); err != nil {
			return err
		}
	}
	_, err = agentBinary(ctx)
	return err
}

// checkImage returns an error naming ref if the engine has no such image.
func checkImage(ctx context.Context, c *client.Client, ref string) error {
	_, err := c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: image %q: not found in the engine (nothing is pulled: build it first, with docker.BuildImage or docker build)", ref)
	}
	if err != nil {
		return fmt.Errorf("docker: image %q: %w", ref, err)
	}
	return nil
}

// Open implements [proctest.Backend]. The plan's processes without a host
// run in a session of [proctest.Local]; its hosts are made when the plan
// adds them.
func (b *backend) Open(ctx context.Context, info proctest.PlanInfo) (proctest.Session, error) {
	local, err := proctest.Local.Open(ctx, info)
	if err != nil {
		return nil, err
	}
	report := info.Report
	if report == nil {
		report = func(string, bool) {}
	}
	if err := registerReaper(); err != nil {
		report(err.Error(), true)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := &session{b: b, info: info, local: local}
	if c, version, err := ping(pctx); err == nil {
		report("docker: hosts are containers of "+version, false)
		if s.shared = b.sharesFiles(pctx, c); !s.shared {
			report("docker: the engine does not share this machine's files: the hosts' output and input go through their agents, and their directories are in their containers", false)
		}
	}
	return s, nil
}
