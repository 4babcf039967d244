package configs

import "golang.org/x/crypto/ssh"

// Config is a loaded, validated bmcgate configuration. After Load, defaults
// are filled in and relative paths are resolved against the config file's
// directory.
type Config struct {
	Version int    `yaml:"version"`
	Listen  Listen `yaml:"listen"`
	// DataDir holds the gateway's state (audit log, host key). Required.
	DataDir string  `yaml:"data_dir"`
	SSH     SSH     `yaml:"ssh"`
	Limits  Limits  `yaml:"limits"`
	Secrets Secrets `yaml:"secrets"`
	Roles   []Role  `yaml:"roles"`
	Users   []User  `yaml:"users"`
	BMCs    []BMC   `yaml:"bmcs"`
	// WebProfiles are BMC web-UI login profiles defined here, for
	// bmcs[i].web.login (webui_profiles.go).
	WebProfiles []WebProfile `yaml:"web_profiles"`
	// Console configures the Serial-over-LAN console broker (console.go).
	Console Console `yaml:"console"`
	// Web configures the HTTPS front door and OIDC login (web.go).
	Web Web `yaml:"web"`
	// Scan configures the BMC posture scan (scan.go).
	Scan Scan `yaml:"scan"`
	// Audit configures the audit log's start-up verification and disk
	// watch (audit.go).
	Audit Audit `yaml:"audit"`
	// BMCDefaults holds fleet-wide defaults of the bmcs entries
	// (transport.go).
	BMCDefaults BMCDefaults `yaml:"bmc_defaults"`
	// ConsoleProfiles are BMC SSH console profiles defined here, for
	// bmcs[i].console.profile (bmcconsole.go).
	ConsoleProfiles []ConsoleProfile `yaml:"console_profiles"`
	// Images is the library of installation images the gateway serves to
	// BMCs' virtual media (images.go).
	Images Images `yaml:"images"`

	// Path is the file the config came from.
	Path string `yaml:"-"`

	pos      positions // field path -> position in the file
	sshLogin bool      // someone can log in over SSH (SSHLogin), set by Load
}

// Listen says where the front doors listen.
type Listen struct {
	// SSH is host:port for the SSH server; default "127.0.0.1:2222".
	SSH string `yaml:"ssh"`
	// HTTPS is host:port for the web door; empty means off.
	HTTPS string `yaml:"https"`
}

// SSH configures the SSH front door.
type SSH struct {
	// HostKeyFile is the server's private host key; default
	// <data_dir>/ssh_host_ed25519_key.
	HostKeyFile string `yaml:"host_key_file"`
	// UserCAKeys are CA public keys (authorized_keys format, optionally with
	// the cert-authority option) whose user certificates are accepted.
	UserCAKeys []string `yaml:"user_ca_keys"`
	// Banner is shown to clients before authentication.
	Banner string `yaml:"banner"`
	// RevokedKeys is an OpenSSH key revocation list (ssh-keygen -k) or a
	// file of public keys, one per line, refused at login; re-read when it
	// changes. Optional.
	RevokedKeys string `yaml:"revoked_keys"`
	// KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms are what the
	// front door offers, in order of preference (ssh_crypto.go); Load fills
	// in DefaultSSHAlgorithms for those left out and refuses weak ones.
	KexAlgorithms     []string `yaml:"kex_algorithms"`
	Ciphers           []string `yaml:"ciphers"`
	MACs              []string `yaml:"macs"`
	HostKeyAlgorithms []string `yaml:"host_key_algorithms"`
	// IssueCertificates turns on the gateway's own user CA: single sign-on
	// users get short-lived SSH certificates from the web door's "SSH
	// access" page (needs listen.https and web.oidc). Off by default.
	IssueCertificates bool `yaml:"issue_certificates"`
	// CertMaxLifetime is the longest validity of such a certificate (8h).
	CertMaxLifetime Duration `yaml:"cert_max_lifetime"`

	caKeys []ssh.PublicKey
}

