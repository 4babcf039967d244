package scan

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// TestDerive maps probe data to findings: each case is a clean, reachable
// report plus one piece of evidence, and lists the findings (besides the
// RAKP disclosure note) it must give.
func TestDerive(t *testing.T) {
	on := true
	suite := func(id int, auth, integ, conf string) Suite {
		return Suite{ID: id, Auth: auth, Integrity: integ, Confidentiality: conf}
	}
	suite0 := suite(0, "none", "none", "none")
	suite3 := suite(3, "hmac-sha1", "hmac-sha1-96", "aes-cbc-128")
	caps := func(anon, null, v15 bool) []AuthCaps {
		c := AuthCaps{Privilege: "administrator", V20: true, Anonymous: anon, NullUsers: null, V15: v15}
		if v15 {
			c.V15Types = []string{"md5"}
		}
		return []AuthCaps{c}
	}
	cases := []struct {
		name     string
		mutate   func(r *Report)
		want     []string
		evidence string // the last wanted finding's evidence must contain this, when set
	}{
		{"clean", func(r *Report) {}, nil, ""},
		{"suite 0 accepted", func(r *Report) { r.Suite0Probed, r.CipherSuite0 = true, true }, []string{IDCipherSuite0}, ""},
		{"suite 0 listed but refused", func(r *Report) {
			r.Suite0Probed = true
			r.CipherSuites = []Suite{suite0, suite3}
		}, nil, ""},
		{"suite 0 listed, refused, with another weak suite", func(r *Report) {
			r.Suite0Probed = true
			r.CipherSuites = []Suite{suite0, suite(1, "hmac-sha1", "none", "none"), suite3}
		}, []string{IDWeakCipherSuites}, "suite 1 (no integrity, no confidentiality) (suite 0 is listed but refused"},
		{"suite 0 listed, not probed", func(r *Report) { r.CipherSuites = []Suite{suite0, suite3} }, []string{IDWeakCipherSuites}, "suite 0"},
		{"suite 0 listed and accepted", func(r *Report) {
			r.Suite0Probed, r.CipherSuite0 = true, true
			r.CipherSuites = []Suite{suite0, suite3}
		}, []string{IDCipherSuite0, IDWeakCipherSuites}, "offered: suite 0"},
		{"null user, empty password", func(r *Report) { r.NullUserLogin = NullUserEmptyPassword }, []string{IDAnonymousLogin, IDNullUser}, ""},
		{"null user under suite 0 only", func(r *Report) {
			r.Suite0Probed, r.CipherSuite0, r.NullUserLogin = true, true, NullUserNoAuth
			r.AuthCaps = caps(true, false, false)
		}, []string{IDCipherSuite0, IDNullUser, IDAnonymousLogin}, "cipher suite 0"},
		{"null user with a password", func(r *Report) { r.NullUserLogin = NullUserPassword }, []string{IDNullUser}, ""},
		{"null user refused, IPMI 2.0 only", func(r *Report) {
			r.NullUserLogin = NullUserRefused
			r.AuthCaps = caps(true, true, false)
		}, nil, ""},
		{"null user refused, claim for IPMI 1.5", func(r *Report) {
			r.NullUserLogin = NullUserRefused
			r.AuthCaps = caps(true, false, true)
		}, []string{IDAnonymousLogin, IDIPMI15Weak}, "IPMI 1.5"},
		{"probe could not run: claims count", func(r *Report) {
			r.NullUserLogin = NullUserUntested
			r.AuthCaps = caps(true, true, false)
		}, []string{IDAnonymousLogin, IDNullUser}, "not confirmed"},
		{"default password", func(r *Report) {
			r.DefaultCreds = []DefaultCredential{{User: "ADMIN", Vendors: []string{"Supermicro"}}}
		}, []string{IDDefaultCredentials}, `user "ADMIN" has the Supermicro default password`},
		{"IPMI 1.5 none and password", func(r *Report) {
			r.AuthCaps = []AuthCaps{{Privilege: "user", V15: true, V15Types: []string{"none", "password"}}}
		}, []string{IDIPMI15None, IDIPMI15Password}, "for: user"},
		{"gateway account is admin", func(r *Report) {
			r.Users = []User{{ID: 2, Name: "gw", Privilege: "administrator"}, {ID: 3, Name: "op", Privilege: "operator"}}
		}, []string{IDGatewayAdmin}, ""},
		{"other admins, null user among them", func(r *Report) {
			r.Users = []User{{ID: 1, Name: "", Privilege: "administrator"}, {ID: 4, Name: "bob", Privilege: "administrator"}}
		}, []string{IDExtraAdmins}, `1 "(null user)", 4 "bob"`},
		{"SOL on", func(r *Report) { r.SOL = &on }, []string{IDSOLEnabled}, "channel 1"},
		{"alerts", func(r *Report) { r.Alerts = []string{"192.0.2.7"} }, []string{IDLANAlerts}, "192.0.2.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Reachable: true, LoggedIn: true, Account: "gw", Channel: 1, NullUserLogin: NullUserRefused}
			tc.mutate(r)
			r.derive()
			var got []string
			for _, f := range r.Findings {
				if f.ID != IDRAKPDisclosure {
					got = append(got, f.ID)
				}
				if tc.evidence != "" && f.ID == tc.want[len(tc.want)-1] && !strings.Contains(f.Evidence, tc.evidence) {
					t.Errorf("%s evidence %q lacks %q", f.ID, f.Evidence, tc.evidence)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings %v, want %v", got, want)
			}
			if !r.Has(IDRAKPDisclosure) {
				t.Errorf("no RAKP disclosure note")
			}
			r.derive() // derive is repeatable
			if n := len(r.Findings); n != len(got)+1 {
				t.Errorf("second derive gave %d findings, want %d", n, len(got)+1)
			}
		})
	}
	r := &Report{}
	if r.derive(); len(r.Findings) != 0 {
		t.Errorf("unreachable BMC has findings: %+v", r.Findings)
	}
}

