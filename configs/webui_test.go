package configs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const testPin = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

// webBase is the base config with a valid web section for node01 (lines 22
// to 26).
func webBase(t *testing.T) string {
	return baseConfig(t) + `    web:
      url: https://10.0.0.1
      tls:
        pin_sha256: "` + testPin + `"
      login: idrac9
`
}

func TestBMCWebLoads(t *testing.T) {
	c, err := Load(writeFixture(t, webBase(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := c.BMCs[0].WebUI
	if !w.Enabled() || w.HostHeader != HostHeaderBMCAddress || w.Login != "idrac9" || w.MaxSessions != DefaultWebMaxSessions ||
		w.IdleTimeout.Duration != DefaultBMCWebIdleTimeout || w.RewriteBody {
		t.Errorf("web = %+v", w)
	}
	// Without a web section the BMC has no web UI.
	c, err = Load(writeFixture(t, baseConfig(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[0].WebUI.Enabled() {
		t.Error("web enabled without a section")
	}
	// Login defaults to redfish.
	c, err = Load(writeFixture(t, mutate(t, webBase(t), "      login: idrac9\n", "")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[0].WebUI.Login != DefaultWebLogin {
		t.Errorf("default login %q", c.BMCs[0].WebUI.Login)
	}
}

func TestBMCWebCAFile(t *testing.T) {
	text := mutate(t, webBase(t), `pin_sha256: "`+testPin+`"`, "ca_file: ca.pem\n        server_name: idrac.example.com")
	path := writeFixture(t, text)
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "ca.pem"), testCAPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[0].WebUI.CAPool() == nil || c.BMCs[0].WebUI.TLS.CAFile != filepath.Join(filepath.Dir(path), "ca.pem") {
		t.Errorf("CA not loaded: %+v", c.BMCs[0].WebUI.TLS)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "ca.pem"), []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := problemLines(t, path, LoadOptions{})
	if len(got) != 1 || !strings.Contains(got[0], "bmcs[0].web.tls.ca_file: the CA file holds no PEM certificate") {
		t.Errorf("problems %q", got)
	}
	// SkipSecrets does not read it.
	if _, err := Load(path, LoadOptions{SkipSecrets: true}); err != nil {
		t.Errorf("SkipSecrets: %v", err)
	}
}

func TestBMCWebProblems(t *testing.T) {
	const f = "DIR/bmcgate.yaml"
	pinLine := `        pin_sha256: "` + testPin + `"` + "\n"
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"url missing", "      url: https://10.0.0.1\n", "", []string{f + ":22: bmcs[0].web.url: required: the BMC's web address, like https://10.0.0.5"}},
		{"url http", "https://10.0.0.1", "http://10.0.0.1", []string{f + ":23: bmcs[0].web.url: must start with https:// (the gateway never talks to a BMC in clear text)"}},
		{"url path", "https://10.0.0.1", "https://10.0.0.1/ui", []string{f + ":23: bmcs[0].web.url: want https://HOST[:PORT] with no user, path, query or fragment"}},
		{"url user", "https://10.0.0.1", "https://root:calvin@10.0.0.1", []string{f + ":23: bmcs[0].web.url: want https://HOST[:PORT] with no user, path, query or fragment"}},
		{"url port", "https://10.0.0.1", "https://10.0.0.1:70000", []string{f + `:23: bmcs[0].web.url: port "70000" is out of range 1-65535`}},
		{"url host", "https://10.0.0.1", "https://bad_host", []string{f + ":23: bmcs[0].web.url: the host is not a valid IP address or host name"}},
		{"no tls choice", pinLine, "        server_name: x\n", []string{
			f + ":24: bmcs[0].web.tls: set one of pin_sha256 (see \"bmcgate pin\"), ca_file or insecure_skip_verify_dangerous",
			f + ":25: bmcs[0].web.tls.server_name: only used with ca_file",
		}},
		{"two tls choices", pinLine, pinLine + "        insecure_skip_verify_dangerous: true\n", []string{f + ":26: bmcs[0].web.tls.insecure_skip_verify_dangerous: set only one of pin_sha256, ca_file and insecure_skip_verify_dangerous (found pin_sha256 and insecure_skip_verify_dangerous)"}},
		{"short pin", testPin, "AB:CD", []string{f + `:25: bmcs[0].web.tls.pin_sha256: not a SHA-256 fingerprint: want 64 hex digits, colons allowed (run "bmcgate pin")`}},
		{"unknown tls field", pinLine, pinLine + "        insecure_skip_verify: true\n", nil},
		{"login unknown", "login: idrac9", "login: idrac7", []string{f + ":26: bmcs[0].web.login: unknown login: use one of none, redfish, openbmc, idrac9, ilo5, ilo6, supermicro-x11, or a name from web_profiles"}},
		{"host header unknown", "login: idrac9", "login: idrac9\n      host_header: ip", []string{f + ":27: bmcs[0].web.host_header: unknown mode: use bmc_address, bmc_name or passthrough"}},
		{"bmc_name needs name", "login: idrac9", "login: idrac9\n      host_header: bmc_name", []string{f + ":22: bmcs[0].web.host_name: required with host_header: bmc_name"}},
		{"bad host name", "login: idrac9", "login: idrac9\n      host_header: bmc_name\n      host_name: a/b", []string{f + ":28: bmcs[0].web.host_name: the host is not a valid IP address or host name"}},
		{"extra ports", "login: idrac9", "login: idrac9\n      extra_ports: [5900, 0, 5900, 443]", []string{
			f + ":27: bmcs[0].web.extra_ports[1]: port 0 is out of range 1-65535",
			f + ":27: bmcs[0].web.extra_ports[2]: port 5900 is listed twice (or is the url's port)",
			f + ":27: bmcs[0].web.extra_ports[3]: port 443 is listed twice (or is the url's port)",
		}},
		{"max sessions", "login: idrac9", "login: idrac9\n      max_sessions: 0", []string{f + ":27: bmcs[0].web.max_sessions: 0 is out of range: use 1 to 64 (default 4)"}},
		{"idle timeout", "login: idrac9", "login: idrac9\n      idle_timeout: 5s", []string{f + ":27: bmcs[0].web.idle_timeout: 5s is out of range: use 1m0s to 24h0m0s (default 10m0s)"}},
		{"header names", "login: idrac9", "login: idrac9\n      request_headers: [ST2, \"bad name\", st2]\n      response_headers: [\"\"]", []string{
			f + ":27: bmcs[0].web.request_headers[1]: not a header name: 1 to 64 letters, digits and !#$%&'*+-.^_`|~",
			f + ":27: bmcs[0].web.request_headers[2]: st2 is listed twice",
			f + ":28: bmcs[0].web.response_headers[0]: not a header name: 1 to 64 letters, digits and !#$%&'*+-.^_`|~",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeFixture(t, mutate(t, webBase(t), tt.old, tt.new)), LoadOptions{})
			if tt.want == nil {
				if len(got) != 1 || !strings.Contains(got[0], "unknown field") {
					t.Errorf("got %q", got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// testCAPEM returns a self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test BMC CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
