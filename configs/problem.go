package configs

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when the problem has no single place
	Column int // 1-based; 0 when unknown
	// Field is the path of the field, like "roles[0].allow[1].bmcs[2]";
	// empty for problems with the file as a whole.
	Field   string
	Message string
}

// String formats p as "FILE:LINE: FIELD: MESSAGE", leaving out the parts
// that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is every problem found in a config file. Load and Parse return an
// *Error for any problem with the file's content.
type Error struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// collector gathers problems for one file. Once a field has a problem from
// decoding, later problems about it or anything below it are dropped: they
// would only repeat the first one.
type collector struct {
	file     string
	pos      positions
	problems []Problem
	broken   map[string]bool
}

func newCollector(file string, pos positions) *collector {
	return &collector{file: file, pos: pos, broken: map[string]bool{}}
}

// add records a problem at the position of field (or of its nearest
// ancestor that has one).
func (c *collector) add(field, format string, args ...any) {
	line, col := c.pos.lookup(field)
	c.addAt(line, col, field, fmt.Sprintf(format, args...))
}

// addAt records a problem at an explicit position.
func (c *collector) addAt(line, col int, field, msg string) {
	if c.isBroken(field) {
		return
	}
	c.problems = append(c.problems, Problem{File: c.file, Line: line, Column: col, Field: field, Message: msg})
}

// markBroken records that field could not be decoded.
func (c *collector) markBroken(field string) {
	c.broken[field] = true
}

// isBroken reports whether field or one of its ancestors could not be decoded.
func (c *collector) isBroken(field string) bool {
	for f := field; f != ""; f = parentPath(f) {
		if c.broken[f] {
			return true
		}
	}
	return false
}

// err returns the problems sorted by position as an *Error, or nil.
func (c *collector) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	ps := append([]Problem(nil), c.problems...)
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
	return &Error{Problems: ps}
}
