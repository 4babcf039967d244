package scan

import (
	"context"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// testCreds is a small default-credential list for tests.
var testCreds = []Credential{
	{Vendor: "Dell", Username: "root", Password: "calvin"},
	{Vendor: "Supermicro", Username: "ADMIN", Password: "ADMIN"},
	{Vendor: "IBM/Lenovo", Username: "USERID", Password: "PASSW0RD"},
}

// startSim runs a bmcsim BMC for the test.
func startSim(t *testing.T, opts bmcsim.Options) *bmcsim.BMC {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bmcsim.Start(ctx, t.Name(), opts)
	if err != nil {
		cancel()
		t.Fatalf("start bmcsim: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = b.Close() })
	return b
}

func simEndpoint(b *bmcsim.BMC, user, pass string, priv ipmi.Privilege) ipmi.Endpoint {
	return ipmi.Endpoint{Name: "bmc1", Host: b.Host(), Port: b.Port(), Username: user, Password: pass, CipherSuite: 3, Privilege: priv}
}

func testScanner() *Scanner {
	return New(Options{Interval: time.Millisecond, Timeout: 500 * time.Millisecond, Credentials: testCreds,
		IPMI: ipmi.Options{ConnectTimeout: 2 * time.Second, CallTimeout: 2 * time.Second}})
}

func ids(r *Report) map[string]bool {
	m := map[string]bool{}
	for _, f := range r.Findings {
		m[f.ID] = true
	}
	return m
}
