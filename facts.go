package proctest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// What a report says of how the plan ran, so that a reader can compare
// what each process was given: the command lines, directories and
// environments of the processes, from their spawn events, and the
// variables with their values.

// maxFactProcs bounds how many processes the report lists.
const maxFactProcs = 40

// writeFacts writes the processes' command lines and the variables of p
// to b.
func writeFacts(b *strings.Builder, p *Plan, events []Event) {
	spawns := map[string]Event{}
	var order []string
	for _, ev := range events {
		if ev.Kind != EventSpawn || ev.Args == nil {
			continue
		}
		if _, ok := spawns[ev.Proc]; !ok {
			order = append(order, ev.Proc)
		}
		spawns[ev.Proc] = ev
	}
	if len(order) > 0 {
		b.WriteString("\nprocesses (command lines as last started):\n")
		shown := order
		if len(order) > maxFactProcs {
			shown = order[len(order)-maxFactProcs:]
			fmt.Fprintf(b, "\t... %d more before ...\n", len(order)-maxFactProcs)
		}
		for _, name := range shown {
			fmt.Fprintf(b, "\t%s\n", commandText(spawns[name]))
		}
	}
	var vars []string
	for name, v := range p.vars {
		if !p.defined[name] {
			continue
		}
		v.mu.Lock()
		set := v.set || v.fixed
		v.mu.Unlock()
		if set {
			vars = append(vars, name+"="+v.Value())
		} else {
			vars = append(vars, name+" (not set yet)")
		}
	}
	if len(vars) > 0 {
		slices.Sort(vars)
		b.WriteString("\nvariables:\n")
		for _, v := range vars {
			fmt.Fprintf(b, "\t%s\n", v)
		}
	}
}

// commandText says how the process of spawn event ev was started: "name
// (pid N): ARGS; in DIR; env K=V ...".
func commandText(ev Event) string {
	var b strings.Builder
	b.WriteString(procLabel(ev.Proc, ev.Pid))
	if ev.Host != "" {
		b.WriteString(" on " + ev.Host)
	}
	b.WriteString(": " + shellQuote(ev.Args))
	if ev.Dir != "" {
		b.WriteString("; in " + ev.Dir)
	}
	if len(ev.Env) > 0 {
		b.WriteString("; env " + shellQuote(ev.Env))
	}
	return b.String()
}

// shellQuote joins args as a shell would read them back: each word that
// holds anything but letters, digits and -_./:=@%+, in single quotes.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// commandsOf returns the command lines of the processes started in
// events, by name, as the timeline page shows them.
func commandsOf(events []Event) map[string]string {
	cmds := map[string]string{}
	for _, ev := range events {
		if ev.Kind == EventSpawn && ev.Args != nil {
			cmds[ev.Proc] = commandText(ev)
		}
	}
	return cmds
}

// keptNote says where the logs of a passing plan are kept.
func keptNote(dir string) string {
	return "logs kept in " + dir + "; timeline page " + filepath.Join(dir, "timeline.html")
}
