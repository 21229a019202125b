package script_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/proctest/proctest/script"
)

var update = flag.Bool("update", false, "rewrite the table of steps in SCRIPTS.md from the verbs")

// scriptsDoc is the reference of the script language.
const scriptsDoc = "../SCRIPTS.md"

// stepsHeader begins the table of steps in SCRIPTS.md.
const stepsHeader = "| step | what it does |\n| --- | --- |\n"

// stepsTable returns the table of steps SCRIPTS.md must show: a row for
// each verb, its usage and its summary.
func stepsTable() string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString(stepsHeader)
	for _, v := range script.Verbs() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", cell(v.Usage()), cell(v.Summary))
	}
	return b.String()
}

// TestVerbsDocumented checks that the table of steps in SCRIPTS.md is the
// list of verbs: every verb documented, as its entry says, and no verb
// documented that does not exist. With -update it rewrites the table.
// (Not parallel: it may write SCRIPTS.md, which other tests read.)
func TestVerbsDocumented(t *testing.T) {
	data, err := os.ReadFile(scriptsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, stepsHeader)
	if start < 0 {
		t.Fatalf("%s has no table of steps (a line %q)", scriptsDoc, strings.SplitN(stepsHeader, "\n", 2)[0])
	}
	end := start + len(stepsHeader)
	for end < len(doc) && doc[end] == '|' {
		end += strings.IndexByte(doc[end:], '\n') + 1
	}
	got, want := doc[start:end], stepsTable()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(scriptsDoc, []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the table of steps in %s", scriptsDoc)
		return
	}
	rows := func(table string) map[string]string {
		m := map[string]string{}
		for _, row := range strings.Split(strings.TrimPrefix(table, stepsHeader), "\n") {
			verb, _, _ := strings.Cut(strings.TrimPrefix(row, "| `"), " ")
			verb = strings.TrimSuffix(verb, "`")
			if row != "" {
				m[verb] = row
			}
		}
		return m
	}
	gotRows, wantRows := rows(got), rows(want)
	for _, v := range script.Verbs() {
		switch row, ok := gotRows[v.Name]; {
		case !ok:
			t.Errorf("verb %s is not documented in %s; want the row\n%s", v.Name, scriptsDoc, wantRows[v.Name])
		case row != wantRows[v.Name]:
			t.Errorf("%s documents %s as\n%s\nwant\n%s", scriptsDoc, v.Name, row, wantRows[v.Name])
		}
	}
	for verb := range gotRows {
		if _, ok := wantRows[verb]; !ok {
			t.Errorf("%s documents a step %q that is not a verb of the language", scriptsDoc, verb)
		}
	}
	t.Errorf("the table of steps in %s is not the list of verbs (in its order); go test -update rewrites it", scriptsDoc)
}

// TestScriptsDocExamples reads every example of SCRIPTS.md: each must
// parse, so that the reference cannot drift from the parser, and each verb
// must be shown in one.
func TestScriptsDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(scriptsDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```")
	n := 0
	used := map[string]bool{}
	for i := 1; i < len(blocks); i += 2 {
		block := blocks[i]
		if strings.HasPrefix(block, "sh\n") || strings.Contains(block, "proctest run") {
			continue
		}
		n++
		if _, err := script.Parse("SCRIPTS.md", []byte(block)); err != nil {
			t.Errorf("example %d of SCRIPTS.md:\n%s\n%v", n, block, err)
		}
		for _, line := range strings.Split(block, "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				used[f[0]] = true
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d examples in SCRIPTS.md, want at least 3", n)
	}
	var unshown []string
	for _, v := range script.Verbs() {
		if !used[v.Name] {
			unshown = append(unshown, v.Name)
		}
	}
	if len(unshown) > 0 {
		t.Errorf("verbs used in no example of %s: %s", scriptsDoc, strings.Join(unshown, ", "))
	}
}

func TestVerbs(t *testing.T) {
	t.Parallel()
	var names []string
	for _, v := range script.Verbs() {
		if v.Name == "" || v.Summary == "" || strings.ContainsAny(v.Summary, "\n") {
			t.Errorf("verb %q: want a name and a one-line summary, got %q", v.Name, v.Summary)
		}
		if slices.Contains(names, v.Name) {
			t.Errorf("verb %s is listed twice", v.Name)
		}
		names = append(names, v.Name)
	}
	tests := []struct{ verb, usage string }{
		{"spawn", "spawn [-name NAME] [-host HOST] [-env KEY=VALUE]... [-dir DIR] [-stdin FILE] COMMAND [ARG]..."},
		{"wait", "wait [-timeout D] NAME [CODE|SIGNAL]"},
		{"wait-stdout", "wait-stdout [-timeout D] [-nth N] NAME REGEXP"},
		{"timeout", "timeout [-signal SIG] DURATION"},
	}
	for _, tt := range tests {
		i := slices.IndexFunc(script.Verbs(), func(v script.Verb) bool { return v.Name == tt.verb })
		if i < 0 {
			t.Errorf("no verb %s", tt.verb)
		} else if got := script.Verbs()[i].Usage(); got != tt.usage {
			t.Errorf("Verb(%s).Usage() = %q, want %q", tt.verb, got, tt.usage)
		}
	}
}
