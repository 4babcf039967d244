package authz

import "slices"

// Action is a dotted action name such as "power.on".
type Action string

// The actions bmcgate knows. BMC-scoped actions are decided against a
// Target; global actions (see Action.Global) are decided against the zero Target.
const (
	BMCList        Action = "bmc.list"
	BMCInfo        Action = "bmc.info"
	BootRead       Action = "boot.read"
	BootSet        Action = "boot.set"
	PowerStatus    Action = "power.status"
	PowerOn        Action = "power.on"
	PowerOff       Action = "power.off"
	PowerCycle     Action = "power.cycle"
	PowerReset     Action = "power.reset"
	PowerSoft      Action = "power.soft"
	SensorsRead    Action = "sensors.read"
	SELRead        Action = "sel.read"
	SELClear       Action = "sel.clear"
	ConsoleAttach  Action = "console.attach"
	ConsoleWrite   Action = "console.write"
	ConsoleForce   Action = "console.force"
	WebAccess      Action = "web.access"
	WebWrite       Action = "web.write"
	BMCAccounts    Action = "bmc.accounts"
	FirmwareUpdate Action = "firmware.update"
	MediaInsert    Action = "media.insert"
	MediaEject     Action = "media.eject"
	MediaRead      Action = "media.read"
	ScanRun        Action = "scan.run"
	ScanFix        Action = "scan.fix"
	AuditRead      Action = "audit.read"
	// SessionJoin lists live sessions of every door; SessionTerminate ends
	// them with a reason.
	SessionJoin      Action = "session.join"
	SessionTerminate Action = "session.terminate"
)

// knownActions lists every Action constant, sorted. It is a constant table:
// KnownActions returns a copy so callers cannot change it.
var knownActions = []Action{
	AuditRead,
	BMCAccounts,
	BMCInfo,
	BMCList,
	BootRead,
	BootSet,
	ConsoleAttach,
	ConsoleForce,
	ConsoleWrite,
	FirmwareUpdate,
	MediaEject,
	MediaInsert,
	MediaRead,
	PowerCycle,
	PowerOff,
	PowerOn,
	PowerReset,
	PowerSoft,
	PowerStatus,
	ScanFix,
	ScanRun,
	SELClear,
	SELRead,
	SensorsRead,
	SessionJoin,
	SessionTerminate,
	WebAccess,
	WebWrite,
}

// KnownActions returns every action bmcgate knows, sorted by name.
func KnownActions() []Action {
	out := make([]Action, len(knownActions))
	copy(out, knownActions)
	return out
}

// Known reports whether a is one of the Action constants.
func (a Action) Known() bool {
	_, found := slices.BinarySearch(knownActions, a)
	return found
}

// Global reports whether a is decided without a BMC (with the zero Target):
// audit.read, session.join and session.terminate; every other action is
// scoped to one BMC.
func (a Action) Global() bool {
	return a == AuditRead || a == SessionJoin || a == SessionTerminate
}
