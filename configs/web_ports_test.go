package configs

import (
	"slices"
	"strings"
	"testing"
)

// portsConfig is the web config with node01's web UI (extra port 5900),
// web.proxy_domain localhost and one proxy_ports entry for 5900.
func portsConfig(t *testing.T) string {
	t.Helper()
	withHTTPS := mutate(t, baseConfig(t), "  ssh: 127.0.0.1:2222\n", "  ssh: 127.0.0.1:2222\n  https: 127.0.0.1:8443\n")
	webSection := strings.TrimPrefix(webConfig(t), withHTTPS)
	bmc := strings.TrimPrefix(webBase(t), baseConfig(t))
	return withHTTPS + bmc + "      extra_ports: [5900]\n" + mutate(t, webSection, "web:\n",
		"web:\n  proxy_domain: localhost\n  proxy_ports:\n    - bmc_port: 5900\n      listen: 127.0.0.1:15900\n")
}

func TestWebProxyPortsLoad(t *testing.T) {
	c, err := Load(writeWebFixture(t, portsConfig(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ProxyPort{{BMCPort: 5900, Listen: "127.0.0.1:15900", PublicPort: 15900}}
	if !slices.Equal(c.Web.ProxyPorts, want) {
		t.Errorf("proxy_ports = %+v", c.Web.ProxyPorts)
	}
	c, err = Load(writeWebFixture(t, mutate(t, portsConfig(t), "listen: 127.0.0.1:15900\n", "listen: 127.0.0.1:15900\n      public_port: 443\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Web.ProxyPorts[0].PublicPort; p != 443 {
		t.Errorf("public_port = %d", p)
	}
}

// TestWebProxyPortsProblems mutates the valid config once per case and
// checks the problems reported (field and message, without line numbers).
func TestWebProxyPortsProblems(t *testing.T) {
	entry := "    - bmc_port: 5900\n      listen: 127.0.0.1:15900\n"
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"unmapped extra port", "extra_ports: [5900]", "extra_ports: [5900, 5901]",
			[]string{`bmcs[0].web.extra_ports[1]: port 5901 has no listener: add {bmc_port: 5901, listen: "0.0.0.0:PORT"} to web.proxy_ports`}},
		{"no domain", "  proxy_domain: localhost\n", "", []string{
			"web.proxy_ports: needs web.proxy_domain"}},
		{"bad bmc port", "bmc_port: 5900", "bmc_port: 0", []string{
			`bmcs[0].web.extra_ports[0]: port 5900 has no listener: add {bmc_port: 5900, listen: "0.0.0.0:PORT"} to web.proxy_ports`,
			"web.proxy_ports[0].bmc_port: port 0 is out of range 1-65535"}},
		{"mapped twice", entry, entry + "    - bmc_port: 5900\n      listen: 127.0.0.1:15901\n", []string{
			"web.proxy_ports[1].bmc_port: port 5900 is mapped twice"}},
		{"listen missing", "      listen: 127.0.0.1:15900\n", "", []string{
			"web.proxy_ports[0].listen: required: the gateway address for this port, like 0.0.0.0:15900"}},
		{"listen bad", "127.0.0.1:15900", "127.0.0.1", []string{
			`web.proxy_ports[0].listen: invalid address "127.0.0.1": want host:port, like 127.0.0.1:2222`}},
		{"listen is https", "127.0.0.1:15900", "127.0.0.1:8443", []string{
			"web.proxy_ports[0].listen: 127.0.0.1:8443 uses the port of listen.https (127.0.0.1:8443)"}},
		{"listen any is ssh", "127.0.0.1:15900", "0.0.0.0:2222", []string{
			"web.proxy_ports[0].listen: 0.0.0.0:2222 uses the port of listen.ssh (127.0.0.1:2222)"}},
		{"listen twice", entry, entry + "    - bmc_port: 5901\n      listen: \":15900\"\n", []string{
			"web.proxy_ports[1].listen: :15900 uses the port of another proxy_ports entry (127.0.0.1:15900)"}},
		{"public port range", "listen: 127.0.0.1:15900\n", "listen: 127.0.0.1:15900\n      public_port: 70000\n", []string{
			"web.proxy_ports[0].public_port: port 70000 is out of range 1-65535"}},
		{"public port twice", entry, entry + "    - bmc_port: 5901\n      listen: 127.0.0.1:15901\n      public_port: 15900\n", []string{
			"web.proxy_ports[1].public_port: public port 15900 is used by another proxy_ports entry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeWebFixture(t, mutate(t, portsConfig(t), tt.old, tt.new)), LoadOptions{})
			var msgs []string
			for _, g := range got {
				// "DIR/bmcgate.yaml:LINE: field: message"
				parts := strings.SplitN(g, ": ", 2)
				msgs = append(msgs, parts[len(parts)-1])
			}
			if !slices.Equal(msgs, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestWebBMCPortHost(t *testing.T) {
	w := Web{ProxyDomain: "bmc.example.com"}
	tests := []struct {
		name string
		port int
		want string
	}{
		{"node01", 15900, "node01.bmc.example.com:15900"},
		{"node01", 443, "node01.bmc.example.com"},
		{"bad_name", 15900, ""},
	}
	for _, tt := range tests {
		if got := w.BMCPortHost(tt.name, tt.port); got != tt.want {
			t.Errorf("BMCPortHost(%q, %d) = %q, want %q", tt.name, tt.port, got, tt.want)
		}
	}
	if got := (Web{}).BMCPortHost("node01", 15900); got != "" {
		t.Errorf("without proxy_domain: %q", got)
	}
}
