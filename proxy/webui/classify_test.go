package webui

import (
	"testing"
)

func TestClassify(t *testing.T) {
	const sys = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
	tests := []struct {
		method, path, body string
		action, redfish    string
		refused            bool
	}{
		{"GET", "/redfish/v1/Systems/1", "", ActionWebAccess, "", false},
		{"HEAD", "/", "", ActionWebAccess, "", false},
		{"OPTIONS", "/redfish/v1/AccountService/Accounts/2", "", ActionWebAccess, "", false},
		{"GET", "/redfish/v1/AccountService/Accounts", "", ActionWebAccess, "", false},
		{"POST", sys, `{"ResetType":"On"}`, ActionPowerOn, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"ForceOn"}`, ActionPowerOn, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"ForceOff"}`, ActionPowerOff, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"GracefulShutdown"}`, ActionPowerSoft, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"PowerCycle"}`, ActionPowerCycle, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"ForceRestart"}`, ActionPowerReset, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"GracefulRestart"}`, ActionPowerReset, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"Nmi"}`, ActionPowerReset, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"PushPowerButton"}`, ActionPowerCycle, "ComputerSystem.Reset", false},
		{"POST", sys + "/", `{"ResetType":"forceoff"}`, ActionPowerOff, "ComputerSystem.Reset", false},
		{"POST", "/REDFISH/V1/SYSTEMS/1/ACTIONS/COMPUTERSYSTEM.RESET", `{"ResetType":"ForceOff"}`, ActionPowerOff, "ComputerSystem.Reset", false},
		{"POST", sys, `{"ResetType":"SelfDestruct"}`, "", "", true},
		{"POST", sys, `{}`, "", "", true},
		{"POST", sys, `not json`, "", "", true},
		// A BMC's parser may take the first of repeated keys, or match them
		// with or without regard to case: ambiguous bodies are refused.
		{"POST", sys, `{"ResetType":"ForceOff","ResetType":"On"}`, "", "", true},
		{"POST", sys, `{"ResetType":"ForceOff","resettype":"On"}`, "", "", true},
		{"POST", sys, `{"resettype":"On"}`, "", "", true},
		{"POST", sys, `{"ResetType":"On"} {}`, "", "", true},
		{"POST", sys, `{"ResetType":null}`, "", "", true},
		{"POST", "/redfish/v1/Chassis/1/Actions/Chassis.Reset", `{"ResetType":"ForceOff"}`, ActionPowerOff, "Chassis.Reset", false},
		{"POST", "/redfish/v1/Managers/1/Actions/Manager.Reset", `{"ResetType":"GracefulRestart"}`, ActionWebWrite, "Manager.Reset", false},
		{"PATCH", "/redfish/v1/AccountService", `{"AccountLockoutThreshold":0}`, ActionBMCAccounts, "AccountService", false},
		{"POST", "/redfish/v1/AccountService/Accounts", `{"UserName":"x"}`, ActionBMCAccounts, "AccountService", false},
		{"DELETE", "/redfish/v1/AccountService/Accounts/3", "", ActionBMCAccounts, "AccountService", false},
		{"POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", `{}`, ActionFirmwareUpdate, "UpdateService", false},
		{"POST", "/redfish/v1/UpdateService/upload", ``, ActionFirmwareUpdate, "UpdateService", false},
		{"PATCH", "/redfish/v1/UpdateService", `{}`, ActionFirmwareUpdate, "UpdateService", false},
		{"POST", "/redfish/v1/Managers/1/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia", `{"Image":"http://x/a.iso"}`, ActionMediaInsert, "VirtualMedia.InsertMedia", false},
		{"POST", "/redfish/v1/Systems/1/VirtualMedia/1/Actions/VirtualMedia.EjectMedia", `{}`, ActionMediaEject, "VirtualMedia.EjectMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Image":"http://x/a.iso","Inserted":true}`, ActionMediaInsert, "VirtualMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Image":null}`, ActionMediaEject, "VirtualMedia.EjectMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Image":""}`, ActionMediaEject, "VirtualMedia.EjectMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Inserted":false}`, ActionMediaEject, "VirtualMedia.EjectMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"WriteProtected":false}`, ActionMediaInsert, "VirtualMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Image":"http://x/a.iso","Image":null}`, ActionMediaInsert, "VirtualMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"image":"http://x/a.iso","Image":null}`, ActionMediaInsert, "VirtualMedia", false},
		{"PATCH", "/redfish/v1/Managers/1/VirtualMedia/CD", `{"Inserted":false,"inserted":true}`, ActionMediaInsert, "VirtualMedia", false},
		{"PATCH", "/redfish/v1/Systems/1", `{"Boot":{}}`, ActionWebWrite, "", false},
		{"POST", "/sysmgmt/2015/server/power", `{}`, ActionWebWrite, "", false},
		{"PUT", "/anything", ``, ActionWebWrite, "", false},
		{"DELETE", "/redfish/v1/SessionService/Sessions/5", ``, ActionWebWrite, "", false},
		{"POST", "/redfish/v1/$batch", `{}`, "", "", true},
		{"GET", "/redfish/v1/$batch", ``, "", "", true},
	}
	for _, tt := range tests {
		op, err := Classify(tt.method, tt.path, []byte(tt.body))
		if tt.refused {
			if err == nil {
				t.Errorf("%s %s %s: accepted as %+v", tt.method, tt.path, tt.body, op)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s %s: %v", tt.method, tt.path, tt.body, err)
			continue
		}
		if op.Action != tt.action || op.Redfish != tt.redfish {
			t.Errorf("%s %s %s: got %s/%s, want %s/%s", tt.method, tt.path, tt.body, op.Action, op.Redfish, tt.action, tt.redfish)
		}
	}
}

// TestClassifyCorpus: every path trick that canonicalizes to a reset is
// classified as the reset, never as a plain web write.
func TestClassifyCorpus(t *testing.T) {
	for _, raw := range []string{
		"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
		"/redfish//v1/Systems/1/Actions/ComputerSystem.Reset/",
		"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset;jsessionid=1",
		"/redfish/v1/Systems/1/Actions/x/../ComputerSystem.Reset",
		"/redfish/v1/Systems/1/Actions/%43omputerSystem.Reset",
		"/redfish/v1/Systems/1/Actions/./ComputerSystem.reset",
		"/x/%2e%2e/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
	} {
		c, err := CanonicalPath(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if !needsBody("POST", c) {
			t.Errorf("%s: body not read for classification", raw)
		}
		op, err := Classify("POST", c, []byte(`{"ResetType":"ForceOff"}`))
		if err != nil || op.Action != ActionPowerOff {
			t.Errorf("%s: %+v %v", raw, op, err)
		}
	}
}
