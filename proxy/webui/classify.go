package webui

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// bmcgate action names an Operation maps to (the same strings as package
// authz; this package does not import it).
const (
	ActionWebAccess      = "web.access"
	ActionWebWrite       = "web.write"
	ActionPowerOn        = "power.on"
	ActionPowerOff       = "power.off"
	ActionPowerCycle     = "power.cycle"
	ActionPowerReset     = "power.reset"
	ActionPowerSoft      = "power.soft"
	ActionBMCAccounts    = "bmc.accounts"
	ActionFirmwareUpdate = "firmware.update"
	ActionMediaInsert    = "media.insert"
	ActionMediaEject     = "media.eject"
)

// Operation is what a proxied request does, as far as the gateway's policy
// is concerned.
type Operation struct {
	Method string
	// Path is the canonical path (see CanonicalPath).
	Path string
	// Action is the bmcgate action to authorize, like "power.cycle".
	Action string
	// Redfish names a recognised Redfish operation, like
	// "ComputerSystem.Reset", "AccountService", "UpdateService" or
	// "VirtualMedia.InsertMedia"; empty when none was recognised.
	Redfish string
	// ResetType is the ResetType of a reset action.
	ResetType string
	// AccountID is the account id of a write to
	// /redfish/v1/AccountService/Accounts/{id}.
	AccountID string
	// Websocket is set for a websocket upgrade.
	Websocket bool
}

// resetActions maps Redfish ResetType values (Resource.ResetType) to
// bmcgate actions. A ResetType not listed is refused.
var resetActions = map[string]string{
	"on":               ActionPowerOn,
	"forceon":          ActionPowerOn,
	"forceoff":         ActionPowerOff,
	"gracefulshutdown": ActionPowerSoft,
	"powercycle":       ActionPowerCycle,
	"forcerestart":     ActionPowerReset,
	"gracefulrestart":  ActionPowerReset,
	"nmi":              ActionPowerReset,
	"pushpowerbutton":  ActionPowerCycle, // toggles: may turn the host off or on
	"pause":            ActionPowerOff,
	"resume":           ActionPowerOn,
	"suspend":          ActionPowerOff,
}

