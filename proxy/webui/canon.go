package webui

import (
	"errors"
	"net/url"
	"strings"
)

// errPath is why a path is refused; the text is safe for users.
var errPath = errors.New("the request path is not allowed")

// CanonicalPath returns the one canonical form of an escaped request path:
// each segment percent-decoded exactly once, matrix parameters (";x=y")
// removed, empty and "." segments dropped, ".." resolved, a trailing slash
// kept. It refuses, rather than guesses at, anything a server might read
// differently from the gateway: a ".." above the root, an encoded '/', '\',
// ';' or '%' (double encoding), a backslash, and control characters. The
// canonical path is both what is classified and what is forwarded.
func CanonicalPath(escaped string) (string, error) {
	if escaped == "" {
		return "/", nil
	}
	if escaped[0] != '/' || strings.ContainsAny(escaped, "\\#?") {
		return "", errPath
	}
	raw := strings.Split(escaped[1:], "/")
	segs := make([]string, 0, len(raw))
	for _, r := range raw {
		r, _, _ = strings.Cut(r, ";") // matrix parameters
		seg, err := url.PathUnescape(r)
		if err != nil {
			return "", errPath
		}
		if strings.ContainsAny(seg, "/\\;%") || hasControl(seg) {
			return "", errPath
		}
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(segs) == 0 {
				return "", errPath
			}
			segs = segs[:len(segs)-1]
			continue
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return "/", nil
	}
	p := "/" + strings.Join(segs, "/")
	if last := raw[len(raw)-1]; last == "" || last == "." || last == ".." {
		p += "/"
	}
	return p, nil
}

// matchKey is the form of a canonical path used for matching operations:
// lower case (Redfish services differ in case handling), no trailing slash.
func matchKey(canonical string) string {
	k := strings.ToLower(strings.TrimSuffix(canonical, "/"))
	if k == "" {
		return "/"
	}
	return k
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// escapePath escapes a canonical path for the request line.
func escapePath(canonical string) string {
	return (&url.URL{Path: canonical}).EscapedPath()
}
