package web

import (
	"bufio"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// browserResolve resolves a return path against the gateway's page the
// way a lenient browser reads it: tabs and newlines dropped, backslashes
// as slashes.
func browserResolve(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(u), nil
}

// FuzzSafeReturn: the return path after login is the path given or "/",
// safeReturn is idempotent, and a path it keeps stays on the gateway's
// origin in a lenient browser's reading, also after up to three more
// percent-decodings (by a proxy or the browser).
func FuzzSafeReturn(f *testing.F) {
	for _, s := range []string{"/", "/bmc/node01", "/audit?user=alice&code=auth.login", "/bmc/rack%3Dr1", "/a:b", "/%2e%2e/x"} {
		f.Add(s)
	}
	if fh, err := os.Open("testdata/openredirects.txt"); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if u, err := strconv.Unquote(line); err == nil {
				line = u
			}
			f.Add(line)
		}
		fh.Close()
	}
	base, _ := url.Parse("https://gw.example.com:8443/login")
	f.Fuzz(func(t *testing.T, s string) {
		got := safeReturn(s)
		if got != "/" && got != s {
			t.Fatalf("safeReturn(%q) = %q", s, got)
		}
		if again := safeReturn(got); again != got {
			t.Fatalf("safeReturn(%q) = %q, then %q", s, got, again)
		}
		cur := got
		for range 4 {
			u, err := browserResolve(base, cur)
			if err == nil && (u.Scheme != "https" || u.Host != base.Host || u.User != nil) {
				t.Fatalf("safeReturn(%q) = %q, which a browser reads as %s", s, got, u)
			}
			dec, err := url.PathUnescape(cur)
			if err != nil || dec == cur {
				break
			}
			cur = dec
		}
	})
}
