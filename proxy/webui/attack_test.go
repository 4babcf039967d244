package webui

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawRequest writes one request line and headers as given and returns the
// status code.
func rawRequest(t *testing.T, addr, requestLine string, headers ...string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := requestLine + "\r\nHost: " + publicHost + "\r\n" + strings.Join(headers, "") + "Connection: close\r\n\r\n"
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", requestLine, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPathAndHostAttacks sends the corpus and absolute-URI and Host tricks
// through the proxy: nothing reaches a loopback service or another BMC, and
// what the BMC receives is exactly the canonical path.
func TestPathAndHostAttacks(t *testing.T) {
	var loopbackHits, otherHits atomic.Int32
	loopback := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { loopbackHits.Add(1) }))
	defer loopback.Close()
	other := newFakeBMC(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { otherHits.Add(1) }))
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	fr := newFront(t, mustNew(t, pinnedConfig(bmc)), Request{})
	addr := strings.TrimPrefix(fr.srv.URL, "http://")
	lb := strings.TrimPrefix(loopback.URL, "http://")

	for _, c := range loadPathCorpus(t) {
		n := bmc.hitCount()
		code := rawRequest(t, addr, "GET "+c.raw+" HTTP/1.1")
		if c.want == "REFUSE" {
			if code != http.StatusBadRequest || bmc.hitCount() != n {
				t.Errorf("%s: status %d, forwarded %v", c.raw, code, bmc.hitCount() != n)
			}
			continue
		}
		if code != 200 {
			t.Errorf("%s: status %d", c.raw, code)
			continue
		}
		if got := bmc.lastHit().URL.EscapedPath(); got != c.want {
			t.Errorf("%s: BMC got %s, want %s", c.raw, got, c.want)
		}
	}

	tricks := []struct {
		line    string
		headers []string
	}{
		{"GET http://" + lb + "/secret HTTP/1.1", nil},
		{"GET https://" + other.hostPort() + "/redfish/v1 HTTP/1.1", nil},
		{"GET http://" + lb + "@" + other.hostPort() + "/x HTTP/1.1", nil},
		{"GET /redfish/v1 HTTP/1.1", []string{"X-Forwarded-Host: " + lb + "\r\n", "X-Original-URL: http://" + lb + "/\r\n"}},
		{"GET //" + lb + "/secret HTTP/1.1", nil},
		{"GET /%2f%2f" + lb + "/secret HTTP/1.1", nil},
		{"GET /..//" + lb + " HTTP/1.1", nil},
		{"CONNECT " + lb + " HTTP/1.1", nil},
		{"TRACE / HTTP/1.1", nil},
		{"GET /redfish/v1 HTTP/1.1", []string{"Connection: Upgrade\r\n", "Upgrade: h2c\r\n"}},
	}
	for _, tr := range tricks {
		rawRequest(t, addr, tr.line, tr.headers...)
	}
	if loopbackHits.Load() != 0 || otherHits.Load() != 0 {
		t.Errorf("a trick reached the loopback service (%d) or another BMC (%d)", loopbackHits.Load(), otherHits.Load())
	}
	bmc.mu.Lock()
	defer bmc.mu.Unlock()
	for _, r := range bmc.hits {
		if r.Header.Get("Upgrade") != "" {
			t.Errorf("upgrade forwarded: %v", r.Header)
		}
		if r.Method == http.MethodConnect || r.Method == "TRACE" {
			t.Errorf("%s forwarded", r.Method)
		}
		if r.Host != bmc.hostPort() {
			t.Errorf("BMC got Host %q", r.Host)
		}
	}
}

// TestPortMapping: only configured extra ports can be reached, and a request
// for an unmapped port is refused before any connection.
func TestPortMapping(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "main") }))
	kvm := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://"+r.Host+"/viewer")
		w.WriteHeader(http.StatusFound)
	}))
	_, kvmPort, _ := net.SplitHostPort(kvm.hostPort())
	var port int
	fmt.Sscan(kvmPort, &port)
	cfg := pinnedConfig(bmc) // both test servers share one certificate
	cfg.ExtraPorts = []int{port}
	p := mustNew(t, cfg)
	portHost := func(pp int) string {
		if pp == port {
			return "node01-kvm.bmc.test"
		}
		return ""
	}
	fr := newFront(t, p, Request{Port: port, PortHost: portHost})
	resp, _ := fr.do(t, "GET", "/", nil, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://node01-kvm.bmc.test/viewer" {
		t.Errorf("extra port: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	fr = newFront(t, p, Request{Port: 22})
	if resp, _ := fr.do(t, "GET", "/", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unmapped port: %d", resp.StatusCode)
	}
}
