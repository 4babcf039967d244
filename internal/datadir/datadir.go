// Package datadir is the one place that says where everything in bmcgate's
// data directory (data_dir in the config) lives. Every package that reads
// or writes there takes its names from here; nothing else spells a file
// name inside the directory.
//
//	<data_dir>/                        mode 0700, owned by bmcgate's user
//	  audit.db                         the audit log: hash-chained records and console recordings (package audit)
//	  audit.db-wal-<16 hex digits>     the audit log's write-ahead log: records acknowledged and not yet in audit.db,
//	                                   named by their first sequence number; removed once audit.db holds them (none after a clean stop)
//	  audit.db-wal.spare               a preallocated file of zeros the next write-ahead log file is made from (a busy gateway)
//	  ssh_host_ed25519_key             the SSH door's host key, unless ssh.host_key_file names another
//	  ssh_user_ca_ed25519_key          the gateway's SSH user CA (ssh.issue_certificates), mode 0600
//	  ssh_user_certs.json              the certificates that CA issued, mode 0600 (package gateway/sshca)
//	  ssh_user_certs_revoked           serials revoked by "bmcgate cert revoke", one line each
//	  credentials.json                 automation credentials: owner, scope, expiry, password hash, mode 0600 (package gateway/creds)
//	  credentials.key                  the key that seals RMCP+ credentials' passwords in credentials.json, mode 0600
//	  locks                            users and roles locked by "bmcgate lock", one line each (package gateway/locks)
//	  web.db                           the web door's sessions, pre-login records, TOTP state and API tokens
//	  web_tls_cert.pem, web_tls_key.pem             the web door's self-signed certificate (when web.tls is absent)
//	  web_proxy_tls_cert.pem, web_proxy_tls_key.pem the BMC web-UI hosts' self-signed certificate (when web.proxy_tls is absent)
//	  scan/<bmc>.json                  the last posture scan report of each BMC, mode 0600
//	  secrets/<bmc>.<user>.password    passwords bmcgate set on BMC accounts (scan --fix), mode 0600
//
// The demo (bmcgate demo) adds its own files beside them: bmcgate.yaml,
// known_hosts, ssh_config, demo.lock, demo_<user>_ed25519 key pairs, and
// secrets/<bmc> with the simulated BMCs' passwords.
package datadir

import (
	"fmt"
	"path/filepath"
	"strings"
)

// File and directory names inside the data directory.
const (
	AuditDB = "audit.db"
	// AuditWALPrefix begins the names of the audit log's write-ahead log
	// files (package audit derives them from the database's path).
	AuditWALPrefix = AuditDB + "-wal-"
	HostKey        = "ssh_host_ed25519_key"
	UserCA         = "ssh_user_ca_ed25519_key"
	UserCerts      = "ssh_user_certs.json"
	UserRevoked    = "ssh_user_certs_revoked"
	Credentials    = "credentials.json"
	CredentialsKey = "credentials.key"
	Locks          = "locks"
	WebDB          = "web.db"
	WebCert        = "web_tls_cert.pem"
	WebKey         = "web_tls_key.pem"
	WebProxyCert   = "web_proxy_tls_cert.pem"
	WebProxyKey    = "web_proxy_tls_key.pem"
	ScanDir        = "scan"
	SecretsDir     = "secrets"

	DemoConfig     = "bmcgate.yaml"
	DemoKnownHosts = "known_hosts"
	DemoSSHConfig  = "ssh_config"
	DemoLock       = "demo.lock"
)

// DemoKey is the demo's private key file of user.
func DemoKey(user string) string { return "demo_" + user + "_ed25519" }

// Secret is the file that holds the password bmcgate set for user on the
// BMC named bmc, inside the secret store (SecretsDir): one file per BMC
// account, mode 0600, written atomically. A BMC's ipmi.password_file may
// point at one of them. Names that could leave the directory are refused.
func Secret(dataDir, bmc, user string) (string, error) {
	for _, part := range []string{bmc, user} {
		if part == "" || strings.HasPrefix(part, ".") || strings.Trim(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return "", fmt.Errorf("secret store: %q cannot name a file", part)
		}
	}
	return filepath.Join(dataDir, SecretsDir, bmc+"."+user+".password"), nil
}
