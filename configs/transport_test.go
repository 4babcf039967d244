package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// redfishBase is the base config with a second BMC, rf01, reached only
// through Redfish (no ipmi section), with an SSH console (lines 23 to 34).
func redfishBase(t *testing.T) string {
	return baseConfig(t) + `  - name: rf01
    address: 10.0.0.2
    protocol: redfish
    redfish:
      username: root
      password_file: pw/node01
      tls:
        pin_sha256: "` + testPin + `"
    console:
      via: ssh
      profile: idrac
      host_key: "` + testKey(t, "bob") + `"
`
}

func TestRedfishBMCLoads(t *testing.T) {
	c, err := Load(writeFixture(t, redfishBase(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ipmi, rf := c.BMCs[0], c.BMCs[1]
	if ipmi.Protocol != ProtocolIPMI || !ipmi.HasIPMI() || ipmi.Redfish.Enabled() || ipmi.Console.Via != ConsoleViaSOL {
		t.Errorf("ipmi BMC: protocol %q, ipmi %v, redfish %v, console %q", ipmi.Protocol, ipmi.HasIPMI(), ipmi.Redfish.Enabled(), ipmi.Console.Via)
	}
	if rf.Protocol != ProtocolRedfish || rf.HasIPMI() || !rf.Redfish.Enabled() {
		t.Errorf("redfish BMC: protocol %q, ipmi %v, redfish %v", rf.Protocol, rf.HasIPMI(), rf.Redfish.Enabled())
	}
	if rf.Redfish.URL != "https://10.0.0.2" || rf.Redfish.Username != "root" || rf.RedfishPassword().Reveal() != testPassword {
		t.Errorf("redfish section: url %q user %q", rf.Redfish.URL, rf.Redfish.Username)
	}
	if rf.Console.Via != ConsoleViaSSH || rf.Console.Profile != "idrac" || rf.Console.PinnedHostKey() == nil {
		t.Errorf("console = %+v", rf.Console)
	}
}

func TestRedfishDefaults(t *testing.T) {
	// A fleet default of redfish; the account comes from the ipmi section,
	// the certificate verification from the web section; no console
	// section means SOL, since the BMC has IPMI settings.
	text := strings.Replace(baseConfig(t), "bmcs:\n", "bmc_defaults:\n  protocol: redfish\nbmcs:\n", 1) + `    web:
      url: https://10.0.0.1:8443
      tls:
        insecure_skip_verify_dangerous: true
    redfish:
      system_id: "System.Embedded.1"
`
	c, err := Load(writeFixture(t, text), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := c.BMCs[0]
	if b.Protocol != ProtocolRedfish || !b.HasIPMI() || b.Redfish.Username != "admin" || b.RedfishPassword().Reveal() != testPassword {
		t.Errorf("protocol %q ipmi %v user %q", b.Protocol, b.HasIPMI(), b.Redfish.Username)
	}
	if !b.Redfish.TLS.InsecureSkipVerifyDangerous || b.Redfish.URL != "https://10.0.0.1" || b.Redfish.SystemID != "System.Embedded.1" || b.Console.Via != ConsoleViaSOL {
		t.Errorf("redfish = %+v, console %q", b.Redfish, b.Console.Via)
	}
	// IPv6 address: the URL brackets it.
	c, err = Load(writeFixture(t, mutate(t, redfishBase(t), "address: 10.0.0.2", `address: "fd00::2"`)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[1].Redfish.URL != "https://[fd00::2]" {
		t.Errorf("url %q", c.BMCs[1].Redfish.URL)
	}
	// SkipSecrets reads no password.
	c, err = Load(writeFixture(t, redfishBase(t)), LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if !c.BMCs[1].RedfishPassword().IsZero() {
		t.Error("SkipSecrets read the Redfish password")
	}
}

func TestRedfishProblems(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"unknown protocol", "protocol: redfish", "protocol: snmp",
			[]string{"DIR/bmcgate.yaml:22: bmcs[1].ipmi.username: required (anonymous IPMI login is not supported)",
				"DIR/bmcgate.yaml:22: bmcs[1].ipmi: no password: set one of password_file, password_env or password",
				"DIR/bmcgate.yaml:24: bmcs[1].protocol: unknown protocol: use ipmi or redfish"}},
		{"no tls", "      tls:\n        pin_sha256: \"" + testPin + "\"\n", "",
			[]string{`DIR/bmcgate.yaml:25: bmcs[1].redfish.tls: required: set one of pin_sha256 (see "bmcgate pin"), ca_file or insecure_skip_verify_dangerous, or give the BMC a web section whose tls applies`}},
		{"two verifications", "        pin_sha256:", "        insecure_skip_verify_dangerous: true\n        pin_sha256:",
			[]string{"DIR/bmcgate.yaml:29: bmcs[1].redfish.tls.insecure_skip_verify_dangerous: set only one of pin_sha256, ca_file and insecure_skip_verify_dangerous (found pin_sha256 and insecure_skip_verify_dangerous)"}},
		{"bad pin", `pin_sha256: "` + testPin + `"`, `pin_sha256: "abc"`,
			[]string{`DIR/bmcgate.yaml:29: bmcs[1].redfish.tls.pin_sha256: not a SHA-256 fingerprint: want 64 hex digits, colons allowed (run "bmcgate pin")`}},
		{"plain http url", "    redfish:\n", "    redfish:\n      url: http://10.0.0.2\n",
			[]string{"DIR/bmcgate.yaml:26: bmcs[1].redfish.url: must start with https:// (the gateway never talks to a BMC in clear text)"}},
		{"url with a path", "    redfish:\n", "    redfish:\n      url: https://10.0.0.2/redfish/v1\n",
			[]string{"DIR/bmcgate.yaml:26: bmcs[1].redfish.url: want https://HOST[:PORT] with no user, path, query or fragment"}},
		{"no account", "      username: root\n      password_file: pw/node01\n", "",
			[]string{"DIR/bmcgate.yaml:25: bmcs[1].redfish.username: required: the gateway's Redfish account (username and one of password_file, password_env or password), or an ipmi section whose account the Redfish service shares"}},
		{"password without user", "      username: root\n", "",
			[]string{"DIR/bmcgate.yaml:25: bmcs[1].redfish.username: required with a Redfish password"}},
		{"two passwords", "      username: root\n      password_file: pw/node01\n", "      username: root\n      password_file: pw/node01\n      password_env: RF_PW\n",
			[]string{"DIR/bmcgate.yaml:28: bmcs[1].redfish.password_env: set only one of password_file, password_env and password (found password_file and password_env)"}},
		{"inline password refused", "      username: root\n      password_file: pw/node01\n", "      username: root\n      password: hunter2\n",
			[]string{"DIR/bmcgate.yaml:27: bmcs[1].redfish.password: inline passwords are refused unless secrets.allow_inline_passwords is true: use password_file or password_env"}},
		{"id with a slash", "    redfish:\n", "    redfish:\n      manager_id: ../Managers/x\n",
			[]string{`DIR/bmcgate.yaml:26: bmcs[1].redfish.manager_id: a resource Id may not contain '/', '?', '#', '%', '\\', spaces or control characters`}},
		{"sol without ipmi", "via: ssh", "via: sol",
			[]string{"DIR/bmcgate.yaml:31: bmcs[1].console.via: Serial-over-LAN needs IPMI: give the BMC an ipmi section, or use ssh",
				"DIR/bmcgate.yaml:32: bmcs[1].console.profile: only used with via: ssh",
				"DIR/bmcgate.yaml:33: bmcs[1].console.host_key: only used with via: ssh"}},
		{"unknown console profile", "profile: idrac", "profile: racadm",
			[]string{"DIR/bmcgate.yaml:32: bmcs[1].console.profile: unknown profile: use one of openbmc, idrac, ilo, supermicro, or a name from console_profiles"}},
		{"fingerprint instead of a key", `host_key: "` + testKey(t, "bob") + `"`, `host_key: "SHA256:abcdef"`,
			[]string{`DIR/bmcgate.yaml:33: bmcs[1].console.host_key: a fingerprint is not enough: pin the public key line ("ssh-ed25519 AAAA…", as "bmcgate pin --ssh" prints it)`}},
		{"dsa host key", `host_key: "` + testKey(t, "bob") + `"`, `host_key: "` + testKey(t, "dsa") + `"`,
			[]string{"DIR/bmcgate.yaml:33: bmcs[1].console.host_key: DSA (ssh-dss) host keys are refused: they sign with SHA-1"}},
		{"short rsa host key", `host_key: "` + testKey(t, "bob") + `"`, `host_key: "` + testKey(t, "rsa1024") + `"`,
			[]string{"DIR/bmcgate.yaml:33: bmcs[1].console.host_key: RSA key of 1024 bits is too weak: use at least 2048 bits, or an ed25519 key"}},
		{"console port out of range", "      via: ssh\n", "      via: ssh\n      port: 70000\n",
			[]string{"DIR/bmcgate.yaml:32: bmcs[1].console.port: port 70000 is out of range 1-65535"}},
		{"bad fleet default", "bmcs:\n", "bmc_defaults:\n  protocol: http\nbmcs:\n",
			[]string{"DIR/bmcgate.yaml:16: bmc_defaults.protocol: unknown protocol: use ipmi or redfish"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := mutate(t, redfishBase(t), tt.old, tt.new)
			got := problemLines(t, writeFixture(t, text), LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestIPMIStillRequiredForIPMIBMCs(t *testing.T) {
	text := mutate(t, baseConfig(t), "    ipmi:\n      username: admin\n      password_file: pw/node01\n", "")
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	want := []string{
		"DIR/bmcgate.yaml:16: bmcs[0].ipmi.username: required (anonymous IPMI login is not supported)",
		"DIR/bmcgate.yaml:16: bmcs[0].ipmi: no password: set one of password_file, password_env or password",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// consoleProfileBase defines an operator console profile and uses it for
// rf01 (profile lines 17 to 25).
func consoleProfileBase(t *testing.T) string {
	return mutate(t, strings.Replace(redfishBase(t), "bmcs:\n", `console_profiles:
  - name: lab-clp
    port: 2222
    steps:
      - expect: '-> $'
      - send: start console
        expect: 'attached'
        timeout: 2s
    detach: "\x1b("
    ended: '-> $'
bmcs:
`, 1), "profile: idrac", "profile: lab-clp")
}

func TestConsoleProfiles(t *testing.T) {
	c, err := Load(writeFixture(t, consoleProfileBase(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := c.ConsoleProfiles[0]
	if p.Name != "lab-clp" || p.Port != 2222 || len(p.Steps) != 2 || p.Steps[1].Timeout.Duration.Seconds() != 2 || p.Detach != "\x1b(" {
		t.Errorf("profile = %+v", p)
	}
	if c.BMCs[1].Console.Profile != "lab-clp" {
		t.Errorf("console profile %q", c.BMCs[1].Console.Profile)
	}
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"built-in name", "name: lab-clp", "name: ilo", []string{
			`DIR/bmcgate.yaml:16: console_profiles[0].name: "ilo" is a built-in profile: choose another name`,
			"DIR/bmcgate.yaml:42: bmcs[1].console.profile: unknown profile: use one of openbmc, idrac, ilo, supermicro, or a name from console_profiles"}},
		{"bad pattern", "expect: 'attached'", "expect: 'attached('", []string{
			"DIR/bmcgate.yaml:21: console_profiles[0].steps[1].expect: not a regular expression (Go RE2 syntax)"}},
		{"control character in send", "send: start console", `send: "start\rconsole"`, []string{
			"DIR/bmcgate.yaml:20: console_profiles[0].steps[1].send: at most 256 bytes without control characters (the carriage return is added)"}},
		{"timeout too short", "timeout: 2s", "timeout: 1ms", []string{
			"DIR/bmcgate.yaml:22: console_profiles[0].steps[1].timeout: 1ms is out of range: use 100ms to 5m0s"}},
		{"long detach", `detach: "\x1b("`, `detach: "0123456789"`, []string{
			"DIR/bmcgate.yaml:23: console_profiles[0].detach: at most 8 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeFixture(t, mutate(t, consoleProfileBase(t), tt.old, tt.new)), LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// imagesBase adds an image library with one image (lines 23 to 29) and
// writes the image file; it returns the config path.
func imagesBase(t *testing.T, extra func(string) string) string {
	content := []byte("an installation image\n")
	sum := sha256.Sum256(content)
	text := baseConfig(t) + `images:
  dir: images
  listen: 127.0.0.1:8081
  files:
    - name: debian-12
      file: debian-12.iso
      sha256: ` + hex.EncodeToString(sum[:]) + "\n"
	if extra != nil {
		text = extra(text)
	}
	path := writeFixture(t, text)
	dir := filepath.Join(filepath.Dir(path), "images")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "debian-12.iso"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImagesLoad(t *testing.T) {
	path := imagesBase(t, nil)
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	im := c.Images
	if !im.Enabled() || im.URL != "https://127.0.0.1:8081" || im.MaxConcurrent != DefaultImageMaxConcurrent || im.URLLifetime.Duration != DefaultImageURLLifetime {
		t.Errorf("images = %+v", im)
	}
	if got := im.Path(im.Files[0]); got != filepath.Join(filepath.Dir(path), "images", "debian-12.iso") {
		t.Errorf("path %q", got)
	}
	c, err = Load(writeFixture(t, baseConfig(t)), LoadOptions{})
	if err != nil || c.Images.Enabled() {
		t.Errorf("no images section: %v, enabled %v", err, c.Images.Enabled())
	}
}

func TestImagesProblems(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"path traversal", "file: debian-12.iso", "file: ../pw/node01",
			[]string{"DIR/bmcgate.yaml:27: images.files[0].file: must not start with a dot"}},
		{"directory in the name", "file: debian-12.iso", "file: sub/debian-12.iso",
			[]string{"DIR/bmcgate.yaml:27: images.files[0].file: a file name in images.dir, not a path"}},
		{"missing file", "file: debian-12.iso", "file: other.iso",
			[]string{"DIR/bmcgate.yaml:27: images.files[0].file: not a regular file in images.dir (symbolic links are refused)"}},
		{"bad checksum", "sha256: ", "sha256: 12",
			[]string{"DIR/bmcgate.yaml:28: images.files[0].sha256: required: the file's SHA-256 as 64 hex digits (sha256sum prints it)"}},
		{"bad name", "name: debian-12", "name: Debian 12",
			[]string{"DIR/bmcgate.yaml:26: images.files[0].name: image name contains a space"}},
		{"unspecified listen", "listen: 127.0.0.1:8081", "listen: 0.0.0.0:8081",
			[]string{"DIR/bmcgate.yaml:22: images.url: required when images.listen names no host: the address BMCs fetch images from, like https://10.0.0.1:8081"}},
		{"http url without the opt-in", "listen: 127.0.0.1:8081", "listen: 127.0.0.1:8081\n  url: http://10.0.0.9:8081",
			[]string{"DIR/bmcgate.yaml:25: images.url: want https://HOST[:PORT] with no user, path, query or fragment"}},
		{"listen on the ssh port", "listen: 127.0.0.1:8081", "listen: 127.0.0.1:2222",
			[]string{"DIR/bmcgate.yaml:24: images.listen: same address as listen.ssh"}},
		{"tls with plain http", "listen: 127.0.0.1:8081", "listen: 127.0.0.1:8081\n  plain_http_dangerous: true\n  tls:\n    cert_file: c.pem\n    key_file: k.pem",
			[]string{"DIR/bmcgate.yaml:26: images.tls: not used with plain_http_dangerous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := imagesBase(t, func(s string) string { return mutate(t, s, tt.old, tt.new) })
			got := problemLines(t, path, LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
	// A symbolic link to a file outside the directory is refused.
	path := imagesBase(t, nil)
	img := filepath.Join(filepath.Dir(path), "images", "debian-12.iso")
	if err := os.Remove(img); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(path), "pw", "node01"), img); err != nil {
		t.Fatal(err)
	}
	got := problemLines(t, path, LoadOptions{})
	if len(got) != 1 || !strings.Contains(got[0], "images.files[0].file: not a regular file") {
		t.Errorf("symlink: %q", got)
	}
}