// isRead reports whether a method only reads.
func isRead(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// needsBody reports whether Classify needs the request body for a write
// to the canonical path.
func needsBody(method, canonical string) bool {
	if isRead(method) {
		return false
	}
	k := matchKey(canonical)
	if !strings.HasPrefix(k, "/redfish/") {
		return false
	}
	return strings.HasSuffix(k, ".reset") || strings.Contains(k, "/virtualmedia/") ||
		strings.HasPrefix(k, "/redfish/v1/accountservice/accounts")
}

// Classify maps a request (method, canonical path and, for the writes
// needsBody names, the body) to an Operation. A write it cannot classify
// safely, such as a reset with an unknown ResetType or an OData batch, is
// refused with an error whose text users may see.
func Classify(method, canonical string, body []byte) (Operation, error) {
	op := Operation{Method: method, Path: canonical, Action: ActionWebAccess}
	k := matchKey(canonical)
	segs := strings.Split(strings.TrimPrefix(k, "/"), "/")
	for _, s := range segs {
		if strings.HasPrefix(s, "$batch") {
			return op, &Error{Msg: "OData batch requests are not allowed through the gateway", Err: ErrBadRequest}
		}
	}
	if isRead(method) {
		return op, nil
	}
	op.Action = ActionWebWrite
	if len(segs) < 2 || segs[0] != "redfish" || segs[1] != "v1" {
		return op, nil
	}
	rest := segs[2:]
	switch {
	case len(rest) > 0 && rest[0] == "accountservice":
		op.Action, op.Redfish = ActionBMCAccounts, "AccountService"
		if len(rest) >= 3 && rest[1] == "accounts" {
			op.AccountID = accountIDFromPath(canonical)
		}
		return op, nil
	case len(rest) > 0 && rest[0] == "updateservice":
		op.Action, op.Redfish = ActionFirmwareUpdate, "UpdateService"
		return op, nil
	}
	last := segs[len(segs)-1]
	switch {
	case strings.HasSuffix(last, ".reset") && len(segs) >= 2 && segs[len(segs)-2] == "actions":
		name := resetName(last)
		op.Redfish = name
		if name == "Manager.Reset" || name == "Manager.ResetToDefaults" {
			// The BMC itself, not the host: a web write.
			return op, nil
		}
		rt, err := resetType(body)
		if err != nil {
			return op, err
		}
		op.ResetType = rt
		act, ok := resetActions[strings.ToLower(rt)]
		if !ok {
			return op, &Error{Msg: "unknown ResetType: the gateway does not forward it", Err: ErrBadRequest}
		}
		op.Action = act
		return op, nil
	case slices.Contains(segs, "virtualmedia"):
		return virtualMedia(op, method, last, body)
	}
	return op, nil
}

// resetName returns the canonical spelling of a reset action name.
func resetName(last string) string {
	switch last {
	case "computersystem.reset":
		return "ComputerSystem.Reset"
	case "chassis.reset":
		return "Chassis.Reset"
	case "manager.reset":
		return "Manager.Reset"
	case "manager.resettodefaults":
		return "Manager.ResetToDefaults"
	}
	return last
}

// resetType reads ResetType from a reset action body. An absent ResetType
// means the service default, which is vendor-defined: refused; so is a
// ResetType spelled in another case, which some services ignore.
func resetType(body []byte) (string, error) {
	m, err := jsonObject(body)
	if err != nil {
		return "", err
	}
	var rt *string
	if raw, ok := m["ResetType"]; !ok || json.Unmarshal(raw, &rt) != nil || rt == nil {
		return "", &Error{Msg: "a reset needs a JSON body with ResetType", Err: ErrBadRequest}
	}
	return *rt, nil
}

var (
	errNotObject     = &Error{Msg: "the request body must be a JSON object", Err: ErrBadRequest}
	errAmbiguousBody = &Error{Msg: "the request body names a key twice (perhaps in another case): the gateway does not forward it", Err: ErrBadRequest}
)

// jsonObject returns the members of a body that is one JSON object. It
// refuses a body with two keys that are equal but for case: JSON parsers
// differ in which of repeated keys they take and in whether case matters,
// so the BMC could act on another value than the one the gateway
// authorized.
func jsonObject(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errNotObject
	}
	m := map[string]json.RawMessage{}
	folded := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errNotObject
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errNotObject
		}
		f := foldKey(k)
		if folded[f] {
			return nil, errAmbiguousBody
		}
		folded[f] = true
		m[k] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotObject // trailing data
	}
	return m, nil
}

// foldKey maps strings that strings.EqualFold holds equal to one string.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}

// virtualMedia classifies writes under a VirtualMedia resource.
func virtualMedia(op Operation, method, last string, body []byte) (Operation, error) {
	switch last {
	case "virtualmedia.insertmedia":
		op.Action, op.Redfish = ActionMediaInsert, "VirtualMedia.InsertMedia"
		return op, nil
	case "virtualmedia.ejectmedia":
		op.Action, op.Redfish = ActionMediaEject, "VirtualMedia.EjectMedia"
		return op, nil
	}
	// PATCH of Image (or Inserted): a null or empty Image or Inserted=false
	// ejects; anything else inserts. Any other write, and a body that is
	// not one unambiguous JSON object, is treated as insert, the stronger
	// permission.
	op.Action, op.Redfish = ActionMediaInsert, "VirtualMedia"
	if method == http.MethodPatch || method == http.MethodPut {
		if b, err := jsonObject(body); err == nil {
			img, hasImg := b["Image"]
			ins, hasIns := b["Inserted"]
			eject := (hasImg && (string(img) == "null" || string(img) == `""`)) || (hasIns && string(ins) == "false")
			insert := hasImg && !(string(img) == "null" || string(img) == `""`) || hasIns && string(ins) == "true"
			if eject && !insert {
				op.Action, op.Redfish = ActionMediaEject, "VirtualMedia.EjectMedia"
			}
		}
	}
	return op, nil
}

// accountIDFromPath returns {id} of /redfish/v1/AccountService/Accounts/{id}
// in the case the path was written in.
func accountIDFromPath(canonical string) string {
	segs := strings.Split(strings.Trim(canonical, "/"), "/")
	if len(segs) >= 5 {
		return segs[4]
	}
	return ""
}
