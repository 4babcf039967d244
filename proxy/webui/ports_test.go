package webui

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestExtraPortOrigins: a request to an extra port carries the Origin of
// the page that made it, mapped to the BMC origin of that page's port; the
// port's own public host is one of the BMC's origins only when mapped.
func TestExtraPortOrigins(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "https://"+r.Host+"/kvm", http.StatusFound)
		}
	})
	main, kvm := newFakeBMC(t, ok), newFakeBMC(t, ok)
	kvmPort, _ := strconv.Atoi(kvm.srv.URL[strings.LastIndex(kvm.srv.URL, ":")+1:])
	cfg := pinnedConfig(main)
	cfg.ExtraPorts = []int{kvmPort}
	p := mustNew(t, cfg)
	const portHost = publicHost + ":15900"
	mapped := func(port int) string {
		if port == kvmPort {
			return portHost
		}
		return ""
	}
	fr := newFront(t, p, Request{Port: kvmPort, PortHost: mapped})
	unmapped := newFront(t, p, Request{Port: kvmPort})
	mainOrigin, kvmOrigin := "https://"+main.hostPort(), "https://"+kvm.hostPort()

	tests := []struct {
		name           string
		fr             *front
		origin, refer  string
		status         int
		wantO, wantRef string // what the KVM port saw
	}{
		{"page of the BMC host", fr, "https://" + publicHost, "https://" + publicHost + "/console", 200, mainOrigin, mainOrigin + "/console"},
		{"page of the port host", fr, "https://" + portHost, "https://" + portHost + "/viewer", 200, kvmOrigin, kvmOrigin + "/viewer"},
		{"another port", fr, "https://" + publicHost + ":9999", "", 403, "", ""},
		{"port host not mapped", unmapped, "https://" + portHost, "", 403, "", ""},
		{"foreign site", fr, "https://evil.example", "", 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := kvm.hitCount()
			hdr := map[string]string{"Origin": tt.origin}
			if tt.refer != "" {
				hdr["Referer"] = tt.refer
			}
			resp, body := tt.fr.do(t, "POST", "/data", strings.NewReader("x"), hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status != 200 {
				if kvm.hitCount() != n {
					t.Error("refused request reached the BMC")
				}
				return
			}
			h := kvm.lastHit().Header
			if h.Get("Origin") != tt.wantO || h.Get("Referer") != tt.wantRef {
				t.Errorf("KVM port saw Origin %q Referer %q, want %q %q", h.Get("Origin"), h.Get("Referer"), tt.wantO, tt.wantRef)
			}
		})
	}

	// The KVM port's redirects to itself point at the public port host.
	resp, _ := fr.do(t, "GET", "/moved", nil, nil)
	if loc := resp.Header.Get("Location"); loc != "https://"+portHost+"/kvm" {
		t.Errorf("Location %q", loc)
	}
}

func TestServesPort(t *testing.T) {
	p := mustNew(t, Config{Name: "n", URL: "https://10.0.0.5:8443", ExtraPorts: []int{5900}, TLS: TLS{InsecureSkipVerifyDangerous: true}})
	for port, want := range map[int]bool{8443: true, 5900: true, 443: false, 5901: false, 0: false} {
		if got := p.ServesPort(port); got != want {
			t.Errorf("ServesPort(%d) = %v, want %v", port, got, want)
		}
	}
}
