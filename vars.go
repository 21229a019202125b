package proctest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// A Var is a value that becomes known while the plan runs: a port the plan
// allocated ([Plan.FreePort]), a submatch an output wait, [Plan.Exec] or
// [Plan.Retry] captured (a named group of its pattern), a host's address,
// name or directory, or a string of [Plan.SetVar]. Since the plan is built
// before it runs, later steps refer to it by name: "{{name}}" is replaced
// by its value when the step runs, in the places [Plan.Expand] lists. [Var.String]
// returns that reference; a Go function reads the value with [Var.Value]
// or [Plan.Expand]. Each time a step sets a variable, the plan records a
// var event, and a failure report lists every variable with its value.
//
// A reference to a variable that no earlier step sets is an error found
// before the plan runs. Text in double braces that is not a plain name,
// such as "{{.ID}}", is left as it is.
type Var struct {
	name string
	plan *Plan
	// fixed is set for a variable of Plan.SetVar: its value is tmpl, with
	// the references in it expanded when it is used.
	fixed bool
	tmpl  string

	mu    sync.Mutex
	value string
	set   bool
}

// Name returns the variable's name.
func (v *Var) Name() string { return v.name }

// String returns the reference "{{name}}", to put in arguments.
func (v *Var) String() string { return "{{" + v.name + "}}" }

// Value returns the variable's value, or "" before the plan set it. Go
// steps can read it while the plan runs.
func (v *Var) Value() string {
	if v.fixed {
		return v.plan.expand(v.tmpl)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.value
}

func (v *Var) setValue(s string) {
	v.mu.Lock()
	v.value, v.set = s, true
	v.mu.Unlock()
}

// varRef matches a reference to a variable.
// A host's variables have one dotted attribute: {{n1.addr}}, {{n1.host}},
// {{n1.dir}}.
var varRef = regexp.MustCompile(`\{\{([A-Za-z_][A-Za-z0-9_]*(?:\.(?:addr|host|dir))?)\}\}`)

// Var returns the plan's variable name, declaring it if needed. Declaring
// a name does not set it: a step must, before the variable is used.
func (p *Plan) Var(name string) *Var {
	if v, ok := p.vars[name]; ok {
		return v
	}
	if p.vars == nil {
		p.vars = map[string]*Var{}
	}
	v := &Var{name: name, plan: p}
	p.vars[name] = v
	return v
}

// FreePort returns a variable holding a TCP port that is free on the
// loopback interface when the plan starts, for a process to listen on.
// (Another program could take it in between; on a test machine that is
// rare.)
func (p *Plan) FreePort(name string) *Var {
	v := p.Var(name)
	if v.fixed {
		p.misuse("free-port "+name, "variable %s is set by SetVar: choose another name", name)
	} else if p.defined[name] {
		p.misuse("free-port "+name, "variable %s is already set by an earlier step", name)
	}
	p.define(name)
	p.ports = append(p.ports, v)
	return v
}

// define records that the steps built from now on may use variable name.
func (p *Plan) define(name string) {
	if p.defined == nil {
		p.defined = map[string]bool{}
	}
	p.defined[name] = true
}

// checkRefs records an error for each reference in ss to a variable that
// no earlier step sets.
func (p *Plan) checkRefs(where, step string, ss ...string) {
	for _, s := range ss {
		if !strings.Contains(s, "{{") {
			continue
		}
		for _, m := range varRef.FindAllStringSubmatch(s, -1) {
			if p.defined[m[1]] {
				continue
			}
			err := fmt.Errorf("%s: no earlier step sets variable %s", m[0], m[1])
			if host, _, ok := strings.Cut(m[1], "."); ok {
				err = fmt.Errorf("%s: no host %s is declared before this step", m[0], host)
			}
			p.errs = append(p.errs, &BuildError{Where: where, Step: step, Err: err})
		}
	}
}

// Expand returns s with each reference "{{name}}" to a variable of the
// plan replaced by the variable's value at the time of the call: "" for a
// variable not set yet. Text in double braces that names no variable is
// left as it is. It is safe to call from Go steps and check functions
// while the plan runs, to use the values a plan learned in Go code:
//
//	p.WaitFunc(nil, "leader elected", func(ctx context.Context) error {
//		return ping(ctx, p.Expand("{{leader}}"))
//	})
//
// The plan itself expands, when the step runs: a process's arguments,
// [Proc.Env], [Proc.Dir], [Plan.Env] and [Plan.Dir]; the addresses, URLs
// and paths of [Plan.WaitPort], [Plan.WaitHTTP] and [Plan.WaitFile]; the
// command lines, Env and Dir of [Plan.Exec] and [Plan.Retry]; and the
// paths and text of [Plan.WriteFile]. It does not expand patterns, golden
// file names, or strings handed to Go functions: those call Expand.
func (p *Plan) Expand(s string) string { return p.expand(s) }

// expand replaces the references in s by the variables' values.
func (p *Plan) expand(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := p.vars[ref[2:len(ref)-2]]; ok {
			return v.Value()
		}
		return ref
	})
}

// expandAll returns ss with references expanded, or ss itself if it has
// none.
func (p *Plan) expandAll(ss []string) []string {
	var out []string
	for i, s := range ss {
		if x := p.expand(s); x != s && out == nil {
			out = append([]string(nil), ss...)
			out[i] = x
		} else if out != nil {
			out[i] = x
		}
	}
	if out == nil {
		return ss
	}
	return out
}

// allocatePorts gives each FreePort variable a port free now.
func (p *Plan) allocatePorts(s Session) error {
	if len(p.ports) == 0 {
		return nil
	}
	ports, err := s.FreePorts(len(p.ports))
	if err != nil {
		return fmt.Errorf("proctest: free-port %s: %w", p.ports[0].name, err)
	}
	for i, v := range p.ports {
		v.setValue(strconv.Itoa(ports[i]))
	}
	return nil
}

// Defined reports whether a step built so far sets the variable name
// ([Plan.FreePort], or a named group of an output wait's pattern), so that
// the steps built next may refer to it as "{{name}}".
func (p *Plan) Defined(name string) bool { return p.defined[name] }

// setVar sets the variable name to value while the plan runs, and
// records it in the timeline.
func (e *executor) setVar(name, value string) {
	e.plan.Var(name).setValue(value)
	e.emit(Event{Kind: EventVar, Var: name, Value: value, Detail: name + "=" + value})
}
