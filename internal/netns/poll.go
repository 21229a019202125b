package netns

import (
	"context"
	"time"
)

// poll calls done until it reports true or an error, sleeping between
// calls with capped exponential backoff, and gives up when ctx ends,
// returning ctx's error. It is for the few states the kernel announces
// with no event a program can wait for cheaply.
func poll(ctx context.Context, done func() (bool, error)) error {
	delay := 50 * time.Microsecond
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}
