package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// The engine is reached with the official client, github.com/moby/moby/client,
// configured from the environment (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH, DOCKER_API_VERSION) and negotiating the API version
// with the engine on its first request. The client speaks API 1.40 and
// later, so Docker Engine 19.03 and later; engines found here (20.10, API
// 1.41) and on the developers' machines (28.2, API 1.50) both work.

// Labels on everything the package makes.
const (
	// LabelRun names the program that made it: one value per run of a
	// test binary, for the reaper.
	LabelRun = "proctest.run"
	// LabelPlan names the plan (proctest.PlanInfo.ID) of a container or
	// network.
	LabelPlan = "proctest.plan"
	// LabelHost is the plan's name of the host a container is.
	LabelHost = "proctest.host"
)

var engine struct {
	once sync.Once
	c    *client.Client
	err  error
}

// engineClient returns the client of the engine, made once.
func engineClient() (*client.Client, error) {
	engine.once.Do(func() {
		engine.c, engine.err = client.New(client.FromEnv)
		if engine.err != nil {
			engine.err = fmt.Errorf("docker: client: %w", engine.err)
		}
	})
	return engine.c, engine.err
}

// ping checks that the engine answers, and returns its version.
func ping(ctx context.Context) (*client.Client, string, error) {
	c, err := engineClient()
	if err != nil {
		return nil, "", err
	}
	v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("docker: no engine answers at %s: %w", c.DaemonHost(), err)
	}
	return c, fmt.Sprintf("Docker Engine %s (API %s, client API %s) at %s", v.Version, v.APIVersion, c.ClientVersion(), c.DaemonHost()), nil
}

// localEngine returns nil if the engine's address is on this machine: a
// socket, or TCP on the loopback.
func localEngine(c *client.Client) error {
	host := c.DaemonHost()
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("docker: engine address %q: %w", host, err)
	}
	switch u.Scheme {
	case "unix", "npipe":
		return nil
	case "tcp", "http", "https":
		h := u.Hostname()
		if h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			return nil
		}
	}
	return fmt.Errorf("docker: the engine at %s is not on this machine", host)
}

// uncancelled returns a context for a request that makes something in
// the engine: not cancelled with ctx, so that what it made is known and
// can be removed (a cancelled request may still make it, unseen).
func uncancelled(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
}

// RemoteEnv, set to 1, makes the backend take the engine for one on
// another machine, whatever its address, as [Remote] does: for an engine
// reached through a tunnel, which looks local.
const RemoteEnv = "PROCTEST_DOCKER_REMOTE"

// sharesFiles reports whether the engine sees this machine's files, so
// that the plan's log directory can be bind-mounted into the containers:
// it is reached at a local address, it calls itself by this machine's
// name (an engine whose socket is mounted into a container, as a test
// inside a container often has it, does not), and neither Remote nor
// RemoteEnv says otherwise.
func (b *backend) sharesFiles(ctx context.Context, c *client.Client) bool {
	if b.remote || os.Getenv(RemoteEnv) == "1" || localEngine(c) != nil {
		return false
	}
	info, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		return false
	}
	name, err := os.Hostname()
	return err == nil && info.Info.Name == name
}

var run struct {
	once sync.Once
	id   string
}

// runID returns the value of LabelRun for this program: its pid and a
// random part, so that a later program with the same pid differs.
func runID() string {
	run.once.Do(func() {
		b := make([]byte, 4)
		rand.Read(b)
		run.id = fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b))
	})
	return run.id
}

// labels returns the labels of something made for plan (or, with plan
// empty, for the program).
func labels(plan string, extra ...string) map[string]string {
	l := map[string]string{LabelRun: runID()}
	if plan != "" {
		l[LabelPlan] = plan
	}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// Available returns nil if a Docker engine answers, or else why not: for
// a test to skip.
func Available(ctx context.Context) error {
	_, _, err := ping(ctx)
	return err
}
