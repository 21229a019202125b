package main

import (
	"slices"
	"testing"
)

// TestRoundOrder checks that each round runs every variant once and that,
// over as many rounds as there are variants, each variant directly follows
// each other one exactly once.
func TestRoundOrder(t *testing.T) {
	for _, n := range []int{2, 4, 6} {
		var variants []string
		for i := range n {
			variants = append(variants, string(rune('a'+i)))
		}
		follows := map[[2]string]int{}
		for r := range n {
			order := roundOrder(variants, r)
			sorted := slices.Sorted(slices.Values(order))
			if !slices.Equal(sorted, variants) {
				t.Fatalf("n=%d round %d: %v is not a permutation", n, r, order)
			}
			for i := 1; i < n; i++ {
				follows[[2]string{order[i-1], order[i]}]++
			}
		}
		for _, a := range variants {
			for _, b := range variants {
				if want := map[bool]int{true: 0, false: 1}[a == b]; follows[[2]string{a, b}] != want {
					t.Errorf("n=%d: %s then %s %d times, want %d", n, a, b, follows[[2]string{a, b}], want)
				}
			}
		}
	}
}
