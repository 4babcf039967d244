package web

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestSafeReturnCorpus(t *testing.T) {
	f, err := os.Open("testdata/openredirects.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, `"`) {
			if line, err = strconv.Unquote(line); err != nil {
				t.Fatalf("bad corpus line %q", sc.Text())
			}
		}
		n++
		if got := safeReturn(line); got != "/" {
			t.Errorf("safeReturn(%q) = %q, want /", line, got)
		}
	}
	if n < 20 {
		t.Fatalf("corpus has only %d entries", n)
	}
}

func TestSafeReturnKeepsLocalPaths(t *testing.T) {
	for _, p := range []string{"/", "/bmc/node01", "/bmc/node01/power/cycle", "/audit?user=alice&code=auth.login", "/bmc/rack%3Dr1"} {
		if got := safeReturn(p); got != p {
			t.Errorf("safeReturn(%q) = %q", p, got)
		}
	}
}
