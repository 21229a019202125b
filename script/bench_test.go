package script_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/proctest/proctest/script"
)

// BenchmarkParseLarge parses scripts of 10 MiB: one of many ordinary
// lines, and one whose spawn has a single word of 10 MiB.
func BenchmarkParseLarge(b *testing.B) {
	const size = 10 << 20
	var lines strings.Builder
	for i := 0; lines.Len() < size; i++ {
		fmt.Fprintf(&lines, "spawn -name p%d -env K=V sh -c 'echo \"$0\"' \"in $WORK/x\" plain\\ escaped # comment\nwait p%d 0\n", i, i)
	}
	word := "spawn echo " + strings.Repeat(`abc"d e"'f g'\ `, size/16) + "\nwait echo 0\n"
	for _, bb := range []struct{ name, text string }{
		{"lines", lines.String()},
		{"word", word},
	} {
		b.Run(bb.name, func(b *testing.B) {
			data := []byte(bb.text)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := script.Parse("large.plan", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
