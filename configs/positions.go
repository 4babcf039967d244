package configs

import (
	"regexp"
	"strconv"
	"strings"
)

// position is a place in the config file.
type position struct {
	line, col int
}

// positions maps field paths ("bmcs[0].ipmi.username") to where they are
// written: the key of a mapping entry, or the item of a list.
type positions map[string]position

// lookup returns the position of field, or of its nearest ancestor written
// in the file (so a missing field points at its parent), or 0, 0.
func (p positions) lookup(field string) (line, col int) {
	for f := field; f != ""; f = parentPath(f) {
		if pos, ok := p[f]; ok {
			return pos.line, pos.col
		}
	}
	return 0, 0
}

// has reports whether field is written in the file.
func (p positions) has(field string) bool {
	_, ok := p[field]
	return ok
}

// Pos returns the line and column where field (a path like
// "roles[0].allow[1].bmcs[2]") is written, or those of its nearest written
// ancestor, or 0, 0.
func (c *Config) Pos(field string) (line, col int) {
	return c.pos.lookup(field)
}

// simpleKey matches map keys that can follow a dot in a field path.
var simpleKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldPath appends a struct field name to a path.
func fieldPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// indexPath appends a list index to a path.
func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// keyPath appends a map key to a path: ".key" when the key is simple,
// otherwise a quoted ["key"].
func keyPath(parent, key string) string {
	if simpleKey.MatchString(key) {
		return fieldPath(parent, key)
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

// parentPath removes the last element of a path: "a.b[2]" -> "a.b" -> "a" -> "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		// Find the '[' that opens the last element, skipping a quoted key.
		if i := strings.LastIndex(p, "[\""); i >= 0 && strings.HasSuffix(p, "\"]") {
			if _, err := strconv.Unquote(p[i+1 : len(p)-1]); err == nil {
				return p[:i]
			}
		}
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}
