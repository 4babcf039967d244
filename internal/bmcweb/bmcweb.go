// Package bmcweb holds the rules for a BMC's web-UI settings that the config
// loader (configs, which reports them at file:line) and the web-UI reverse
// proxy (which refuses a setting it is handed) must agree on: the shape of
// the BMC's web URL, the Host header modes, and which header names a BMC's
// extra header lists may add. It is a leaf: pure functions, no I/O.
package bmcweb

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL checks a BMC's web root, https://HOST[:PORT] with no user, path,
// query or fragment, and returns its host (without brackets) and port (443
// when absent). The host itself is not checked beyond being present.
func ParseURL(s string) (host string, port int, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", 0, errors.New("not a URL: want https://HOST[:PORT]")
	}
	if u.Scheme != "https" {
		return "", 0, errors.New("must start with https:// (the gateway never talks to a BMC in clear text)")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", 0, errors.New("want https://HOST[:PORT] with no user, path, query or fragment")
	}
	if u.Port() == "" {
		return u.Hostname(), 443, nil
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("port %q is out of range 1-65535", u.Port())
	}
	return u.Hostname(), p, nil
}

// CheckPort checks a further BMC port (extra_ports).
func CheckPort(p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %d is out of range 1-65535", p)
	}
	return nil
}

// HostMode is which Host header the BMC receives.
type HostMode string

// Host header modes (bmcs[i].web.host_header).
const (
	// HostBMCAddress sends the host of the BMC's URL (usually its IP), the
	// default: many BMC UIs answer 400 to any other Host.
	HostBMCAddress HostMode = "bmc_address"
	// HostBMCName sends the configured host name (the BMC's DNS name).
	HostBMCName HostMode = "bmc_name"
	// HostPassthrough sends the public host the browser used.
	HostPassthrough HostMode = "passthrough"
)

// Errors of ResolveHostMode.
var (
	ErrUnknownHostMode = errors.New("unknown mode: use bmc_address, bmc_name or passthrough")
	ErrNoHostName      = errors.New("required with host_header: bmc_name")
)

// ResolveHostMode returns the mode in force for m (HostBMCAddress when m is
// empty), or ErrUnknownHostMode, or ErrNoHostName when bmc_name mode has no
// host name to send.
func ResolveHostMode(m HostMode, hostName string) (HostMode, error) {
	switch m {
	case "":
		return HostBMCAddress, nil
	case HostBMCAddress, HostPassthrough:
		return m, nil
	case HostBMCName:
		if hostName == "" {
			return m, ErrNoHostName
		}
		return m, nil
	}
	return m, ErrUnknownHostMode
}

// neverPassed are header names no BMC's extra list may add: identity and
// forwarding headers, proxy and hop-by-hop headers, method overrides, and
// the headers whose values the gateway decides (framing, transport
// security, referrer policy, alternative services, reporting).
var neverPassed = map[string]bool{}

func init() {
	for _, n := range []string{
		"forwarded", "via", "x-real-ip", "x-client-ip", "client-ip", "true-client-ip", "cf-connecting-ip",
		"x-cluster-client-ip", "x-original-url", "x-rewrite-url", "x-original-host", "x-host", "host",
		"remote-user", "x-remote-user", "remote-addr", "x-remote-addr", "x-auth-request-user", "x-auth-request-email",
		"x-user", "x-username", "x-webauth-user", "x-proxyuser-ip", "x-original-forwarded-for",
		"proxy-authorization", "proxy-authenticate", "proxy-connection", "keep-alive", "transfer-encoding",
		"trailer", "connection", "upgrade", "http2-settings", "expect", "max-forwards",
		"x-http-method-override", "x-http-method", "x-method-override",
		"strict-transport-security", "x-frame-options", "referrer-policy", "alt-svc", "clear-site-data",
		"report-to", "reporting-endpoints", "nel", "service-worker-allowed", "set-cookie2",
		"content-security-policy-report-only", "public-key-pins", "expect-ct",
	} {
		neverPassed[n] = true
	}
}

// neverPassedPatterns are parts of names no extra list may add either:
// any spelling of a forwarding or client-address header, a remote or
// proxy user, the gateway's own headers.
var neverPassedPatterns = []string{"forward", "-ip", "_ip", "remote", "proxy", "x-auth-request", "x-bmcgate", "x_bmcgate", "real-ip", "real_ip", "original", "client"}

// MaxExtraHeaders bounds each of a BMC's extra header lists.
const MaxExtraHeaders = 32

// CheckExtraHeader reports why name may not be on a BMC's extra header
// list, or nil: it must be a valid header name, and not one the gateway
// never passes (identity, forwarding, hop-by-hop, method overrides, the
// gateway's own security headers).
func CheckExtraHeader(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a header name is 1 to 64 characters")
	}
	for i := 0; i < len(name); i++ {
		if !IsTokenChar(name[i]) {
			return fmt.Errorf("%q is not a valid header name", name)
		}
	}
	n := strings.ToLower(name)
	if neverPassed[n] {
		return fmt.Errorf("%s never passes the proxy", name)
	}
	for _, p := range neverPassedPatterns {
		if strings.Contains(n, p) {
			return fmt.Errorf("%s looks like an identity, forwarding or gateway header, which never pass the proxy", name)
		}
	}
	return nil
}

// IsTokenChar reports whether c may appear in a header name (RFC 9110
// token).
func IsTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
