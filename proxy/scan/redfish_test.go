package scan

import (
	"context"
	"crypto/x509"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// fakeRedfish is a RedfishSource with fixed answers.
type fakeRedfish struct {
	protocols map[string]redfish.Protocol
	cert      *x509.Certificate
	accounts  []redfish.Account
	sessions  []redfish.SessionInfo
	err       error
}

func (f *fakeRedfish) NetworkProtocols(context.Context, redfish.Endpoint) (map[string]redfish.Protocol, error) {
	return f.protocols, f.err
}
func (f *fakeRedfish) FirmwareInventory(context.Context, redfish.Endpoint) ([]redfish.Firmware, error) {
	return nil, f.err
}
func (f *fakeRedfish) Accounts(context.Context, redfish.Endpoint) ([]redfish.Account, error) {
	return f.accounts, f.err
}
func (f *fakeRedfish) Sessions(context.Context, redfish.Endpoint) ([]redfish.SessionInfo, error) {
	return f.sessions, f.err
}
func (f *fakeRedfish) Certificate(context.Context, redfish.Endpoint) (*x509.Certificate, error) {
	return f.cert, f.err
}

// TestRedfishFindings: each Redfish-side finding from what the service
// answers, as a clean base plus one change. The gateway's own account and
// sessions are not findings; a service that answers nothing is unreachable.
func TestRedfishFindings(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ca, caKey, _ := testCert(t, "ca", now.Add(5*365*24*time.Hour), nil, nil, true)
	good, _, _ := testCert(t, "bmc", now.Add(365*24*time.Hour), ca, caKey, false)
	soon, _, _ := testCert(t, "bmc", now.Add(10*24*time.Hour), ca, caKey, false)
	self, _, _ := testCert(t, "bmc", now.Add(365*24*time.Hour), nil, nil, false)
	on, off := true, false
	base := func() *fakeRedfish {
		return &fakeRedfish{
			protocols: map[string]redfish.Protocol{"HTTPS": {Enabled: &on, Port: 443}, "IPMI": {Enabled: &off, Port: 623},
				"HTTP": {Enabled: &off, Port: 80}, "SSDP": {Enabled: &off, Port: 1900}},
			cert:     good,
			accounts: []redfish.Account{{UserName: "gw", RoleID: "Administrator", Enabled: true}, {UserName: "ops", RoleID: "Operator", Enabled: true}, {UserName: "old", RoleID: "Administrator"}},
			sessions: []redfish.SessionInfo{{ID: "1", UserName: "gw", Own: true}},
		}
	}
	for _, c := range []struct {
		name   string
		change func(f *fakeRedfish)
		want   []string
	}{
		{"clean", func(*fakeRedfish) {}, nil},
		{"IPMI over LAN", func(f *fakeRedfish) { f.protocols["IPMI"] = redfish.Protocol{Enabled: &on, Port: 623} }, []string{IDIPMIOverLAN}},
		{"plain HTTP", func(f *fakeRedfish) { f.protocols["HTTP"] = redfish.Protocol{Enabled: &on, Port: 80} }, []string{IDPlainHTTP}},
		{"SSDP", func(f *fakeRedfish) { f.protocols["SSDP"] = redfish.Protocol{Enabled: &on} }, []string{IDSSDP}},
		{"a protocol without ProtocolEnabled", func(f *fakeRedfish) { f.protocols["HTTP"] = redfish.Protocol{Port: 80} }, nil},
		{"self-signed", func(f *fakeRedfish) { f.cert = self }, []string{IDRedfishTLSSelf}},
		{"expiring in 10 days", func(f *fakeRedfish) { f.cert = soon }, []string{IDRedfishTLSExpiry}},
		{"another Administrator", func(f *fakeRedfish) {
			f.accounts = append(f.accounts, redfish.Account{UserName: "intruder", RoleID: "administrator", Enabled: true})
		}, []string{IDExtraAdmins}},
		{"a session from elsewhere", func(f *fakeRedfish) {
			f.sessions = append(f.sessions, redfish.SessionInfo{ID: "2", UserName: "gw", ClientIP: "10.0.0.9"})
		}, []string{IDForeignSessions}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := base()
			c.change(f)
			r := &Report{}
			ScanRedfish(t.Context(), r, f, redfish.Endpoint{Username: "gw"}, now)
			var got []string
			for _, x := range r.Findings {
				got = append(got, x.ID)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, c.want) || !r.Reachable || len(r.Problems) != 0 {
				t.Fatalf("findings %v (problems %v, reachable %v), want %v", got, r.Problems, r.Reachable, c.want)
			}
		})
	}
	r := &Report{}
	ScanRedfish(t.Context(), r, &fakeRedfish{err: errors.New("connection refused")}, redfish.Endpoint{}, now)
	if r.Reachable || len(r.Findings) != 0 || len(r.Problems) != 5 {
		t.Fatalf("unreachable service: %+v", r)
	}
}
