package webui

import (
	"bytes"
	"io"
	"mime"
	"strings"
)

// rewritableTypes are the response media types whose bodies may carry
// absolute links to the BMC's own address.
var rewritableTypes = map[string]bool{
	"text/html":                true,
	"application/xhtml+xml":    true,
	"text/javascript":          true,
	"application/javascript":   true,
	"application/x-javascript": true,
	"text/css":                 true,
}

func rewritable(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && rewritableTypes[strings.ToLower(mt)]
}

// replacement is one literal substitution; the byte after a match must not
// continue a host name (so "10.0.0.5" does not match in "10.0.0.50").
type replacement struct {
	old, new []byte
}

// replacements returns the request's linkReplacements, built once.
func (s *reqState) replacements() []replacement {
	if s.reps == nil {
		s.reps = linkReplacements(s.p.t, s.req.PublicHost, s.req.PortHost)
	}
	return s.reps
}

// linkReplacements returns the substitutions that point absolute links to
// the BMC (every scheme, with and without its port, and JSON-escaped
// slashes) at the public host.
func linkReplacements(t *target, publicHost string, portHost func(int) string) []replacement {
	var out []replacement
	add := func(authority, public string) {
		if public == "" {
			return
		}
		for _, p := range [][2]string{
			{"https://", "https://"}, {"http://", "https://"},
			{"wss://", "wss://"}, {"ws://", "wss://"},
			{`https:\/\/`, `https:\/\/`}, {`http:\/\/`, `https:\/\/`},
			{"//", "//"}, {`\/\/`, `\/\/`},
		} {
			out = append(out, replacement{old: []byte(p[0] + authority), new: []byte(p[1] + public)})
		}
	}
	host := hostLiteral(t.host)
	add(t.authority(t.port), publicHost)
	if t.port != 443 {
		add(host, publicHost)
	} else {
		add(host+":443", publicHost)
	}
	for p := range t.extra {
		if portHost != nil {
			add(t.authority(p), portHost(p))
		}
	}
	return out
}

// linkRewriter rewrites a body stream with a set of replacements, holding
// back no more than the longest pattern between reads: memory stays bounded
// whatever the body's size.
type linkRewriter struct {
	src     io.ReadCloser
	reps    []replacement
	maxLen  int
	chunk   []byte
	pending []byte
	out     []byte
	err     error
}

const rewriteChunk = 32 << 10

func newLinkRewriter(src io.ReadCloser, reps []replacement) *linkRewriter {
	m := 0
	for _, r := range reps {
		m = max(m, len(r.old))
	}
	return &linkRewriter{src: src, reps: reps, maxLen: m, chunk: make([]byte, rewriteChunk)}
}

func (l *linkRewriter) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if l.err != nil {
			if len(l.pending) > 0 {
				l.process(true)
				continue
			}
			return 0, l.err
		}
		n, err := l.src.Read(l.chunk)
		l.pending = append(l.pending, l.chunk[:n]...)
		if err != nil {
			l.err = err
		}
		l.process(err != nil)
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

func (l *linkRewriter) Close() error { return l.src.Close() }

// process moves rewritten bytes from pending to out. Unless final, the last
// maxLen bytes stay pending: a match (plus the byte after it) may straddle
// the next read.
func (l *linkRewriter) process(final bool) {
	limit := len(l.pending)
	if !final {
		limit -= l.maxLen
	}
	i := 0
	for i < limit {
		j, rep := l.next(i, final)
		if j < 0 || j >= limit {
			l.out = append(l.out, l.pending[i:limit]...)
			i = limit
			break
		}
		l.out = append(l.out, l.pending[i:j]...)
		l.out = append(l.out, rep.new...)
		i = j + len(rep.old)
	}
	if i < 0 {
		i = 0
	}
	l.pending = append(l.pending[:0:0], l.pending[i:]...)
}

// next finds the earliest match at or after i (longest on ties).
func (l *linkRewriter) next(i int, final bool) (int, *replacement) {
	best, bestRep := -1, (*replacement)(nil)
	for k := range l.reps {
		r := &l.reps[k]
		from := i
		for {
			j := bytes.Index(l.pending[from:], r.old)
			if j < 0 {
				break
			}
			j += from
			end := j + len(r.old)
			if end < len(l.pending) && hostByte(l.pending[end]) {
				from = j + 1
				continue
			}
			if end == len(l.pending) && !final {
				// The next byte is unknown yet; process holds it back.
				break
			}
			if best < 0 || j < best || j == best && len(r.old) > len(bestRep.old) {
				best, bestRep = j, r
			}
			break
		}
	}
	return best, bestRep
}

// hostByte reports whether c can continue a host name or IP literal.
func hostByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':'
}

// rewriteString applies replacements to a short text, such as a header.
func rewriteString(s string, reps []replacement) string {
	l := newLinkRewriter(io.NopCloser(strings.NewReader(s)), reps)
	l.chunk = make([]byte, len(s)+1)
	b, err := io.ReadAll(l)
	if err != nil {
		return s
	}
	return string(b)
}
