package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/proctest/proctest"
)

// Cleanup. A plan removes its containers and network when it ends. What a
// program leaves when it dies without ending its plans (SIGKILL), and the
// images it built, are removed by the reaper: this program run again by
// proctest's guard once the program has ended ([proctest.RegisterReaper]),
// with reapEnv set to the program's run label. The package's init
// function recognises it, removes every container, network and image
// labelled with that run, and exits.

// reapEnv names the variable that makes a program the reaper of the run
// it holds.
const reapEnv = "PROCTEST_DOCKER_REAP"

func init() {
	if run := os.Getenv(reapEnv); run != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
		err := reap(ctx, run)
		cancel()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
}

var reaper struct {
	once sync.Once
	err  error
}

// registerReaper registers the reaper of this program's run with the
// guard, once.
func registerReaper() error {
	reaper.once.Do(func() {
		reaper.err = proctest.RegisterReaper(reapEnv + "=" + runID())
		if reaper.err != nil {
			reaper.err = fmt.Errorf("docker: nothing will remove the containers, networks and images of this program if it is killed: %w", reaper.err)
		}
	})
	return reaper.err
}

// reap removes the containers, networks and images labelled with run:
// containers first, since they hold the networks and images.
func reap(ctx context.Context, run string) error {
	c, err := engineClient()
	if err != nil {
		return err
	}
	f := make(client.Filters).Add("label", LabelRun+"="+run)
	var errs []error
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	errs = append(errs, err)
	var wg sync.WaitGroup
	cerrs := make([]error, len(cs.Items))
	for i, ct := range cs.Items {
		wg.Go(func() {
			_, err := c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
			if !cerrdefs.IsNotFound(err) {
				cerrs[i] = err
			}
		})
	}
	wg.Wait()
	errs = append(errs, cerrs...)
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	errs = append(errs, err)
	for _, n := range ns.Items {
		if _, err := c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	is, err := c.ImageList(ctx, client.ImageListOptions{Filters: f})
	errs = append(errs, err)
	for _, im := range is.Items {
		if _, err := c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
