package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Quorum mode (kv serve -quorum N): the leader acknowledges a write only
// once a majority of the N members of the cluster, itself included, has
// it, and refuses it with 503 if no majority has it within -quorum-wait.
// A follower tells the leader how far it got by naming itself in each
// GET /log: asking for entries from index V means it has the first V.

// quorum is the leader's view of its followers' progress.
type quorum struct {
	members int           // cluster size, leader included
	wait    time.Duration // how long a write waits for a majority
	acked   map[string]int
	changed chan struct{} // closed and replaced when acked changes
}

// noteAckLocked records that follower name has the first version entries.
// n.mu must be held.
func (n *node) noteAckLocked(name string, version int) {
	q := n.quorum
	if q == nil || name == "" || q.acked[name] >= version {
		return
	}
	q.acked[name] = version
	close(q.changed)
	q.changed = make(chan struct{})
}

// awaitMajority waits until a majority of the members has version, and
// says how many have it if they do not within the quorum's wait.
func (n *node) awaitMajority(ctx context.Context, version int) error {
	q := n.quorum
	timer := time.NewTimer(q.wait)
	defer timer.Stop()
	for {
		n.mu.Lock()
		have := 1 // the leader
		for _, v := range q.acked {
			if v >= version {
				have++
			}
		}
		changed := q.changed
		n.mu.Unlock()
		if have > q.members/2 {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("no majority: version %d is on %d of %d members after %v", version, have, q.members, q.wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// refuseWithoutMajority answers a write that no majority acknowledged.
func refuseWithoutMajority(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusServiceUnavailable)
}
