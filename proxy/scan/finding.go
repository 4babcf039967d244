package scan

import "fmt"

// Severity ranks a finding.
type Severity string

// Severities, from worst to mildest.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities: Critical is 4, Info is 0, unknown is -1.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// Finding IDs. They are stable: tools and suppressions refer to them.
const (
	IDCipherSuite0       = "cipher-suite-0"
	IDWeakCipherSuites   = "weak-cipher-suites"
	IDAnonymousLogin     = "anonymous-login"
	IDNullUser           = "null-user"
	IDDefaultCredentials = "default-credentials"
	IDIPMI15None         = "ipmi15-auth-none"
	IDIPMI15Password     = "ipmi15-auth-password"
	IDIPMI15Weak         = "ipmi15-auth-md2-md5"
	IDRAKPDisclosure     = "rakp-hash-disclosure"
	IDExtraAdmins        = "extra-admin-users"
	IDGatewayAdmin       = "gateway-account-administrator"
	IDSOLEnabled         = "sol-enabled"
	IDLANAlerts          = "lan-alert-destinations"
	IDTLSExpired         = "tls-certificate-expired"
	IDTLSExpiring        = "tls-certificate-expiring"
	IDTLSSelfSigned      = "tls-self-signed"
	IDTLSOldProtocol     = "tls-old-protocol"
)

// Finding is one problem found on a BMC. Evidence never holds a password,
// a key or a captured hash.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Evidence string   `json:"evidence"`
	Remedy   string   `json:"remedy"`
	// Fixable says that Fix can apply the remedy over IPMI.
	Fixable bool `json:"fixable,omitempty"`
}

// catalog holds the fixed parts of every finding.
var catalog = map[string]Finding{
	IDCipherSuite0: {Severity: Critical, Fixable: true,
		Title:  "RMCP+ cipher suite 0 is accepted (authentication bypass)",
		Remedy: "Disable cipher suite 0 in the RMCP+ cipher suite privilege levels (LAN configuration parameter 24), e.g. `ipmitool lan set 1 cipher_privs` with X for suite 0, or run the scan with --fix."},
	IDWeakCipherSuites: {Severity: High,
		Title:  "cipher suites without integrity, without confidentiality or with RC4 are offered",
		Remedy: "Limit the cipher suite privilege levels (LAN configuration parameter 24) to suites 3 and 17; bmcgate itself uses only these."},
	IDAnonymousLogin: {Severity: Critical, Fixable: true,
		Title:  "anonymous login (null user name, empty password) is possible",
		Remedy: "Disable user 1 (the null user) and turn off anonymous login; --fix disables the null user."},
	IDNullUser: {Severity: High, Fixable: true,
		Title:  "logins with a null user name are enabled",
		Remedy: "Disable user 1 (the null user) so every login names an account; --fix does this."},
	IDDefaultCredentials: {Severity: Critical, Fixable: true,
		Title:  "an account still has its vendor default password",
		Remedy: "Set a long random password; --fix sets one and stores it in the gateway's secret store."},
	IDIPMI15None: {Severity: Critical, Fixable: true,
		Title:  "IPMI 1.5 authentication type \"none\" is enabled",
		Remedy: "Disable IPMI 1.5 authentication types none and straight password (LAN configuration parameter 2); --fix does this."},
	IDIPMI15Password: {Severity: Critical, Fixable: true,
		Title:  "IPMI 1.5 straight-password authentication is enabled (password in clear text)",
		Remedy: "Disable IPMI 1.5 authentication types none and straight password (LAN configuration parameter 2); --fix does this."},
	IDIPMI15Weak: {Severity: Medium,
		Title:  "IPMI 1.5 sessions with MD2/MD5 authentication and no encryption are enabled",
		Remedy: "Disable IPMI 1.5 on the LAN channel if nothing needs it; IPMI 2.0 with cipher suite 3 or 17 encrypts."},
	IDRAKPDisclosure: {Severity: Info,
		Title:  "IPMI 2.0 RAKP discloses a salted password hash to anyone who knows a user name",
		Remedy: "Inherent to IPMI 2.0: accept the risk only if the BMC is reachable from the gateway alone and its passwords are long, random and unique."},
	IDExtraAdmins: {Severity: Medium,
		Title:  "users other than the gateway's account hold Administrator privilege",
		Remedy: "Remove or lower the privilege of administrator accounts nobody needs; people should reach the BMC through the gateway."},
	IDGatewayAdmin: {Severity: Low,
		Title:  "the gateway's own account has Administrator privilege",
		Remedy: "Least privilege: give the gateway's account Operator unless it must run fixes or manage accounts."},
	IDSOLEnabled: {Severity: Info,
		Title:  "Serial-over-LAN is enabled",
		Remedy: "Disable SOL on BMCs where nobody needs a console; keep it behind the gateway where they do."},
	IDLANAlerts: {Severity: Info,
		Title:  "LAN alert destinations are configured",
		Remedy: "Check that every alert destination is expected: alerts leak events to their receiver."},
	IDTLSExpired: {Severity: High,
		Title:  "the web interface's TLS certificate has expired",
		Remedy: "Install a certificate from your CA."},
	IDTLSExpiring: {Severity: Medium,
		Title:  "the web interface's TLS certificate expires within 30 days",
		Remedy: "Renew the certificate."},
	IDTLSSelfSigned: {Severity: Medium,
		Title:  "the web interface uses a self-signed TLS certificate",
		Remedy: "Install a certificate from your CA so clients can verify the BMC."},
	IDTLSOldProtocol: {Severity: High,
		Title:  "the web interface accepts TLS 1.0 or 1.1",
		Remedy: "Allow only TLS 1.2 and 1.3 in the BMC's web settings or update its firmware."},
	// The Redfish side (redfish.go).
	IDIPMIOverLAN: {Severity: High,
		Title:  "IPMI over LAN is enabled on a BMC the gateway manages through Redfish",
		Remedy: "Switch IPMI over LAN off (ManagerNetworkProtocol IPMI.ProtocolEnabled false, or the BMC's network settings): the gateway does not need it, and IPMI 2.0 discloses password hashes."},
	IDPlainHTTP: {Severity: Medium,
		Title:  "plain HTTP is enabled on the BMC",
		Remedy: "Disable HTTP (ManagerNetworkProtocol HTTP.ProtocolEnabled false); keep HTTPS only."},
	IDSSDP: {Severity: Low,
		Title:  "SSDP discovery is enabled on the BMC",
		Remedy: "Disable SSDP (ManagerNetworkProtocol SSDP.ProtocolEnabled false): it advertises the BMC on the network."},
	IDForeignSessions: {Severity: High,
		Title:  "sessions are open on the BMC that the gateway did not open",
		Remedy: "Someone reaches the BMC around the gateway: find the client by its address, end its sessions, and restrict the BMC's network to the gateway."},
	IDRedfishTLSSelf: {Severity: Medium,
		Title:  "the Redfish service uses a self-signed TLS certificate",
		Remedy: "Install a certificate from your CA (the gateway pins it meanwhile)."},
	IDRedfishTLSExpiry: {Severity: Medium,
		Title:  "the Redfish service's TLS certificate has expired or expires within 30 days",
		Remedy: "Renew the certificate, then pin the new one (bmcgate pin BMC)."},
}

// newFinding builds a finding from the catalog with evidence.
func newFinding(id, format string, args ...any) Finding {
	f, ok := catalog[id]
	if !ok {
		panic("scan: unknown finding " + id)
	}
	f.ID = id
	f.Evidence = fmt.Sprintf(format, args...)
	return f
}
