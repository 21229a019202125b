package proctest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// SetVar sets the variable name to value for the steps built after it,
// as "{{name}}", and returns it. value may refer to variables set by
// earlier steps, such as a captured address: those are expanded when the
// variable is used, so that
//
//	p.SetVar("url", "http://{{addr}}/health")
//
// follows addr. Setting a variable again changes it for the steps built
// after; a variable that a step sets while the plan runs (a capture, a
// free port, a host's address) cannot be set with SetVar. name is a
// letter or '_' followed by letters, digits and '_'.
func (p *Plan) SetVar(name, value string) *Var {
	where := p.caller()
	bad := func(format string, args ...any) {
		p.errs = append(p.errs, &BuildError{Where: where, Step: "set " + name, Err: fmt.Errorf(format, args...)})
	}
	if !plainName.MatchString(name) {
		bad("%q is not a variable name (a letter or '_', then letters, digits and '_')", name)
		return &Var{name: name, plan: p}
	}
	v := p.Var(name)
	if p.defined[name] && !v.fixed {
		bad("variable %s is set while the plan runs by an earlier step: choose another name", name)
		return v
	}
	p.checkRefs(where, "set "+name, value)
	// A reference to another variable of SetVar is replaced by its
	// template now: so a variable can refer to its earlier value, and
	// templates never refer to templates.
	value = varRef.ReplaceAllStringFunc(value, func(ref string) string {
		if w := p.vars[ref[2:len(ref)-2]]; w != nil && w.fixed {
			return w.tmpl
		}
		return ref
	})
	v.fixed, v.tmpl = true, value
	p.define(name)
	return v
}

// plainName matches the name of a variable of SetVar.
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// captures declares the variables the named groups of re, the pattern of
// step s, set while the plan runs.
func (p *Plan) captures(s *Step, re *regexp.Regexp) {
	for _, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		if v := p.Var(name); v.fixed {
			p.errs = append(p.errs, &BuildError{Where: s.where, Step: s.name,
				Err: fmt.Errorf("group %s of the pattern: variable %s is set by SetVar: choose another name", name, name)})
			continue
		}
		p.define(name)
	}
}

// WriteFile adds a step that writes text into the file path, with the
// references to variables in both expanded when the step runs: a
// configuration file that needs ports or addresses known only then, as
// in
//
//	p.WriteFile("nginx.conf", "server { listen {{port}}; location / { proxy_pass http://{{app}}; } }")
//
// A relative path is relative to [Plan.Dir]. The file is created with
// mode 0644, or truncated; its directory must exist.
func (p *Plan) WriteFile(path, text string) *Step {
	s := &Step{plan: p, kind: stepFile, where: p.caller(), name: "write-file " + path}
	p.checkRefs(s.where, s.name, path, text)
	if path == "" {
		p.misuse(s.name, "empty path")
	}
	s.run = func(e *executor, s *Step) error {
		name := p.expand(path)
		if !filepath.IsAbs(name) && p.Dir != "" {
			name = filepath.Join(p.expand(p.Dir), name)
		}
		data := p.expand(text)
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			return fmt.Errorf("%s%w", prefix(s.where, s.name), err)
		}
		e.emit(Event{Kind: EventInfo, Step: e.step + 1, StepName: s.name, Detail: fmt.Sprintf("wrote %s (%d bytes)", name, len(data))})
		return nil
	}
	p.steps = append(p.steps, s)
	return s
}
