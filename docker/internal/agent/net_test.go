package agent

import (
	"fmt"
	"testing"
)

// TestRules turns a Net into netns's rules: addresses parsed, a rate of 0
// left out, anything not IPv4 named in the error.
func TestRules(t *testing.T) {
	for _, c := range []struct {
		name string
		net  Net
		want string // the rules, or the error
	}{
		{name: "zero", want: "{Drop:[] DropNew:[] Loss:[] Rate:[]}"},
		{
			name: "all",
			net: Net{
				Drop: []string{"10.0.0.2"}, DropNew: []string{"10.0.0.3"},
				Loss: []Loss{{From: "10.0.0.4", Below: 5000}},
				Rate: []Rate{{To: "10.0.0.5", BPS: 1e6}, {To: "10.0.0.6"}},
			},
			want: "{Drop:[10.0.0.2] DropNew:[10.0.0.3] Loss:[{From:10.0.0.4 Below:5000}] Rate:[{To:10.0.0.5 BPS:1000000}]}",
		},
		{name: "bad drop", net: Net{Drop: []string{"x"}}, want: `drop: not an IPv4 address: "x"`},
		{name: "IPv6 rate", net: Net{Rate: []Rate{{To: "::1", BPS: 1}}}, want: `rate: not an IPv4 address: "::1"`},
		{name: "loss above 1", net: Net{Loss: []Loss{{From: "10.0.0.4", Below: LossMod + 1}}}, want: "loss from 10.0.0.4: 10001 is more than 10000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.net.rules()
			got := fmt.Sprintf("%+v", r)
			if err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("rules(%+v) = %s, want %s", c.net, got, c.want)
			}
		})
	}
}
