package proctest

import "strconv"

// At makes the steps built from now on, and the processes they start,
// report file:line as their place (in a [BuildError], the report, the
// events) instead of the line of the Go code that builds them. It is for
// plans built from another text, such as a plan script, whose author
// wants to hear about the lines of that text:
//
//	p.At("cluster.plan", 12)
//	p.Wait(db, 0) // a mistake here is reported at cluster.plan:12
//
// At("", 0) goes back to the line of the Go code.
func (p *Plan) At(file string, line int) {
	if file == "" {
		p.at = ""
		return
	}
	p.at = file + ":" + strconv.Itoa(line)
}
