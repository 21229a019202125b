// Package timelinetest reads a timeline page back, for tests: it parses
// the page's SVG picture as XML and finds its process rows and bars by
// their CSS classes, so that a test can check what the page draws
// without comparing it byte for byte.
package timelinetest

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// A Node is an element of the picture.
type Node struct {
	// XMLName is the element's name, as in "rect" or "g".
	XMLName xml.Name
	// Attrs are its attributes.
	Attrs []xml.Attr `xml:",any,attr"`
	// Nodes are the elements inside it.
	Nodes []Node `xml:",any"`
	// Chars is the text directly inside the element.
	Chars string `xml:",chardata"`
}

// Picture parses the SVG picture of page, which must be well-formed XML.
func Picture(page string) (*Node, error) {
	i := strings.Index(page, `<svg id="tl"`)
	j := strings.LastIndex(page, "</svg>")
	if i < 0 || j < i {
		return nil, errors.New("timelinetest: no picture in the page")
	}
	var root Node
	d := xml.NewDecoder(strings.NewReader(page[i : j+len("</svg>")]))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		return nil, fmt.Errorf("timelinetest: the picture is not well-formed: %w", err)
	}
	return &root, nil
}

// Attr returns the value of n's attribute name, or "".
func (n *Node) Attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// HasClass reports whether n has the CSS class c.
func (n *Node) HasClass(c string) bool {
	for _, f := range strings.Fields(n.Attr("class")) {
		if f == c {
			return true
		}
	}
	return false
}

// Title returns the text of n's title child, what hovering shows, or "".
func (n *Node) Title() string {
	for _, c := range n.Nodes {
		if c.XMLName.Local == "title" {
			return c.Chars
		}
	}
	return ""
}

// All returns the elements under n, n included, for which keep is true,
// in document order.
func (n *Node) All(keep func(*Node) bool) []*Node {
	var out []*Node
	var walk func(*Node)
	walk = func(n *Node) {
		if keep(n) {
			out = append(out, n)
		}
		for i := range n.Nodes {
			walk(&n.Nodes[i])
		}
	}
	walk(n)
	return out
}

// Text returns all the text under n.
func (n *Node) Text() string {
	var b strings.Builder
	b.WriteString(n.Chars)
	for i := range n.Nodes {
		b.WriteString(n.Nodes[i].Text())
	}
	return b.String()
}

// Rows returns the picture's process rows by name, and the names in
// order; the row that sums up rows not drawn is named "… N more".
func Rows(pic *Node) (map[string]*Node, []string) {
	rows := map[string]*Node{}
	var names []string
	for _, g := range pic.All(func(n *Node) bool { return n.XMLName.Local == "g" && n.HasClass("proc") }) {
		var name string
		for _, txt := range g.All(func(n *Node) bool { return n.XMLName.Local == "text" && n.HasClass("name") }) {
			name = strings.TrimSpace(txt.Chars)
		}
		rows[name] = g
		names = append(names, name)
	}
	return rows, names
}

// Hosts returns the picture's host rows by name, and the names in order;
// the row of the processes on this machine, in a plan with hosts, is
// named "this machine". A host row holds the host's spans, as rects of
// class "hostspan paused" or "hostspan down", and its markers, of class
// "kill", "restart" or "change"; the process rows under it are those
// [Rows] returns.
func Hosts(pic *Node) (map[string]*Node, []string) {
	rows := map[string]*Node{}
	var names []string
	for _, g := range pic.All(func(n *Node) bool { return n.XMLName.Local == "g" && n.HasClass("host") }) {
		var name string
		for _, txt := range g.All(func(n *Node) bool { return n.XMLName.Local == "text" && n.HasClass("hostname") }) {
			name = strings.TrimSpace(txt.Chars)
		}
		rows[name] = g
		names = append(names, name)
	}
	return rows, names
}

// NetBands returns the boxes of the network lane, one for each state of
// the network other than healthy, in order. A box's title says the
// faults in words, when and how the state ended, and the step that set
// it.
func NetBands(pic *Node) []*Node {
	return pic.All(func(n *Node) bool {
		return n.XMLName.Local == "g" && n.HasClass("net") &&
			len(n.All(func(n *Node) bool { return n.XMLName.Local == "rect" && n.HasClass("netbox") })) > 0
	})
}

// BarClasses returns the outcome class of each bar of a row, in order:
// "ok", "code", "sig", "stop", "run", or "many" for runs drawn as one.
func BarClasses(row *Node) []string {
	var out []string
	for _, b := range row.All(func(n *Node) bool { return n.XMLName.Local == "rect" && n.HasClass("bar") }) {
		out = append(out, strings.TrimSpace(strings.TrimPrefix(b.Attr("class"), "bar")))
	}
	return out
}
