package sshd

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on what a client may send as a command.
const (
	maxLineBytes = 4096
	maxArgs      = 256
)

var errLineTooLong = fmt.Errorf("command line longer than %d bytes", maxLineBytes)

// splitWords splits a command line into words. Single and double quotes
// group words; a backslash escapes the next character outside single
// quotes. It refuses lines that are too long, not UTF-8, or contain control
// characters.
func splitWords(line string) ([]string, error) {
	if len(line) > maxLineBytes {
		return nil, errLineTooLong
	}
	if !utf8.ValidString(line) {
		return nil, errors.New("command line is not valid UTF-8")
	}
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range line {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return nil, errors.New("command line contains control characters")
		}
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if escaped {
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) > maxArgs {
		return nil, fmt.Errorf("more than %d words", maxArgs)
	}
	return words, nil
}

// flagSpec says which --flags a command takes and whether they take a value.
type flagSpec map[string]bool // name -> takes a value

// parsed holds a command's flags and positional arguments.
type parsed struct {
	flags map[string]string
	args  []string
}

func (p parsed) has(name string) bool   { _, ok := p.flags[name]; return ok }
func (p parsed) get(name string) string { return p.flags[name] }

// parseFlags separates --flags (anywhere on the line) from positional
// arguments. "--" ends flag parsing. Unknown flags are errors.
func parseFlags(words []string, spec flagSpec) (parsed, error) {
	p := parsed{flags: map[string]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			p.args = append(p.args, words[i+1:]...)
			break
		}
		if !strings.HasPrefix(w, "--") || len(w) == 2 {
			p.args = append(p.args, w)
			continue
		}
		name, val, hasVal := strings.Cut(w[2:], "=")
		takes, ok := spec[name]
		if !ok {
			return parsed{}, fmt.Errorf("unknown flag --%s", name)
		}
		switch {
		case takes && !hasVal:
			if i+1 >= len(words) {
				return parsed{}, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = words[i]
		case !takes && hasVal:
			return parsed{}, fmt.Errorf("flag --%s takes no value", name)
		}
		if _, dup := p.flags[name]; dup {
			return parsed{}, fmt.Errorf("flag --%s given twice", name)
		}
		p.flags[name] = val
	}
	return p, nil
}
