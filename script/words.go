package script

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A word is a word of a script line as split, before its variables are
// expanded.
type word struct {
	parts []wordPart
	sep   bool // an unquoted ";", separating the commands of spawn-par
}

// wordPart is literal text, or a reference to the variable named text.
type wordPart struct {
	text string
	ref  bool
}

// splitter splits lines into words, in time linear in their length.
// Literal text is kept as a piece of the line while a word has one piece,
// and gathered in a strings.Builder when it has more. The words of a line
// and their parts are gathered in scratch slices reused from line to line,
// then copied out at their size: two allocations a line, and one more for
// each word that is not a plain piece of the line.
type splitter struct {
	line string

	// Scratch, for the line being split.
	spans []span     // the words, as spans of parts
	parts []wordPart // the parts of every word, in order
	open  bool       // the last span is a word still being read

	// Literal text of the open word, not yet in a part: pieces pieces,
	// the first one in piece, all of them in lit once there are two.
	pieces int
	piece  string
	lit    strings.Builder
}

// A span is a word of the line being split: its parts are parts[start:]
// up to the next span's start.
type span struct {
	start int
	sep   bool
}

// start makes sure a word is open.
func (s *splitter) start() {
	if !s.open {
		s.spans = append(s.spans, span{start: len(s.parts)})
		s.open = true
	}
}

// text adds literal text to the open word, opening one if need be.
func (s *splitter) text(t string) {
	s.start()
	switch s.pieces {
	case 0:
		s.piece = t
	case 1:
		s.lit.WriteString(s.piece)
		s.lit.WriteString(t)
	default:
		s.lit.WriteString(t)
	}
	s.pieces++
}

// flush moves the gathered literal text into a part of the open word.
func (s *splitter) flush() {
	text := s.piece
	if s.pieces > 1 {
		text = s.lit.String()
		s.lit = strings.Builder{} // text keeps its buffer
	}
	if text != "" {
		s.parts = append(s.parts, wordPart{text: text})
	}
	s.pieces, s.piece = 0, ""
}

// ref adds a reference to the variable name to the open word.
func (s *splitter) ref(name string) {
	s.start()
	s.flush()
	s.parts = append(s.parts, wordPart{text: name, ref: true})
}

// end closes the open word, if any.
func (s *splitter) end() {
	if s.open {
		s.flush()
		s.open = false
	}
}

// words returns the words of the line, copied out of the scratch slices.
func (s *splitter) words() []word {
	s.end()
	if len(s.spans) == 0 {
		return nil
	}
	parts := slices.Clone(s.parts)
	words := make([]word, len(s.spans))
	for i, sp := range s.spans {
		end := len(parts)
		if i+1 < len(s.spans) {
			end = s.spans[i+1].start
		}
		words[i] = word{parts: parts[sp.start:end:end], sep: sp.sep}
	}
	return words
}

// variable reads a reference at s.line[i:], just after '$', and returns
// the index after it. A '$' followed by no name is itself.
func (s *splitter) variable(i int) (int, error) {
	line := s.line
	if i < len(line) && line[i] == '{' {
		j := strings.IndexByte(line[i:], '}')
		if j < 0 {
			return 0, errors.New("unclosed ${")
		}
		name := line[i+1 : i+j]
		if !isName(name) {
			return 0, fmt.Errorf("bad variable name %q", name)
		}
		s.ref(name)
		return i + j + 1, nil
	}
	j := i
	for j < len(line) && (line[j] == '_' || 'a' <= line[j]|32 && line[j]|32 <= 'z' || j > i && '0' <= line[j] && line[j] <= '9') {
		j++
	}
	if j == i {
		s.text("$")
		return i, nil
	}
	s.ref(line[i:j])
	return j, nil
}

// plain reports whether c is copied as it is outside quotes.
func plain(c byte) bool {
	switch c {
	case ' ', '\t', '\r', ';', '\'', '"', '\\', '$':
		return false
	}
	return true
}

// split splits a line into words as a shell does: blanks separate words;
// '...' quotes literally; "..." quotes with \", \\ and \$ escapes and
// variables; a backslash escapes the next character; $NAME and ${NAME}
// refer to variables outside single quotes; an unquoted ';' is a separator
// and an unquoted '#' at the start of a word begins a comment.
func (s *splitter) split(line string) ([]word, error) {
	s.line, s.spans, s.parts, s.open = line, s.spans[:0], s.parts[:0], false
	s.pieces, s.piece, s.lit = 0, "", strings.Builder{}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			s.end()
			i++
		case c == '#' && !s.open:
			return s.words(), nil
		case c == ';':
			s.end()
			s.spans = append(s.spans, span{start: len(s.parts), sep: true})
			i++
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed single quote")
			}
			s.text(line[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			s.start() // "" is an empty word
			i++
			for {
				if i >= len(line) {
					return nil, errors.New("unclosed double quote")
				}
				c := line[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`, line[i+1]) >= 0 {
					s.text(line[i+1 : i+2])
					i += 2
					continue
				}
				if c == '$' {
					var err error
					if i, err = s.variable(i + 1); err != nil {
						return nil, err
					}
					continue
				}
				// A run of ordinary characters at once.
				j := i + 1
				for j < len(line) && line[j] != '"' && line[j] != '\\' && line[j] != '$' {
					j++
				}
				s.text(line[i:j])
				i = j
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("backslash at the end of the line")
			}
			s.text(line[i+1 : i+2])
			i += 2
		case c == '$':
			var err error
			if i, err = s.variable(i + 1); err != nil {
				return nil, err
			}
		default:
			j := i + 1
			for j < len(line) && plain(line[j]) {
				j++
			}
			s.text(line[i:j])
			i = j
		}
	}
	return s.words(), nil
}

// nameRE matches a variable name.
// A host's variables have one dotted attribute: ${n1.addr}, ${n1.host},
// ${n1.dir}.
var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.(addr|host|dir))?$`)

// isName reports whether s is a variable name.
func isName(s string) bool { return nameRE.MatchString(s) }
