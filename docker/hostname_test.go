package docker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/proctest/proctest"
)

// TestHostName: a process on n2 reaches a server on n1 by "{{n1.host}}",
// which is n1's name, resolved by Docker's DNS.
func TestHostName(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		n1, n2 := p.Host("n1"), p.Host("n2")
		srv := n1.SpawnNamed("srv", "testprog", "listen", "{{n1.addr}}:7000")
		p.WaitPort(srv, "{{n1.addr}}:7000")
		get := n2.SpawnNamed("get", "testprog", "get", "http://{{n1.host}}:7000/by-host")
		p.Wait(get, 0)
		p.ExpectStdout(get, "^ok /by-host from n1$")
		p.Wait(p.Go("expansion", func(ctx context.Context) error {
			if got := p.Expand("{{n1.host}}"); got != "n1" {
				return fmt.Errorf(`Expand("{{n1.host}}") = %q, want "n1"`, got)
			}
			return nil
		}), 0)
		p.Kill(srv)
	})
	if err != nil {
		t.Fatal(err)
	}
}