// CAKeys returns the parsed UserCAKeys, in order.
func (s SSH) CAKeys() []ssh.PublicKey {
	return append([]ssh.PublicKey(nil), s.caKeys...)
}

// Secrets configures where BMC passwords may come from.
type Secrets struct {
	// AllowInlinePasswords permits ipmi.password in the config file itself.
	AllowInlinePasswords bool `yaml:"allow_inline_passwords"`
}

// Role is a named set of rules, checked by the gateway with package authz.
type Role struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Allow       []Rule `yaml:"allow"`
	Deny        []Rule `yaml:"deny"`
}

// Rule grants or refuses Actions (patterns like "power.*") on the BMCs
// matched by BMCs (selectors like "rack=r1"). A rule without BMCs covers
// only global actions.
type Rule struct {
	Actions []string `yaml:"actions"`
	BMCs    []string `yaml:"bmcs"`
}

// User is a person or robot that logs in over SSH.
type User struct {
	Name     string   `yaml:"name"`
	SSHKeys  []string `yaml:"ssh_keys"`
	Roles    []string `yaml:"roles"`
	Disabled bool     `yaml:"disabled"`

	keys []ssh.PublicKey
}

// PublicKeys returns the parsed SSHKeys, in order.
func (u User) PublicKeys() []ssh.PublicKey {
	return append([]ssh.PublicKey(nil), u.keys...)
}

// BMC is one baseboard management controller.
type BMC struct {
	Name string `yaml:"name"`
	// Address is host:port; after Load the port is always present (623 when
	// the file gives none).
	Address string            `yaml:"address"`
	Labels  map[string]string `yaml:"labels"`
	IPMI    IPMI              `yaml:"ipmi"`
	// WebUI is how the gateway reaches the BMC's own web interface
	// (webui.go); optional.
	WebUI BMCWeb `yaml:"web"`
	// Protocol is how commands reach the BMC: "ipmi" or "redfish"
	// (default bmc_defaults.protocol, itself "ipmi" by default).
	Protocol string `yaml:"protocol"`
	// Redfish is how the gateway reaches the BMC's Redfish service
	// (transport.go); required in substance when Protocol is "redfish".
	Redfish BMCRedfish `yaml:"redfish"`
	// Console is how the gateway attaches to the host's serial console
	// (bmcconsole.go): Serial-over-LAN by default, or the BMC's own SSH
	// console service.
	Console BMCConsole `yaml:"console"`

	password Secret
	hasIPMI  bool
}

// HasIPMI reports whether the BMC has an ipmi section (always true for a
// BMC whose protocol is ipmi). A Redfish BMC without one is never reached
// over IPMI.
func (b BMC) HasIPMI() bool { return b.hasIPMI }

// Password returns the BMC password resolved at load time. It is the zero
// Secret when the config was loaded with LoadOptions.SkipSecrets.
func (b BMC) Password() Secret {
	return b.password
}

// IPMI is how the gateway logs in to a BMC over RMCP+.
type IPMI struct {
	Username string `yaml:"username"`
	// Exactly one of PasswordFile, PasswordEnv and Password must be set.
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// Password is an inline password, refused unless
	// secrets.allow_inline_passwords is true.
	Password Secret `yaml:"password"`
	// CipherSuite is the RMCP+ cipher suite: 3 (default) or 17.
	CipherSuite int `yaml:"cipher_suite"`
	// Privilege is the session privilege level: "user", "operator"
	// (default) or "administrator".
	Privilege string `yaml:"privilege"`
}

// The RMCP+ cipher suites bmcgate accepts.
const (
	// CipherSuite3 is HMAC-SHA1 authentication, HMAC-SHA1-96 integrity and
	// AES-CBC-128 confidentiality: supported by nearly every BMC.
	CipherSuite3 = 3
	// CipherSuite17 is HMAC-SHA256, HMAC-SHA256-128 and AES-CBC-128.
	CipherSuite17 = 17
)

// Privilege levels for IPMI.Privilege.
const (
	PrivilegeUser          = "user"
	PrivilegeOperator      = "operator"
	PrivilegeAdministrator = "administrator"
)
