package script

import "testing"

func TestCountArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		verb     string
		min, max int
	}{
		{"spawn", 1, -1},
		{"spawn-par", 1, -1},
		{"wait", 1, 2},
		{"wait-par", 1, -1},
		{"signal", 2, 2},
		{"pause", 1, 1},
		{"wait-http", 2, 3},
		{"expect-stdout", 2, 2},
		{"env", 1, -1},
		{"free-port", 1, -1},
	}
	for _, tt := range tests {
		v := byName[tt.verb]
		if v == nil {
			t.Errorf("no verb %s", tt.verb)
			continue
		}
		if min, max := v.countArgs(); min != tt.min || max != tt.max {
			t.Errorf("%s: countArgs() = %d, %d, want %d, %d", tt.verb, min, max, tt.min, tt.max)
		}
		if v.minArgs != tt.min || v.maxArgs != tt.max {
			t.Errorf("%s: minArgs, maxArgs = %d, %d, want %d, %d", tt.verb, v.minArgs, v.maxArgs, tt.min, tt.max)
		}
	}
}
