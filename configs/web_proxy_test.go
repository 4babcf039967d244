package configs

import (
	"slices"
	"strings"
	"testing"
)

// TestWebProxyDomainProblems changes web.proxy_domain (or proxy_tls) in the
// web config and checks the exact problems.
func TestWebProxyDomainProblems(t *testing.T) {
	const f = "DIR/bmcgate.yaml"
	tests := []struct {
		name, add string
		want      []string
	}{
		{"upper case", "  proxy_domain: BMC.example.com\n", []string{f + `:24: web.proxy_domain: must be lower case: write "bmc.example.com"`}},
		{"wildcard", "  proxy_domain: \"*.bmc.example.com\"\n", []string{f + ":24: web.proxy_domain: write the domain without a wildcard or leading dot, like bmc.example.com"}},
		{"port", "  proxy_domain: bmc.example.com:8443\n", []string{f + ":24: web.proxy_domain: a domain only, without scheme or port, like bmc.example.com"}},
		{"ip", "  proxy_domain: 10.0.0.1\n", []string{f + ":24: web.proxy_domain: not a DNS domain: use one like bmc.example.com (or localhost for local use)"}},
		{"empty", "  proxy_domain: \"\"\n", []string{f + ":24: web.proxy_domain: must not be empty (leave it out to keep BMC web UIs off)"}},
		{"public host inside", "  public_url: https://gw.bmc.example.com\n  proxy_domain: bmc.example.com\n",
			[]string{f + ":25: web.proxy_domain: the public_url host gw.bmc.example.com is inside the BMC domain: pick a domain the gateway's own host is not under"}},
		{"tls half", "  proxy_domain: bmc.example.com\n  proxy_tls:\n    cert_file: w.crt\n", []string{f + ":25: web.proxy_tls.key_file: required with cert_file"}},
		{"tls without domain", "  proxy_tls:\n    cert_file: w.crt\n    key_file: w.key\n", []string{f + ":24: web.proxy_tls: needs web.proxy_domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeWebFixture(t, mutate(t, webConfig(t), "web:\n", "web:\n"+tt.add)), LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestWebProxyDomainOK(t *testing.T) {
	for _, d := range []string{"bmc.example.com", "localhost"} {
		c, err := Load(writeWebFixture(t, mutate(t, webConfig(t), "web:\n", "web:\n  proxy_domain: "+d+"\n")), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if c.Web.ProxyDomain != d || c.Web.BMCHost("node01") != "node01."+d+":8443" {
			t.Errorf("%s: domain %q, host %q", d, c.Web.ProxyDomain, c.Web.BMCHost("node01"))
		}
	}
}

func TestWebBMCHost(t *testing.T) {
	w := Web{ProxyDomain: "bmc.example.com", origin: "https://gw.example.com:8443", originPort: 8443}
	if h := w.BMCHost("node01"); h != "node01.bmc.example.com:8443" {
		t.Errorf("BMCHost = %q", h)
	}
	for _, bad := range []string{"rack1.node01", "node_01", "-x", ""} {
		if h := w.BMCHost(bad); h != "" {
			t.Errorf("BMCHost(%q) = %q, want none", bad, h)
		}
	}
	tests := map[string]string{
		"node01.bmc.example.com":          "node01",
		"NODE01.BMC.EXAMPLE.COM:8443":     "node01",
		"a.node01.bmc.example.com":        "",
		"node01.bmc.example.com.evil.com": "",
		"bmc.example.com":                 "",
		"node01.xbmc.example.com":         "",
		"gw.example.com:8443":             "",
	}
	for host, want := range tests {
		if got := w.BMCFromHost(host); got != want {
			t.Errorf("BMCFromHost(%q) = %q, want %q", host, got, want)
		}
	}
	if (Web{origin: "https://gw.example.com"}).BMCHost("node01") != "" {
		t.Error("BMCHost without proxy_domain")
	}
}

// TestWebBMCHostPublicPort: a BMC host carries the public_url's port, and
// none when that is 443, written or not.
func TestWebBMCHostPublicPort(t *testing.T) {
	for url, want := range map[string]string{
		"https://gw.example.com:9443": "node01.bmc.example.com:9443",
		"https://gw.example.com:443":  "node01.bmc.example.com",
		"https://gw.example.com":      "node01.bmc.example.com",
	} {
		c, err := Load(writeWebFixture(t, mutate(t, webConfig(t), "web:\n", "web:\n  public_url: "+url+"\n  proxy_domain: bmc.example.com\n")), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if got := c.Web.BMCHost("node01"); got != want {
			t.Errorf("%s: BMCHost = %q, want %q", url, got, want)
		}
	}
}
