package web

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// pathCase is one line of testdata/path_attacks.txt.
type pathCase struct{ raw, want string }

func loadPathCorpus(t *testing.T) []pathCase {
	t.Helper()
	f, err := os.Open("testdata/path_attacks.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pathCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			t.Fatalf("bad corpus line %q", line)
		}
		out = append(out, pathCase{fields[0], fields[1]})
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

func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "/%2e%2e/", "//x;y/z/", "/a%2fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := CanonicalPath(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.Contains(got, "//") || strings.Contains(got, "\\") {
			t.Fatalf("%q -> %q", raw, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("%q -> %q keeps a dot segment", raw, got)
			}
		}
		again, err := CanonicalPath(escapePath(got))
		if err != nil || again != got {
			t.Fatalf("%q -> %q -> %q, %v", raw, got, again, err)
		}
	})
}
