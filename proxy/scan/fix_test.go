package scan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// TestFixBMCSim applies every fix bmcsim supports (cipher suite 0, IPMI 1.5
// none/password, null user) and checks each finding is gone afterwards.
func TestFixBMCSim(t *testing.T) {
	b := startSim(t, bmcsim.Options{Username: "gw", Password: "gw-Pass-1234", CipherSuites: []int{0, 1, 3, 17},
		V15AuthTypes: []string{"none", "password", "md5"}, NullUser: true})
	ep := simEndpoint(b, "gw", "gw-Pass-1234", ipmi.PrivOperator)
	sc := testScanner()
	before := sc.Scan(context.Background(), ep)
	fixed := []string{IDCipherSuite0, IDIPMI15None, IDIPMI15Password, IDAnonymousLogin, IDNullUser}
	for _, id := range fixed {
		if !before.Has(id) {
			t.Fatalf("before: finding %s missing: %+v", id, before.Findings)
		}
	}
	res, err := sc.Fix(context.Background(), ep, before, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("fix %s (%s): %s", r.ID, r.Action, r.Message)
		}
	}
	after := sc.Scan(context.Background(), ep)
	for _, id := range fixed {
		if after.Has(id) {
			t.Errorf("after: finding %s still there", id)
		}
	}
	if !after.Has(IDIPMI15Weak) {
		t.Errorf("after: MD5 should stay enabled (only none and password are removed)")
	}
	if !after.LoggedIn {
		t.Errorf("the gateway can no longer log in after the fixes: %v", after.Problems)
	}
}

// TestFixNeedsAdministrator: an Operator-only gateway account gets a clear
// answer and nothing changes.
func TestFixNeedsAdministrator(t *testing.T) {
	b := startSim(t, bmcsim.Options{Username: "gw", Password: "gw-Pass-1234", Privilege: "operator", CipherSuites: []int{0, 3}})
	ep := simEndpoint(b, "gw", "gw-Pass-1234", ipmi.PrivOperator)
	sc := testScanner()
	before := sc.Scan(context.Background(), ep)
	_, err := sc.Fix(context.Background(), ep, before, nil)
	if !errors.Is(err, ErrNotAdmin) {
		t.Fatalf("err = %v, want ErrNotAdmin", err)
	}
	if !strings.Contains(err.Error(), "Administrator") {
		t.Errorf("message %q does not name the privilege", err)
	}
	if after := sc.Scan(context.Background(), ep); !after.Has(IDCipherSuite0) {
		t.Errorf("suite 0 changed without a fix")
	}
}