// TestScanBMCSimSuite0Only: a BMC that offers only cipher suite 0 and has an
// anonymous user. The login probes cannot use suite 3, so the null user is
// probed under suite 0, and the anonymous login is reported.
func TestScanBMCSimSuite0Only(t *testing.T) {
	b := startSim(t, bmcsim.Options{Username: "gw", Password: "gw-Pass-1234", CipherSuites: []int{0}, NullUser: true})
	r := testScanner().Scan(context.Background(), simEndpoint(b, "gw", "gw-Pass-1234", ipmi.PrivOperator))
	t.Logf("findings %v problems %v", ids(r), r.Problems)
	if !r.CipherSuite0 || r.NullUserLogin != NullUserNoAuth {
		t.Fatalf("suite 0 %v, null user login %q", r.CipherSuite0, r.NullUserLogin)
	}
	for _, id := range []string{IDCipherSuite0, IDAnonymousLogin, IDNullUser} {
		if !r.Has(id) {
			t.Errorf("finding %s missing", id)
		}
	}
	if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, "refused cipher suite 3") }) {
		t.Errorf("problems %v do not say the login suite was refused", r.Problems)
	}
}

// TestScanBMCSimSuite0Refused: after suite 0 is taken out of service, the
// suite 0 probe is refused and no finding calls it offered.
func TestScanBMCSimSuite0Refused(t *testing.T) {
	b := startSim(t, bmcsim.Options{Username: "gw", Password: "gw-Pass-1234", CipherSuites: []int{0, 3, 17}})
	ep := simEndpoint(b, "gw", "gw-Pass-1234", ipmi.PrivAdministrator)
	sc := testScanner()
	before := sc.Scan(context.Background(), ep)
	if !before.Has(IDCipherSuite0) {
		t.Fatalf("before: %v", ids(before))
	}
	if _, err := sc.Fix(context.Background(), ep, before, nil); err != nil {
		t.Fatal(err)
	}
	r := sc.Scan(context.Background(), ep)
	t.Logf("suites %+v findings %v", r.CipherSuites, r.Findings)
	if !r.Suite0Probed || r.CipherSuite0 {
		t.Fatalf("suite 0 probe: probed %v accepted %v", r.Suite0Probed, r.CipherSuite0)
	}
	for _, f := range r.Findings {
		if f.ID == IDCipherSuite0 || strings.Contains(f.Evidence, "suite 0 (") {
			t.Errorf("finding %s says suite 0 is offered: %s", f.ID, f.Evidence)
		}
	}
}
