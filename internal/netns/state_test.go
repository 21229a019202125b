package netns

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

var testAddrs = map[string]netip.Addr{
	"n1": netip.MustParseAddr("10.77.0.1"),
	"n2": netip.MustParseAddr("10.77.0.2"),
	"n3": netip.MustParseAddr("10.77.0.3"),
}

// describe writes rules in a compact, stable form for comparison.
func describe(rules map[string]Rules) string {
	var b strings.Builder
	for _, name := range []string{"n1", "n2", "n3"} {
		r := rules[name]
		fmt.Fprintf(&b, "%s: drop %v new %v loss", name, r.Drop, r.DropNew)
		for _, l := range r.Loss {
			fmt.Fprintf(&b, " %v<%d", l.From, l.Below)
		}
		b.WriteString(" rate")
		for _, l := range r.Rate {
			fmt.Fprintf(&b, " %v@%d", l.To, l.BPS)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestCompile(t *testing.T) {
	for _, c := range []struct {
		name  string
		state State
		want  string // describe's, or the error's start
	}{
		{
			name: "healthy",
			want: "n1: drop [] new [] loss rate\nn2: drop [] new [] loss rate\nn3: drop [] new [] loss rate\n",
		},
		{
			name: "isolate n3, sources sorted and deduplicated",
			state: State{Drop: map[string][]string{
				"n3": {"n2", "n1", "n2"}, "n1": {"n3"}, "n2": {"n3"},
			}},
			want: "n1: drop [10.77.0.3] new [] loss rate\nn2: drop [10.77.0.3] new [] loss rate\nn3: drop [10.77.0.1 10.77.0.2] new [] loss rate\n",
		},
		{
			name:  "new connections only",
			state: State{DropNew: map[string][]string{"n2": {"n1"}}},
			want:  "n1: drop [] new [] loss rate\nn2: drop [] new [10.77.0.1] loss rate\nn3: drop [] new [] loss rate\n",
		},
		{
			name: "loss: a pair wins over any host, zero is none",
			state: State{Loss: map[Link]float64{
				{From: "", To: "n2"}: 0.3, {From: "n1", To: "n2"}: 0.1, {From: "n3", To: "n1"}: 0,
			}},
			want: "n1: drop [] new [] loss rate\nn2: drop [] new [] loss 10.77.0.1<1000 10.77.0.3<3000 rate\nn3: drop [] new [] loss rate\n",
		},
		{
			name:  "loss from a host to all",
			state: State{Loss: map[Link]float64{{From: "n1"}: 1}},
			want:  "n1: drop [] new [] loss rate\nn2: drop [] new [] loss 10.77.0.1<10000 rate\nn3: drop [] new [] loss 10.77.0.1<10000 rate\n",
		},
		{name: "unknown receiver", state: State{Drop: map[string][]string{"n9": {"n1"}}}, want: `drop: unknown host "n9"`},
		{name: "unknown source", state: State{DropNew: map[string][]string{"n1": {"n9"}}}, want: `drop new of n1: unknown host "n9"`},
		{name: "self", state: State{Drop: map[string][]string{"n1": {"n1"}}}, want: "drop of n1: a host cannot drop its own packets"},
		{name: "loss above 1", state: State{Loss: map[Link]float64{{"n1", "n2"}: 1.5}}, want: "loss n1->n2: 1.5 is not a fraction"},
		{name: "loss unknown", state: State{Loss: map[Link]float64{{"n1", "n7"}: 0.5}}, want: `loss n1->n7: unknown host "n7"`},
		{name: "loss self", state: State{Loss: map[Link]float64{{"n1", "n1"}: 0.5}}, want: "loss n1->n1: a link joins two hosts"},
		{name: "rate self", state: State{Rate: map[Link]uint64{{"n2", "n2"}: 1}}, want: "rate n2->n2: a link joins two hosts"},
		{
			name:  "rate from any host to one, zero is none",
			state: State{Rate: map[Link]uint64{{To: "n1"}: 1e6, {From: "n2", To: "n3"}: 0}},
			want:  "n1: drop [] new [] loss rate\nn2: drop [] new [] loss rate 10.77.0.1@1000000\nn3: drop [] new [] loss rate 10.77.0.1@1000000\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			rules, err := c.state.Compile(testAddrs)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = describe(rules)
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("Compile(%v) = %q, want %q", c.state, got, c.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	s := State{
		Drop:    map[string][]string{"n3": {"n2", "n1"}, "n1": nil},
		DropNew: map[string][]string{"n2": {"n1"}},
		Loss:    map[Link]float64{{From: "n1", To: "n3"}: 0.3, {To: "n2"}: 0.05},
	}
	s.Rate = map[Link]uint64{{From: "n1", To: "n2"}: 1000000}
	want := "n3 drops n1,n2; n2 drops new from n1; *->n2 loss 5%; n1->n3 loss 30%; n1->n2 rate 1000000 bit/s"
	if got := s.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (State{}).String(); got != "healthy" {
		t.Errorf("State{}.String() = %q, want healthy", got)
	}
	c := s.Clone()
	c.Drop["n3"][0] = "x"
	if s.Drop["n3"][0] != "n2" {
		t.Errorf("Clone shares Drop's slices")
	}
}
