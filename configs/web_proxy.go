package configs

import (
	"net"
	"net/url"
	"strings"
)

// The BMC web UIs are served on host names of their own under
// web.proxy_domain: BMC node01 is https://node01.<proxy_domain>[:port],
// on the web door's port. BMC UIs use absolute paths and cookies, which
// break under a path prefix, so each BMC gets its own origin.

// webProxy checks web.proxy_domain and web.proxy_tls.
func (v *validator) webProxy() {
	w := &v.c.Web
	const field = "web.proxy_domain"
	t := &w.ProxyTLS
	v.certKeyPair("web.proxy_tls", t)
	if w.ProxyDomain == "" {
		if v.present(field) {
			v.probs.add(field, "must not be empty (leave it out to keep BMC web UIs off)")
		}
		if t.CertFile != "" {
			v.probs.add("web.proxy_tls", "needs web.proxy_domain")
		}
		return
	}
	d := w.ProxyDomain
	switch {
	case d != strings.ToLower(d):
		v.probs.add(field, "must be lower case: write %q", strings.ToLower(d))
		return
	case strings.HasPrefix(d, "*.") || strings.HasPrefix(d, "."):
		v.probs.add(field, "write the domain without a wildcard or leading dot, like bmc.example.com")
		return
	case strings.ContainsAny(d, ":/"):
		v.probs.add(field, "a domain only, without scheme or port, like bmc.example.com")
		return
	}
	if err := checkHost(d); err != nil || isIP(d) || strings.HasSuffix(d, ".") {
		v.probs.add(field, "not a DNS domain: use one like bmc.example.com (or localhost for local use)")
		return
	}
	if u, err := url.Parse(w.PublicURL); err == nil && u.Hostname() != "" {
		h := strings.ToLower(u.Hostname())
		if strings.HasSuffix(h, "."+d) {
			v.probs.add(field, "the public_url host %s is inside the BMC domain: pick a domain the gateway's own host is not under", h)
		}
	}
}

// isIP reports whether host is an IP address literal.
func isIP(host string) bool { return net.ParseIP(host) != nil }

// BMCHost returns the public host[:port] of a BMC's web UI, as browsers write
// it in Host and Origin ("node01.bmc.example.com:8443"), or "" when
// web.proxy_domain is not set or the name cannot be a DNS label.
func (w Web) BMCHost(name string) string {
	port := w.originPort
	if port == 0 {
		port = 443 // no public URL: no port
	}
	return w.BMCPortHost(name, port)
}

// BMCFromHost returns the BMC name of a BMC web UI host (a Host header, with
// or without port, any case), or "" when host is not under
// web.proxy_domain. The name is not checked against the inventory.
func (w Web) BMCFromHost(host string) string {
	if w.ProxyDomain == "" {
		return ""
	}
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, ok := strings.CutSuffix(host, "."+w.ProxyDomain)
	if !ok || !dnsLabel(label) {
		return ""
	}
	return label
}

// dnsLabel reports whether s is one DNS label of lower-case letters, digits
// and inner hyphens: BMC names with dots or underscores get no web UI host.
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
