package scan

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

const (
	simGWPass  = "gw-Secret-77"
	simGWHard  = "Hx7!pQ2#wL9zR4tV"
	simDefault = "ADMIN"
)

// insecureIPMISim is ipmi_sim with an anonymous user, a vendor default
// account and IPMI 1.5 "none" and "straight password" enabled.
func insecureIPMISim(t *testing.T) *ipmisim.Sim {
	ipmisim.RequireBinaries(t, "ipmitool")
	return ipmisim.StartT(t, ipmisim.Options{
		Users: []ipmisim.User{
			{ID: 1, Name: "", Password: "", Priv: "admin"},
			{ID: 2, Name: "gw", Password: simGWPass, Priv: "admin"},
			{ID: 3, Name: "ADMIN", Password: simDefault, Priv: "admin"},
		},
		SOLAddr: "127.0.0.1:9", // SOL configured (ipmi_sim retries the connection quietly)
		ExtraLAN: []string{"allowed_auths_callback none md5 straight", "allowed_auths_user none md5 straight",
			"allowed_auths_operator none md5 straight", "allowed_auths_admin none md5 straight"},
	})
}

// hardenedIPMISim has only the gateway's Operator account and MD5 for IPMI
// 1.5 (ipmi_sim cannot switch suite 0 or RC4 suites off).
func hardenedIPMISim(t *testing.T) *ipmisim.Sim {
	ipmisim.RequireBinaries(t, "ipmitool")
	return ipmisim.StartT(t, ipmisim.Options{
		Users: []ipmisim.User{{ID: 2, Name: "gw", Password: simGWHard, Priv: "operator"}},
	})
}

func sim2ep(s *ipmisim.Sim, pass string, priv ipmi.Privilege) ipmi.Endpoint {
	return ipmi.Endpoint{Name: "sim", Host: "127.0.0.1", Port: s.Port, Username: "gw", Password: pass, CipherSuite: 3, Privilege: priv}
}

