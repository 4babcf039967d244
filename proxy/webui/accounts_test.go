package webui

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOwnAccountProtected: the gateway's BMC account (id 2, "bmcgate")
// cannot be changed or deleted through the proxy, however the path is
// written; other accounts can.
func TestOwnAccountProtected(t *testing.T) {
	var gets atomic.Int32
	accounts := map[string]string{"1": "root", "2": "bmcgate", "3": "operator", "4": "BMCGate "}
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "tok" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		id, ok := strings.CutPrefix(r.URL.Path, "/redfish/v1/AccountService/Accounts/")
		if r.Method == http.MethodGet && ok {
			gets.Add(1)
			name, found := accounts[id]
			if !found {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"Id": id, "UserName": name})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	p := mustNew(t, pinnedConfig(bmc))
	p.SetAccountGuard(NewAccountGuard("bmcgate"))
	fr := newFront(t, p, Request{Session: NewStaticSession(map[string]string{"X-Auth-Token": "tok"}, nil)})

	tests := []struct {
		method, path, body string
		want               int
	}{
		{"PATCH", "/redfish/v1/AccountService/Accounts/2", `{"Password":"x"}`, 403},
		{"DELETE", "/redfish/v1/AccountService/Accounts/2", ``, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/2/", `{"Enabled":false}`, 403},
		{"PATCH", "/redfish/v1/accountservice/accounts/2", `{"RoleId":"ReadOnly"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3/../2", `{"Password":"x"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/%32", `{"Password":"x"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/2;x=y", `{"Password":"x"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"bmcgate"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"BMCGATE","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgate","UserName":"alice","Password":"x"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"op3","username":"bmcgate"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"bmcgate",}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/9", `{"Password":"x"}`, 403}, // unresolvable: fail closed
		// Spellings a BMC or a person might take for the gateway's account.
		{"PATCH", "/redfish/v1/AccountService/Accounts/4", `{"Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgate ","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":" bmcgate","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgate\t","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmc\u200bgate","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"\ufeffbmcgate","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"ｂｍｃｇａｔｅ","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmсgate","Password":"x"}`, 403}, // Cyrillic es
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgatе","Password":"x"}`, 403}, // Cyrillic ie
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgaté","Password":"x"}`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"BMCGATE\u0000","Password":"x"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"userName":"bmcgate"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"User_Name":"bmcgate"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"bmcgate","UserName":"op3"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"op3","UserName":"bmcgate"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"op3"}{"UserName":"bmcgate"}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"op3"} x`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `[{"UserName":"bmcgate"}]`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":["bmcgate"]}`, 403},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"UserName":"op3"`, 403},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmcgate2","Password":"x"}`, 204},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"bmc gate","Password":"x"}`, 204},
		{"PATCH", "/redfish/v1/AccountService/Accounts/3", `{"Password":"x"}`, 204},
		{"DELETE", "/redfish/v1/AccountService/Accounts/3", ``, 204},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"alice","Password":"x"}`, 204},
		{"GET", "/redfish/v1/AccountService/Accounts/2", ``, 200},
	}
	for _, tt := range tests {
		resp, body := fr.do(t, tt.method, tt.path, strings.NewReader(tt.body), map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s %s: status %d, want %d (%s)", tt.method, tt.path, tt.body, resp.StatusCode, tt.want, body)
		}
		if tt.want == 403 {
			if s := fr.lastAudit(t); s.Refused == "" || s.Operation.Action != ActionBMCAccounts {
				t.Errorf("%s %s: summary %+v", tt.method, tt.path, s)
			}
		}
	}
	if gets.Load() == 0 {
		t.Error("account ids were never resolved")
	}
	// Answers are cached: more writes to account 3 cost no lookup, until
	// one renames it (the table above deleted it last, so warm it first).
	fr.do(t, "PATCH", "/redfish/v1/AccountService/Accounts/3", strings.NewReader(`{"Password":"y"}`), nil)
	n := gets.Load()
	for i := 0; i < 3; i++ {
		fr.do(t, "PATCH", "/redfish/v1/AccountService/Accounts/3", strings.NewReader(`{"Password":"y"}`), nil)
	}
	if gets.Load() != n {
		t.Errorf("%d lookups for cached account", gets.Load()-n)
	}
	fr.do(t, "PATCH", "/redfish/v1/AccountService/Accounts/3", strings.NewReader(`{"UserName":"op2"}`), nil)
	fr.do(t, "PATCH", "/redfish/v1/AccountService/Accounts/3", strings.NewReader(`{"Password":"y"}`), nil)
	if gets.Load() != n+1 {
		t.Errorf("rename did not invalidate the cache: %d lookups", gets.Load()-n)
	}
}

func TestCanonicalAccountName(t *testing.T) {
	for in, want := range map[string]string{
		"bmcgate":         "bmcgate",
		"BMCGate ":        "bmcgate",
		"\u00a0bmcgate\t": "bmcgate",
		"bmc\u200dgate":   "bmcgate",
		"ｂｍｃｇａｔｅ":         "bmcgate",
		"ВМСGАТЕ":         "bmcgate", // Cyrillic capitals
		"bmcgate\u0301":   "bmcgate",
		"bmc  \n gate":    "bmc gate",
		"root\u034f":      "root",
		"ADMIN\ufe0f":     "admin",
		"\u0130":          "i", // dotted capital I folds to i plus a mark, dropped
		"operator\x7f":    "operator",
		"δ":               "δ",
		"":                "",
	} {
		if got := CanonicalAccountName(in); got != want {
			t.Errorf("CanonicalAccountName(%q) = %q, want %q", in, got, want)
		}
	}
}
