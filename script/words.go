package script

import (
	"errors"
	"fmt"
	"regexp"
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

// splitWords splits a line into words as a shell does: blanks separate
// words; '...' quotes literally; "..." quotes with \", \\ and \$ escapes
// and variables; a backslash escapes the next character; $NAME and
// ${NAME} refer to variables outside single quotes; an unquoted ';' is a
// separator and an unquoted '#' at the start of a word begins a comment.
func splitWords(line string) ([]word, error) {
	var words []word
	var cur *word
	lit := func(s string) {
		if cur == nil {
			words = append(words, word{})
			cur = &words[len(words)-1]
		}
		if n := len(cur.parts); n > 0 && !cur.parts[n-1].ref {
			cur.parts[n-1].text += s
		} else {
			cur.parts = append(cur.parts, wordPart{text: s})
		}
	}
	ref := func(name string) {
		if cur == nil {
			words = append(words, word{})
			cur = &words[len(words)-1]
		}
		cur.parts = append(cur.parts, wordPart{text: name, ref: true})
	}
	// variable reads a reference at line[i:], just after '$', and
	// returns the index after it.
	variable := func(i int) (int, error) {
		if i < len(line) && line[i] == '{' {
			j := strings.IndexByte(line[i:], '}')
			if j < 0 {
				return 0, errors.New("unclosed ${")
			}
			name := line[i+1 : i+j]
			if !isName(name) {
				return 0, fmt.Errorf("bad variable name %q", name)
			}
			ref(name)
			return i + j + 1, nil
		}
		j := i
		for j < len(line) && (line[j] == '_' || 'a' <= line[j]|32 && line[j]|32 <= 'z' || j > i && '0' <= line[j] && line[j] <= '9') {
			j++
		}
		if j == i {
			lit("$")
			return i, nil
		}
		ref(line[i:j])
		return j, nil
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			cur = nil
			i++
		case c == '#' && cur == nil:
			return words, nil
		case c == ';':
			words = append(words, word{sep: true})
			cur = nil
			i++
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed single quote")
			}
			lit(line[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			lit("") // "" is an empty word
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
					lit(line[i+1 : i+2])
					i += 2
					continue
				}
				if c == '$' {
					var err error
					if i, err = variable(i + 1); err != nil {
						return nil, err
					}
					continue
				}
				lit(line[i : i+1])
				i++
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("backslash at the end of the line")
			}
			lit(line[i+1 : i+2])
			i += 2
		case c == '$':
			var err error
			if i, err = variable(i + 1); err != nil {
				return nil, err
			}
		default:
			lit(line[i : i+1])
			i++
		}
	}
	return words, nil
}

// nameRE matches a variable name.
var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// isName reports whether s is a variable name.
func isName(s string) bool { return nameRE.MatchString(s) }
