package httpfront

import (
	"net/http"
	"testing"
)

func TestHostHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"Node01.LocalHost:8443", "node01.localhost", 8443, true},
		{"node01.localhost", "node01.localhost", 443, true},
		{"[::1]:443", "::1", 443, true},
		{"[::1]", "::1", 443, true},
		{"node01.localhost:9999", "node01.localhost", 9999, true},
		{"node01.localhost:", "", 0, false},
		{"node01.localhost:0", "", 0, false},
		{"node01.localhost:65536", "", 0, false},
		{"node01.localhost:x", "", 0, false},
		{"::1", "", 0, false},
		{":443", "", 0, false},
		{"", "", 0, false},
	} {
		host, port, ok := HostPort(tc.in)
		if host != tc.host || port != tc.port || ok != tc.ok {
			t.Errorf("HostPort(%q) = %q %d %v, want %q %d %v", tc.in, host, port, ok, tc.host, tc.port, tc.ok)
		}
	}
	for h, want := range map[string]bool{"node01.localhost": true, "localhost": false, "node01.xlocalhost": false, "": false} {
		if got := UnderDomain(h, "localhost"); got != want {
			t.Errorf("UnderDomain(%q) = %v", h, got)
		}
	}
}

func TestCrossSiteRefusal(t *testing.T) {
	own := func(o string) bool { return o == "https://node01.bmc.test" || o == "https://node01.bmc.test:15900" }
	for _, tc := range []struct {
		method, site, mode, dest, origin string
		refused                          bool
	}{
		{"GET", "", "", "", "", false}, // no Fetch Metadata (old browsers, tools)
		{"GET", "same-origin", "cors", "empty", "", false},
		{"GET", "same-origin", "navigate", "iframe", "", false}, // a BMC UI framing itself
		{"GET", "none", "navigate", "document", "", false},      // typed, bookmarked
		{"GET", "same-site", "navigate", "document", "", false}, // from the dashboard
		{"GET", "cross-site", "navigate", "document", "", false},
		{"HEAD", "cross-site", "navigate", "document", "", false},
		{"GET", "same-site", "websocket", "websocket", "https://node01.bmc.test", false}, // own extra port
		{"POST", "same-site", "cors", "empty", "https://node01.bmc.test:15900", false},
		{"GET", "same-site", "navigate", "iframe", "", true},
		{"GET", "same-site", "navigate", "frame", "", true},
		{"GET", "cross-site", "navigate", "iframe", "", true},
		{"GET", "same-site", "no-cors", "embed", "", true},
		{"GET", "same-site", "no-cors", "object", "", true},
		{"GET", "same-site", "no-cors", "image", "", true},
		{"GET", "same-site", "no-cors", "script", "", true},
		{"GET", "same-site", "cors", "empty", "https://node02.bmc.test", true},
		{"GET", "same-site", "websocket", "websocket", "https://node02.bmc.test", true},
		{"POST", "same-site", "navigate", "document", "https://node02.bmc.test", true},
		{"POST", "cross-site", "navigate", "document", "null", true},
	} {
		r, _ := http.NewRequest(tc.method, "https://node01.bmc.test/", nil)
		for k, v := range map[string]string{"Sec-Fetch-Site": tc.site, "Sec-Fetch-Mode": tc.mode, "Sec-Fetch-Dest": tc.dest, "Origin": tc.origin} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		if got := CrossSiteRefusal(r, own); (got != "") != tc.refused {
			t.Errorf("%+v: refusal %q", tc, got)
		}
	}
}
