package webui

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/usererr"
)

// fuzzMethods are the methods the proxy forwards (allowedMethods).
var fuzzMethods = []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost,
	http.MethodPut, http.MethodPatch, http.MethodDelete}

// knownActions are the actions Classify may return.
var knownActions = []string{ActionWebAccess, ActionWebWrite, ActionPowerOn, ActionPowerOff, ActionPowerCycle,
	ActionPowerReset, ActionPowerSoft, ActionBMCAccounts, ActionFirmwareUpdate, ActionMediaInsert, ActionMediaEject}

// bodyReadings returns the top-level object of a JSON body as differently
// built parsers may read it, written out again: the first or the last of
// repeated keys, keys matched with or without regard to case. ok is false
// when body is not a single JSON object.
func bodyReadings(body []byte) (readings [][]byte, ok bool) {
	type kv struct {
		k string
		v json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var pairs []kv
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		pairs = append(pairs, kv{t.(string), v})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	// spell gives a key as a parser reads it: a case variant of a key
	// Classify looks at is that key to a case-insensitive parser, and
	// another key (one nothing matches) to a case-sensitive one.
	spell := func(k string, fold bool) string {
		for _, c := range []string{"ResetType", "Image", "Inserted", "UserName"} {
			if strings.EqualFold(k, c) && k != c {
				if fold {
					return c
				}
				return "~" + k
			}
		}
		return k
	}
	for _, fold := range []bool{false, true} {
		for _, first := range []bool{false, true} {
			m := map[string]json.RawMessage{}
			for _, p := range pairs {
				k := spell(p.k, fold)
				if _, seen := m[k]; seen && first {
					continue
				}
				m[k] = p.v
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, false
			}
			readings = append(readings, b)
		}
	}
	return readings, true
}

// asciiUpper upper-cases ASCII letters only.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// FuzzClassify runs a request through canonicalisation and classification
// as the proxy does and checks what policy is asked to allow: a write is
// never classified as a read; the action is a known one; the ASCII case
// and a trailing slash of the path do not change it; and however a BMC's
// JSON parser reads repeated or case-variant keys of the body, it does
// what was authorized (or less).
func FuzzClassify(f *testing.F) {
	const sys = "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
	const vm = "/redfish/v1/Managers/1/VirtualMedia/CD"
	seeds := []struct {
		m          byte
		path, body string
	}{
		{0, "/redfish/v1/Systems/1", ""},
		{3, sys, `{"ResetType":"On"}`},
		{3, sys, `{"ResetType":"ForceOff","resettype":"On"}`},
		{3, sys + "/", `{"ResetType":"GracefulShutdown"}`},
		{3, "/redfish//v1/Systems/1/Actions/x/../ComputerSystem.Reset;a=b", `{"ResetType":"ForceRestart"}`},
		{3, "/redfish/v1/Chassis/1/Actions/Chassis.Reset", `{"ResetType":"PushPowerButton"}`},
		{3, "/redfish/v1/Managers/1/Actions/Manager.Reset", `{"ResetType":"GracefulRestart"}`},
		{5, vm, `{"Image":"http://x/a.iso","Inserted":true}`},
		{5, vm, `{"Image":null}`},
		{5, vm, `{"Inserted":false,"WriteProtected":true}`},
		{3, vm + "/Actions/VirtualMedia.InsertMedia", `{"Image":"http://x/a.iso"}`},
		{3, vm + "/Actions/VirtualMedia.EjectMedia", `{}`},
		{5, "/redfish/v1/AccountService/Accounts/3", `{"UserName":"x","Password":"y"}`},
		{6, "/redfish/v1/AccountService/Accounts/3", ``},
		{3, "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", `{"ImageURI":"http://x"}`},
		{3, "/redfish/v1/$batch", `{}`},
		{4, "/sysmgmt/2015/server/power", `{}`},
		{1, "/%2e%2e/redfish", ""},
	}
	for _, s := range seeds {
		f.Add(s.m, s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, m byte, raw string, body []byte) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		canonical, err := CanonicalPath(raw)
		if err != nil {
			return
		}
		if len(body) > maxClassifyBody || !needsBody(method, canonical) {
			body = nil // the proxy reads a body for these writes only
		}
		op, err := Classify(method, canonical, body)
		if op.Method != method || op.Path != canonical {
			t.Fatalf("%s %q: operation names %s %q", method, canonical, op.Method, op.Path)
		}
		if err != nil {
			if usererr.MessageOr(err, "") == "" {
				t.Fatalf("%s %q: refusal %v has no user message", method, canonical, err)
			}
			return
		}
		if !slices.Contains(knownActions, op.Action) {
			t.Fatalf("%s %q: unknown action %q", method, canonical, op.Action)
		}
		if isRead(method) != (op.Action == ActionWebAccess) {
			t.Fatalf("%s %q %q: classified as %s", method, canonical, body, op.Action)
		}
		for _, variant := range []string{asciiUpper(canonical), strings.ToLower(canonical), strings.TrimSuffix(canonical, "/") + "/"} {
			if again, err := Classify(method, variant, body); err != nil || again.Action != op.Action || again.Redfish != op.Redfish {
				t.Fatalf("%s %q is %s/%s but %q is %s/%s, %v", method, canonical, op.Action, op.Redfish, variant, again.Action, again.Redfish, err)
			}
		}
		if body == nil {
			return
		}
		readings, ok := bodyReadings(body)
		if !ok {
			return // not one JSON object: every BMC refuses it or reads it as nothing
		}
		for _, r := range readings {
			// A reading may be weaker than what was authorized (eject for an
			// insert), never another or a stronger action.
			if other, err := Classify(method, canonical, r); err != nil || other.Action != op.Action &&
				!(op.Action == ActionMediaInsert && other.Action == ActionMediaEject) {
				t.Fatalf("%s %q with %q is %s, but a BMC may read the body as %s: %s, %v", method, canonical, body, op.Action, r, other.Action, err)
			}
		}
	})
}
