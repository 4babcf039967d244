package audit

import "time"

// Record is one audit event. Append fills Seq, Time, Prev and Hash; every
// string field is stored escaped (see Sanitize).
type Record struct {
	Seq      uint64            `json:"seq"`
	Time     time.Time         `json:"time"`              // UTC commit time, always set by Append
	Code     string            `json:"code"`              // stable dotted code, e.g. "auth.login"
	Actor    string            `json:"actor,omitempty"`   // bmcgate user name, "" for system
	Door     string            `json:"door,omitempty"`    // "ssh", "web", "api", "cli", "system"
	Source   string            `json:"source,omitempty"`  // remote address
	Session  string            `json:"session,omitempty"` // front-door session id
	Target   string            `json:"target,omitempty"`  // canonical BMC name
	Action   string            `json:"action,omitempty"`  // authz action, e.g. "power.on"
	Outcome  string            `json:"outcome,omitempty"` // see Outcome* constants
	Reason   string            `json:"reason,omitempty"`  // human-readable reason / error message
	Duration time.Duration     `json:"duration_ns,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"` // extra key/values
	Data     []byte            `json:"data,omitempty"`   // opaque payload (console recordings), NOT escaped
	Prev     string            `json:"prev"`             // hex hash of the previous record; 64 zeros for Seq 1
	Hash     string            `json:"hash"`             // hex SHA-256(prev hash bytes || canonical bytes)
}

// Outcomes.
const (
	OutcomeAllow = "allow" // an authorization decision allowed the action
	OutcomeDeny  = "deny"  // an authorization decision (or a limit) refused it
	OutcomeOK    = "ok"    // an operation completed
	OutcomeError = "error" // an operation failed on the gateway or BMC side
	OutcomeFail  = "fail"  // the client failed (e.g. wrong credentials)
)

// Doors (front doors through which a request came in).
const (
	DoorSSH    = "ssh"
	DoorWeb    = "web"
	DoorAPI    = "api"
	DoorCLI    = "cli"
	DoorSystem = "system"
)

// Codes. They are stable: tools and alerting match on them. Add new ones,
// never rename.
const (
	CodeAuthLogin        = "auth.login"        // login succeeded
	CodeAuthFail         = "auth.fail"         // login failed
	CodeAuthLogout       = "auth.logout"       // logout
	CodeSSHRefused       = "ssh.refused"       // forwarding, agent, X11, env, subsystem, ... refused
	CodeSSHLimit         = "ssh.limit"         // connection limit hit
	CodeSessionStart     = "session.start"     // front-door session started
	CodeSessionEnd       = "session.end"       // front-door session ended
	CodeDecision         = "authz.decision"    // one authorization decision
	CodeCmdRun           = "cmd.run"           // a command with its outcome
	CodeBMCCall          = "bmc.call"          // one broker call on one BMC, with outcome and duration
	CodeAuditVerify      = "audit.verify"      // the audit log was verified
	CodeAuditSearch      = "audit.search"      // the audit log was searched
	CodeConfigLoad       = "config.load"       // configuration loaded
	CodeGatewayStart     = "gateway.start"     // gateway started
	CodeGatewayStop      = "gateway.stop"      // gateway stopped
	CodeScanReport       = "scan.report"       // a posture scan report of one BMC (periodic or offline scan)
	CodeScanFix          = "scan.fix"          // one posture remediation applied to one BMC, with outcome
	CodeTokenCreate      = "token.create"      // a personal API token was created
	CodeTokenRevoke      = "token.revoke"      // a personal API token was revoked
	CodeCertIssue        = "cert.issue"        // the gateway's SSH user CA issued a certificate (serial, key fingerprint, validity)
	CodeCertRevoke       = "cert.revoke"       // a gateway SSH certificate was revoked by serial (bmcgate cert revoke)
	CodeCertEnd          = "cert.end"          // a gateway SSH certificate stopped being usable: the web login it came from ended
	CodeCredIssue        = "credential.issue"  // an automation credential was issued (user name, scope, expiry; never the password)
	CodeCredUse          = "credential.use"    // an automation credential logged in at a protocol front door
	CodeCredRevoke       = "credential.revoke" // an automation credential was revoked by its owner
	CodeLockSet          = "lock.set"          // a user or role was locked (bmcgate lock): their sessions end, new ones are refused
	CodeLockLift         = "lock.lift"         // a lock was lifted (bmcgate unlock)
	CodeSessionTerminate = "session.terminate" // a moderator ended a live session (with the reason its user sees)
	// BMC web UIs through the gateway (gateway/bmchost).
	CodeWebUIRequest = "webui.request"  // one request proxied to a BMC's web UI (or refused), with status and bytes
	CodeWebUIWSOpen  = "webui.ws.open"  // a websocket to a BMC's web UI was opened
	CodeWebUIWSClose = "webui.ws.close" // a websocket to a BMC's web UI closed, with bytes and duration

	CodeConsoleAttach   = "console.attach"   // a viewer attached to a BMC console
	CodeConsoleDetach   = "console.detach"   // a viewer detached (with the reason)
	CodeConsoleOutput   = "console.output"   // a chunk of console output (Data: frames)
	CodeConsoleInput    = "console.input"    // a chunk of one writer's input (Data: frames)
	CodeConsoleHandoff  = "console.handoff"  // write access moved between viewers
	CodeConsoleTakeover = "console.takeover" // a payload held outside bmcgate was taken over
	CodeConsoleStatus   = "console.status"   // the BMC console connected, dropped or was busy

	CodeMediaFetch = "media.fetch" // one request to the image listener (served or refused), with bytes and client
)

// CodeAuthzDecision is another name for CodeDecision.
const CodeAuthzDecision = CodeDecision

// Limits enforced by Append.
const (
	MaxFieldLen = 4096     // bytes per stored string field, after escaping
	MaxFields   = 64       // entries in Fields; extra entries are dropped
	MaxDataSize = 64 << 10 // bytes of Data per record; larger is an error
	maxCodeLen  = 64       // bytes in Code
	zeroHashHex = "0000000000000000000000000000000000000000000000000000000000000000"
)

// validCode reports whether code is a dotted code of lower-case ASCII
// letters, digits, '_' and '-', e.g. "auth.login".
func validCode(code string) bool {
	if code == "" || len(code) > maxCodeLen || code[0] == '.' || code[len(code)-1] == '.' {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.':
			if code[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
