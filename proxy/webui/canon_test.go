package webui

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// pathCase is one line of testdata/path_attacks.txt.
type pathCase struct{ raw, want string }

func loadPathCorpus(t testing.TB) []pathCase {
	t.Helper()
	var out []pathCase
	for _, line := range corpusLines(t, "path_attacks.txt") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("bad corpus line %q", line)
		}
		out = append(out, pathCase{fields[0], fields[1]})
	}
	return out
}

// corpusLines returns the lines of a testdata corpus, trimmed, without
// blank lines and '#' comments.
func corpusLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCanonicalPathCorpus(t *testing.T) {
	for _, c := range loadPathCorpus(t) {
		got, err := CanonicalPath(c.raw)
		if c.want == "REFUSE" {
			if err == nil {
				t.Errorf("%s: accepted as %s", c.raw, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: refused: %v", c.raw, err)
			continue
		}
		if escapePath(got) != c.want {
			t.Errorf("%s: got %s, want %s", c.raw, escapePath(got), c.want)
		}
		// Canonical is a fixed point.
		if again, err := CanonicalPath(escapePath(got)); err != nil || again != got {
			t.Errorf("%s: not idempotent: %q %v", c.raw, again, err)
		}
	}
}

// FuzzCanonicalPath: the canonical path is a fixed point; it holds no dot
// segment, empty segment, backslash, ';', '%' or control character, so its
// escaped form has no encoded slash, backslash or percent; and what the
// BMC's HTTP server reads from the request line the proxy writes is
// exactly the path policy saw.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%2e%2e/", "//x;y/z/", "/a%2fb", "/a%3fb%23c", "/%c3%a9/%e2%80%ae"} {
		f.Add(s)
	}
	for _, c := range loadPathCorpus(f) {
		f.Add(c.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := CanonicalPath(raw)
		if err != nil {
			if got != "" {
				t.Fatalf("%q: %q with error %v", raw, got, err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "//") || strings.ContainsAny(got, "\\;%") || hasControl(got) {
			t.Fatalf("%q -> %q", raw, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("%q -> %q keeps a dot segment", raw, got)
			}
		}
		esc := escapePath(got)
		if l := strings.ToLower(esc); strings.Contains(l, "%2f") || strings.Contains(l, "%5c") || strings.Contains(l, "%25") {
			t.Fatalf("%q -> %q escapes as %q", raw, got, esc)
		}
		again, err := CanonicalPath(esc)
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v", raw, got, again, err)
		}
		// The request line the proxy writes, as a server reads it.
		out := &url.URL{Scheme: "https", Host: "bmc", Path: got, RawQuery: "a=1"}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + out.RequestURI() + " HTTP/1.1\r\nHost: bmc\r\n\r\n")))
		if err != nil || req.URL.Path != got || req.URL.RawQuery != "a=1" {
			t.Fatalf("%q -> %q: the BMC reads %q as %+v, %v", raw, got, out.RequestURI(), req.URL, err)
		}
	})
}
