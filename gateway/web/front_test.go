package web

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/refusals"
)

// frontRequest sends a request for target with the given Host header, TLS
// server name (none when sni is "-") and protocol through the whole door.
func frontRequest(s *Server, method, target, host, sni string, h2 bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "https://127.0.0.1"+target, nil)
	req.Host = host
	req.RequestURI = target
	if sni != "-" {
		req.TLS = &tls.ConnectionState{ServerName: sni}
	}
	if h2 {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// TestFrontHostAndPort: the main door answers only the public URL's host
// and port; BMC hosts only on the public port, over HTTP/1.1, on a
// connection made for them.
func TestFrontHostAndPort(t *testing.T) {
	s := newClockServerWith(t, "  public_url: https://gw.example.test:8443\n  proxy_domain: bmc.example.test\n")
	for _, tc := range []struct {
		name, host, sni string
		h2              bool
		want            int
	}{
		{"public host", "gw.example.test:8443", "gw.example.test", true, http.StatusSeeOther},
		{"public host, any case", "GW.Example.Test:8443", "gw.example.test", false, http.StatusSeeOther},
		{"no port", "gw.example.test", "gw.example.test", false, http.StatusMisdirectedRequest},
		{"other port", "gw.example.test:9999", "gw.example.test", false, http.StatusMisdirectedRequest},
		{"other host", "evil.example:8443", "gw.example.test", false, http.StatusMisdirectedRequest},
		{"rebinding: other host, no SNI", "attacker.example:8443", "", false, http.StatusMisdirectedRequest},
		{"address as host", "127.0.0.1:8443", "", false, http.StatusMisdirectedRequest},
		{"SNI of another name", "gw.example.test:8443", "other.example.test", false, http.StatusMisdirectedRequest},
		{"no SNI for a DNS name", "gw.example.test:8443", "", false, http.StatusMisdirectedRequest},
		{"malformed host", "gw.example.test:", "gw.example.test", false, http.StatusMisdirectedRequest},
		{"BMC host", "node01.bmc.example.test:8443", "node01.bmc.example.test", false, http.StatusNotFound}, // no BMC UIs in this server
		{"BMC host, other port", "node01.bmc.example.test:9999", "node01.bmc.example.test", false, http.StatusMisdirectedRequest},
		{"BMC host, default port", "node01.bmc.example.test", "node01.bmc.example.test", false, http.StatusMisdirectedRequest},
		{"BMC host over HTTP/2", "node01.bmc.example.test:8443", "node01.bmc.example.test", true, http.StatusMisdirectedRequest},
		{"BMC host without SNI", "node01.bmc.example.test:8443", "", false, http.StatusMisdirectedRequest},
		{"BMC host on the main connection", "node01.bmc.example.test:8443", "gw.example.test", true, http.StatusMisdirectedRequest},
		{"main host on a BMC connection", "gw.example.test:8443", "node01.bmc.example.test", false, http.StatusMisdirectedRequest},
		{"other BMC on a BMC connection", "node02.bmc.example.test:8443", "node01.bmc.example.test", false, http.StatusMisdirectedRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := frontRequest(s.Server, http.MethodGet, "/", tc.host, tc.sni, tc.h2)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if rec.Code == http.StatusMisdirectedRequest && rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("misdirected answer is %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

// TestFrontFetchMetadata: the gateway's pages answer other sites (BMC
// hosts of the same site included) only top-level navigations.
func TestFrontFetchMetadata(t *testing.T) {
	s := newClockServerWith(t, "  public_url: https://gw.example.test:8443\n  proxy_domain: bmc.example.test\n")
	for _, tc := range []struct {
		site, mode, dest, origin string
		want                     int
	}{
		{"", "", "", "", http.StatusSeeOther},
		{"same-origin", "cors", "empty", "https://gw.example.test:8443", http.StatusSeeOther},
		{"cross-site", "navigate", "document", "", http.StatusSeeOther}, // back from the identity provider
		{"same-site", "navigate", "document", "", http.StatusSeeOther},
		{"same-site", "cors", "empty", "https://node01.bmc.example.test:8443", http.StatusForbidden},
		{"same-site", "no-cors", "image", "", http.StatusForbidden},
		{"same-site", "navigate", "iframe", "", http.StatusForbidden},
		{"cross-site", "no-cors", "script", "", http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "https://gw.example.test:8443/audit", nil)
		req.TLS.ServerName = "gw.example.test"
		for k, v := range map[string]string{"Sec-Fetch-Site": tc.site, "Sec-Fetch-Mode": tc.mode, "Sec-Fetch-Dest": tc.dest, "Origin": tc.origin} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%+v: %d", tc, rec.Code)
		}
	}
}

// TestFrontBoundsReflection: a long request target is refused with 414 on
// both kinds of host, and no redirect reflects more than a bounded return
// path into Location.
func TestFrontBoundsReflection(t *testing.T) {
	s := newClockServerWith(t, "  public_url: https://gw.example.test:8443\n  proxy_domain: bmc.example.test\n")
	long := "/?q=" + strings.Repeat("a", 16<<10)
	for _, host := range []string{"gw.example.test:8443", "node01.bmc.example.test:8443"} {
		sni, _, _ := strings.Cut(host, ":")
		rec := frontRequest(s.Server, http.MethodGet, long, host, sni, false)
		if rec.Code != http.StatusRequestURITooLong || len(rec.Header().Get("Location")) > 0 {
			t.Errorf("%s: %d, Location %d bytes", host, rec.Code, len(rec.Header().Get("Location")))
		}
	}
	// Just under the limit: the login redirect drops a return path it
	// would not follow, rather than reflecting it.
	under := "/audit?q=" + strings.Repeat("a", httpfront.MaxRequestURI-20)
	rec := frontRequest(s.Server, http.MethodGet, under, "gw.example.test:8443", "gw.example.test", false)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/login" {
		t.Errorf("long return path: %d, Location %.80q (%d bytes)", rec.Code, loc, len(loc))
	}
	rec = frontRequest(s.Server, http.MethodGet, "/audit?code=x", "gw.example.test:8443", "gw.example.test", false)
	if loc := rec.Header().Get("Location"); loc != "/login?return=%2Faudit%3Fcode%3Dx" {
		t.Errorf("short return path: Location %q", loc)
	}
}

// TestStaticNoListing: static files are served, directories are not listed.
func TestStaticNoListing(t *testing.T) {
	s := newClockServer(t)
	for target, want := range map[string]int{
		"/static/app.js":    http.StatusOK,
		"/static/style.css": http.StatusOK,
		"/static/":          http.StatusNotFound,
		"/static":           http.StatusTemporaryRedirect, // the mux adds the slash

		"/static/nothing": http.StatusNotFound,
		"/static/app.js/": http.StatusNotFound,
		"/static/./":      http.StatusTemporaryRedirect, // the mux cleans the path first
	} {
		rec := frontRequest(s.Server, http.MethodGet, target, "127.0.0.1:8443", "-", false)
		if rec.Code != want || strings.Contains(rec.Body.String(), "app.js\"") {
			t.Errorf("%s: %d, want %d: %.100s", target, rec.Code, want, rec.Body)
		}
	}
}

// records returns the audit records of code.
func (s *clockServer) records(t *testing.T, code string) []audit.Record {
	t.Helper()
	var out []audit.Record
	if err := s.audit.Search(context.Background(), audit.Query{Code: code}, func(r audit.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefusalsAggregated: a flood of refused requests from one source
// writes one record at once and one summary with the count, not one record
// each.
func TestRefusalsAggregated(t *testing.T) {
	s := newClockServerWith(t, "  public_url: https://gw.example.test:8443\n  proxy_domain: bmc.example.test\n")
	const n = 500
	for range n {
		if rec := frontRequest(s.Server, http.MethodGet, "/", "evil.example:8443", "gw.example.test", false); rec.Code != http.StatusMisdirectedRequest {
			t.Fatalf("status %d", rec.Code)
		}
	}
	long := "/?" + strings.Repeat("a", httpfront.MaxRequestURI)
	for range n {
		frontRequest(s.Server, http.MethodGet, long, "gw.example.test:8443", "gw.example.test", false)
	}
	recs := s.records(t, audit.CodeDecision)
	if len(recs) != 2 || !strings.Contains(recs[0].Reason, "misdirected") || !strings.Contains(recs[1].Reason, "longer than") {
		t.Fatalf("%d records during the flood: %+v", len(recs), recs)
	}
	if err := s.refused.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs = s.records(t, audit.CodeDecision)
	if len(recs) != 4 || recs[2].Fields[refusals.FieldRepeats] != strconv.Itoa(n-1) || recs[3].Fields[refusals.FieldRepeats] != strconv.Itoa(n-1) {
		t.Fatalf("after the interval: %+v", recs)
	}
}