// ipmitool runs the reference client against a simulator.
func ipmitool(t *testing.T, s *ipmisim.Sim, user, pass string, args ...string) string {
	t.Helper()
	base := []string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", user, "-P", pass}
	out, err := exec.Command("ipmitool", append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestScanIPMISim: every finding ipmi_sim can show is found on the
// insecure profile and absent on the hardened one.
func TestScanIPMISim(t *testing.T) {
	bad := testScanner().Scan(context.Background(), sim2ep(insecureIPMISim(t), simGWPass, ipmi.PrivAdministrator))
	good := testScanner().Scan(context.Background(), sim2ep(hardenedIPMISim(t), simGWHard, ipmi.PrivOperator))
	for _, r := range []*Report{bad, good} {
		if !r.Reachable || !r.LoggedIn || len(r.Problems) > 0 {
			t.Fatalf("%+v", r)
		}
	}
	for _, id := range []string{IDAnonymousLogin, IDNullUser, IDDefaultCredentials, IDIPMI15None, IDIPMI15Password,
		IDGatewayAdmin, IDExtraAdmins, IDSOLEnabled} {
		if !bad.Has(id) {
			t.Errorf("insecure: %s missing", id)
		}
		if good.Has(id) {
			t.Errorf("hardened: %s found", id)
		}
	}
	// Hard-coded in ipmi_sim: found on both profiles.
	for _, id := range []string{IDCipherSuite0, IDWeakCipherSuites, IDIPMI15Weak, IDRAKPDisclosure} {
		if !bad.Has(id) || !good.Has(id) {
			t.Errorf("%s: insecure %v, hardened %v", id, bad.Has(id), good.Has(id))
		}
	}
	if !slices.Equal(bad.DefaultUsers, []string{"ADMIN"}) {
		t.Errorf("default-credential users = %v", bad.DefaultUsers)
	}
	if good.Device == nil || good.Device.ManufacturerID != 0x1291 || good.Device.Firmware != "9.08" {
		t.Errorf("device = %+v", good.Device)
	}
	// Get Session Info over the slots: the scan's own session, from the
	// gateway's address, is the gateway's, so nothing is foreign.
	t.Logf("ipmi_sim sessions: %+v", good.Sessions)
	if good.Has(IDForeignSessions) {
		t.Errorf("the gateway's own session reported as foreign: %+v", good.Sessions)
	}
}

func TestIPMISessionFindings(t *testing.T) {
	tests := []struct {
		sess    []IPMISession
		foreign bool
	}{
		{nil, false},
		{[]IPMISession{{Handle: 1, Remote: "10.0.0.2", Own: true}}, false},
		{[]IPMISession{{Handle: 1, Remote: "10.0.0.2", Own: true}, {Handle: 2, UserID: 3, Remote: "10.9.9.9"}}, true},
	}
	for i, tt := range tests {
		r := &Report{}
		ipmiSessionFindings(r, tt.sess)
		if r.Has(IDForeignSessions) != tt.foreign {
			t.Errorf("case %d: foreign %v, want %v (%+v)", i, r.Has(IDForeignSessions), tt.foreign, r.Findings)
		}
		if tt.foreign && !strings.Contains(r.Findings[0].Evidence, "user 3 from 10.9.9.9") {
			t.Errorf("evidence %q", r.Findings[0].Evidence)
		}
	}
}

// TestScanIPMISimMatchesIPMITool cross-checks the cipher suites and the
// user list with ipmitool.
func TestScanIPMISimMatchesIPMITool(t *testing.T) {
	s := insecureIPMISim(t)
	r := testScanner().Scan(context.Background(), sim2ep(s, simGWPass, ipmi.PrivAdministrator))

	// ipmitool channel getciphers: every suite it lists, with the same
	// algorithms. (ipmitool 1.8.19 stops after the second 16-byte window,
	// so it may list fewer than the scanner.)
	ours := map[int]Suite{}
	for _, su := range r.CipherSuites {
		ours[su.ID] = su
	}
	n := 0
	for _, line := range strings.Split(ipmitool(t, s, "gw", simGWPass, "channel", "getciphers", "ipmi"), "\n") {
		f := strings.Fields(line)
		id, err := strconv.Atoi(firstOr(f))
		if err != nil || len(f) < 5 {
			continue
		}
		n++
		su, ok := ours[id]
		want := []string{su.Auth, su.Integrity, su.Confidentiality}
		got := []string{f[2], f[3], f[4]}
		for i := range got {
			got[i] = strings.ReplaceAll(got[i], "_", "-")
		}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("suite %d: ipmitool %v, scanner %v (%v)", id, got, want, ok)
		}
	}
	if n < 10 {
		t.Errorf("ipmitool listed only %d suites", n)
	}

	// ipmitool user list: the same enabled users and privileges.
	var fromTool []string
	for _, line := range strings.Split(ipmitool(t, s, "gw", simGWPass, "user", "list", "1"), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[len(f)-1] != "ADMINISTRATOR" {
			continue
		}
		name := ""
		if len(f) == 6 {
			name = f[1]
		}
		fromTool = append(fromTool, fmt.Sprintf("%s:%s", f[0], name))
	}
	var fromScan []string
	for _, u := range r.Users {
		if u.Privilege == "administrator" {
			fromScan = append(fromScan, fmt.Sprintf("%d:%s", u.ID, u.Name))
		}
	}
	if !slices.Equal(fromTool, fromScan) {
		t.Errorf("administrators: ipmitool %v, scanner %v", fromTool, fromScan)
	}
}

// TestScanIPMISimMatchesFreeIPMI cross-checks the IPMI 1.5 findings with
// FreeIPMI's ipmi-config (LAN parameter 2, read independently of Get
// Channel Authentication Capabilities).
func TestScanIPMISimMatchesFreeIPMI(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmi-config")
	for _, tc := range []struct {
		name string
		sim  func(*testing.T) *ipmisim.Sim
		pass string
	}{{"insecure", insecureIPMISim, simGWPass}, {"hardened", hardenedIPMISim, simGWHard}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.sim(t)
			r := testScanner().Scan(context.Background(), sim2ep(s, tc.pass, ipmi.PrivOperator))
			// ipmi-config exits 1 on ipmi_sim (one field it cannot read)
			// but prints the section.
			out, _ := exec.Command("ipmi-config", "-h", "127.0.0.1:"+strconv.Itoa(s.Port), "-u", "gw", "-p", tc.pass,
				"-D", "LAN_2_0", "-l", "OPERATOR", "-W", "opensesspriv", "--checkout", "--section", "Lan_Conf_Auth").CombinedOutput()
			has := func(key string) bool {
				for _, line := range strings.Split(string(out), "\n") {
					if f := strings.Fields(line); len(f) == 2 && f[0] == key {
						return f[1] == "Yes"
					}
				}
				t.Fatalf("ipmi-config lacks %s:\n%s", key, out)
				return false
			}
			if got, want := r.Has(IDIPMI15None), has("Admin_Enable_Auth_Type_None"); got != want {
				t.Errorf("none: scanner %v, ipmi-config %v", got, want)
			}
			if got, want := r.Has(IDIPMI15Password), has("Admin_Enable_Auth_Type_Straight_Password"); got != want {
				t.Errorf("straight password: scanner %v, ipmi-config %v", got, want)
			}
		})
	}
}

func firstOr(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// TestFixIPMISim: disabling the null user and rotating a default password
// work on ipmi_sim; the new password is what the saver got, and ipmitool
// logs in with it. (ipmi_sim stores LAN parameter 24 but keeps accepting
// suite 0, and refuses to set parameter 2: those fixes are tested on
// bmcsim.)
func TestFixIPMISim(t *testing.T) {
	s := insecureIPMISim(t)
	ep := sim2ep(s, simGWPass, ipmi.PrivAdministrator)
	sc := testScanner()
	before := sc.Scan(context.Background(), ep)
	saved := map[string]string{}
	res, err := sc.Fix(context.Background(), ep, before, func(user, pw string) (string, error) {
		saved[user] = pw
		return "memory", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for _, r := range res {
		ok[r.ID] = r.OK
		t.Logf("fix %s: ok=%v %s %s", r.ID, r.OK, r.Action, r.Message)
	}
	if !ok[IDAnonymousLogin] || !ok[IDDefaultCredentials] {
		t.Fatalf("fixes: %+v", res)
	}
	after := sc.Scan(context.Background(), ep)
	for _, id := range []string{IDAnonymousLogin, IDNullUser, IDDefaultCredentials} {
		if after.Has(id) {
			t.Errorf("after: %s still there", id)
		}
	}
	pw := saved["ADMIN"]
	if len(pw) != 16 || pw == simDefault {
		t.Fatalf("saved password has length %d", len(pw))
	}
	if out := ipmitool(t, s, "ADMIN", pw, "mc", "info"); !strings.Contains(out, "Firmware Revision") {
		t.Errorf("ipmitool with the new password: %s", out)
	}
}
