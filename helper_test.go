package proctest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/proctest/proctest"
)

func TestHelperProgram(t *testing.T) {
	t.Parallel()
	proctest.Run(t, func(p *proctest.Plan) {
		port := p.FreePort("port")
		srv := p.SpawnHelper(crashServer, "127.0.0.1:"+port.String(), "3")
		p.WaitStdout(srv, "^ready$")
		client := p.Go("client", func(ctx context.Context) error {
			for i := 1; i <= 4; i++ {
				resp, err := http.Get("http://127.0.0.1:" + port.Value())
				if i == 4 {
					if err == nil {
						return fmt.Errorf("request 4 succeeded, want the server to crash")
					}
					return nil
				}
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return nil
		})
		p.WaitPar(client.Exits(0), srv.Exits(3))
		p.ExpectStderr(srv, "crashing after 3 requests")
		if srv.Name() != "crash-server" {
			t.Errorf("Name() = %q, want crash-server", srv.Name())
		}
	})
}

func TestHelperValidation(t *testing.T) {
	t.Parallel()
	err := execute(t, func(p *proctest.Plan) {
		h := p.SpawnHelper(nil)
		p.Wait(h, 0)
	})
	be := asError[*proctest.BuildError](t, err)
	if be.Err.Error() != "nil helper" {
		t.Errorf("BuildError = %v", be)
	}
}
