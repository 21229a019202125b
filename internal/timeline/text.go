package timeline

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// are left out between; all of s as head when it has no more than n.
func ends[T any](s []T, n int) (head, tail []T, left int) {
	if len(s) <= n {
		return s, nil, 0
	}
	h := (n + 1) / 2
	return s[:h], s[len(s)-(n-h):], len(s) - n
}

// stamp formats a moment of the plan: "+1.234s (15:04:05.678)".
func stamp(d time.Duration, when time.Time) string {
	s := fmt.Sprintf("+%.3fs", d.Seconds())
	if !when.IsZero() {
		s += " (" + when.Format("15:04:05.000") + ")"
	}
	return s
}

// durationText formats a length of time to the millisecond, or finer when
// it is shorter.
func durationText(d time.Duration) string {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

// procLabel returns "name (pid N)", or the name alone without a pid.
func procLabel(name string, pid int) string {
	if pid == 0 {
		return name
	}
	return fmt.Sprintf("%s (pid %d)", name, pid)
}

// join joins the parts that are not empty with ": ".
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}

// joinLines joins the lines that are not empty with newlines.
func joinLines(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// plural returns "1 process" or "2 processes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// shorten cuts s to n runes, ending it with "…" if it was longer.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// fit returns label, cut to fit a box w pixels wide, or short if even
// a cut label would not be read, or "" if short does not fit either.
func fit(label string, w float64, short string) string {
	const pad, least = 8.0, 4
	fits := int((w - pad) / charW)
	switch {
	case utf8.RuneCountInString(label) <= fits:
		return label
	case fits >= utf8.RuneCountInString(short)+least:
		return shorten(label, fits)
	case short != "" && utf8.RuneCountInString(short) <= fits:
		return short
	}
	return ""
}

// coord formats a coordinate.
func coord(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}
