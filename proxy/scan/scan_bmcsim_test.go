package scan

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bougou/go-ipmi/pkg/types"
)

// insecureSim is a BMC with every weakness bmcsim can show.
func insecureSim(t *testing.T) *bmcsim.BMC {
	return startSim(t, bmcsim.Options{Username: "ADMIN", Password: "ADMIN", CipherSuites: []int{0, 1, 2, 3, 17},
		V15AuthTypes: []string{"none", "password", "md5"}, NullUser: true, SOL: true})
}

// secureSim is a hardened BMC.
func secureSim(t *testing.T) *bmcsim.BMC {
	return startSim(t, bmcsim.Options{Username: "gateway", Password: "k7#Qz9!vR2pLx4Wm", Privilege: "operator", CipherSuites: []int{3, 17}})
}

// setAlert configures LAN alert destination 1 on a simulator.
func setAlert(t *testing.T, ep ipmi.Endpoint, ip [4]byte) {
	t.Helper()
	ep.Privilege = ipmi.PrivAdministrator
	s, err := ipmi.Dial(context.Background(), ep, ipmi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close(context.Background()) }()
	data := []byte{1, 19, 1, 0, 0, ip[0], ip[1], ip[2], ip[3], 0, 0, 0, 0, 0, 0}
	if _, err := s.Client().RawCommand(context.Background(), types.NetFnTransportRequest, 0x01, data, "Set LAN Configuration Parameters"); err != nil {
		t.Fatal(err)
	}
}

func TestScanBMCSimInsecure(t *testing.T) {
	b := insecureSim(t)
	setAlert(t, simEndpoint(b, "ADMIN", "ADMIN", ipmi.PrivAdministrator), [4]byte{192, 0, 2, 7})
	r := testScanner().Scan(context.Background(), simEndpoint(b, "ADMIN", "ADMIN", ipmi.PrivAdministrator))
	js, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("%s", js)
	if !r.Reachable || !r.LoggedIn {
		t.Fatalf("reachable=%v loggedIn=%v problems=%v", r.Reachable, r.LoggedIn, r.Problems)
	}
	got := ids(r)
	for _, id := range []string{IDCipherSuite0, IDWeakCipherSuites, IDAnonymousLogin, IDNullUser, IDDefaultCredentials,
		IDIPMI15None, IDIPMI15Password, IDIPMI15Weak, IDRAKPDisclosure, IDGatewayAdmin, IDExtraAdmins, IDSOLEnabled, IDLANAlerts} {
		if !got[id] {
			t.Errorf("finding %s missing", id)
		}
	}
	if r.PeakSessions != 1 {
		t.Errorf("peak sessions = %d, want 1", r.PeakSessions)
	}
	if r.Worst() != Critical {
		t.Errorf("worst = %s, want critical", r.Worst())
	}
	if strings.Contains(string(js), "password\": \"ADMIN") {
		t.Errorf("report leaks a password")
	}
	if !slices.Equal(r.Alerts, []string{"192.0.2.7"}) {
		t.Errorf("alerts = %v", r.Alerts)
	}
}

func TestScanBMCSimSecure(t *testing.T) {
	b := secureSim(t)
	r := testScanner().Scan(context.Background(), simEndpoint(b, "gateway", "k7#Qz9!vR2pLx4Wm", ipmi.PrivOperator))
	js, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("%s", js)
	if !r.Reachable || !r.LoggedIn || len(r.Problems) > 0 {
		t.Fatalf("reachable=%v loggedIn=%v problems=%v", r.Reachable, r.LoggedIn, r.Problems)
	}
	for _, f := range r.Findings {
		if f.ID != IDRAKPDisclosure {
			t.Errorf("unexpected finding %s: %s", f.ID, f.Evidence)
		}
	}
	if r.Device == nil || r.Device.Firmware == "" {
		t.Errorf("no firmware inventory: %+v", r.Device)
	}
	if len(r.CipherSuites) != 2 {
		t.Errorf("cipher suites = %+v, want 3 and 17", r.CipherSuites)
	}
}
