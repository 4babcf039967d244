package web

import (
	"net/url"
	"strings"
)

// safeReturn returns s when it is a path on this site that a browser cannot
// read as another origin, and "/" otherwise. Browsers strip tabs and
// newlines, treat '\' like '/', and read "//host" and "scheme:..." as
// absolute, so all of those are refused, also when percent-encoded.
func safeReturn(s string) string {
	if !localPath(s) {
		return "/"
	}
	// Check every decoding layer: a path that decodes to something unsafe
	// might be decoded once more by the browser or a proxy.
	cur := s
	for range 3 {
		dec, err := url.PathUnescape(cur)
		if err != nil {
			return "/"
		}
		if dec == cur {
			break
		}
		if !localPath(dec) {
			return "/"
		}
		cur = dec
	}
	return s
}

// localPath reports whether s is "/" followed by a path that is not
// protocol-relative, of printable ASCII without spaces or backslashes.
func localPath(s string) bool {
	if len(s) == 0 || len(s) > 1024 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	// Printable ASCII only: whitespace, controls and non-ASCII have no
	// place in a path bmcgate itself links to.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// A colon before the first slash would make a scheme once the leading
	// slash is lost.
	first, _, _ := strings.Cut(strings.TrimPrefix(s, "/"), "/")
	return !strings.Contains(first, ":")
}
