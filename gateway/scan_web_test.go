package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// TestScanBMCWebSide checks that a BMC with a configured web interface has
// its TLS side scanned with the IPMI side, and one without is not.
func TestScanBMCWebSide(t *testing.T) {
	sim := startSim(t, "web01", bmcsim.Options{Username: "gw", Password: "Vq8#mZ2!rT6pLw9x", Privilege: "operator"})
	// httptest's certificate is self-signed: a finding on the web side.
	web := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(web.Close)

	sc := scan.New(scan.Options{Interval: time.Millisecond, Timeout: 500 * time.Millisecond})
	ep := ipmi.Endpoint{Name: "web01", Host: sim.Host(), Port: sim.Port(), Username: "gw",
		Password: "Vq8#mZ2!rT6pLw9x", CipherSuite: 3, Privilege: ipmi.PrivOperator}
	tests := []struct {
		name    string
		url     string
		wantWeb bool
	}{
		{"with web interface", web.URL, true},
		{"without web interface", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := service.ScanBMC(context.Background(), sc, &service.BMC{Name: "web01", Endpoint: ep, WebURL: tc.url})
			if !r.Reachable {
				t.Fatalf("BMC unreachable: %v", r.Problems)
			}
			if got := r.Web != nil; got != tc.wantWeb {
				t.Fatalf("web info present = %v, want %v", got, tc.wantWeb)
			}
			if got := r.Has(scan.IDTLSSelfSigned); got != tc.wantWeb {
				t.Errorf("finding %s = %v, want %v (findings %v)", scan.IDTLSSelfSigned, got, tc.wantWeb, r.Findings)
			}
		})
	}
}
