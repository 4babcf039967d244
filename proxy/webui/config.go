package webui

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/internal/bmcweb"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// HostMode is which Host header the BMC receives (package bmcweb's rules,
// shared with the config loader).
type HostMode = bmcweb.HostMode

// Host header modes.
const (
	HostBMCAddress  = bmcweb.HostBMCAddress
	HostBMCName     = bmcweb.HostBMCName
	HostPassthrough = bmcweb.HostPassthrough
)

// Defaults for Config fields left zero.
const (
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultDialTimeout           = 10 * time.Second
	DefaultMaxRequestBody        = 64 << 20 // firmware images go through UpdateService
	DefaultMaxHeaderBytes        = 64 << 10
	DefaultMaxResponseHeader     = 256 << 10
	DefaultMaxIdleConns          = 128
	// maxClassifyBody bounds how much of a Redfish action body is read to
	// classify it.
	maxClassifyBody = 64 << 10
)

// TLS is how the proxy verifies the BMC's certificate (see
// [bmctls.Verify]). Exactly one of PinSHA256, Roots and
// InsecureSkipVerifyDangerous must be set; ServerName defaults to the URL's
// host.
type TLS = bmctls.Verify

// Config describes one BMC's web interface.
type Config struct {
	// Name is the BMC's name in bmcgate, for logs and errors.
	Name string
	// URL is the BMC's web root, like https://10.0.0.5 or
	// https://10.0.0.5:8443. Only https is accepted.
	URL string
	TLS TLS
	// HostHeader is the Host the BMC receives; default HostBMCAddress.
	HostHeader HostMode
	// HostName is sent as Host when HostHeader is HostBMCName.
	HostName string
	// ExtraPorts are further BMC ports (on the same host) requests may be
	// sent to, for KVM and virtual media services on their own ports.
	ExtraPorts []int
	// RewriteBody rewrites absolute links to the BMC's own address in
	// HTML, JavaScript and CSS responses to the public host.
	RewriteBody bool
	// GatewayHeaders and GatewayCookies are headers and cookies the gateway
	// itself uses on BMC hosts; they are removed before forwarding.
	GatewayHeaders []string
	GatewayCookies []string
	// RequestHeaders and ResponseHeaders name further headers this BMC's UI
	// needs passed (a vendor's own CSRF or session header), beyond the
	// built-in allow-lists. A name the gateway never passes (see
	// bmcweb.CheckExtraHeader) is an error.
	RequestHeaders  []string
	ResponseHeaders []string

	ResponseHeaderTimeout time.Duration
	DialTimeout           time.Duration
	MaxRequestBody        int64
	MaxHeaderBytes        int
	Logger                *slog.Logger
}

// target is a validated Config.
type target struct {
	name     string
	base     *url.URL // scheme https, host:port always with port
	host     string   // hostname without port
	port     int
	extra    map[int]bool
	hostMode HostMode
	hostName string
}

func (c *Config) target() (*target, error) {
	host, port, err := bmcweb.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("web: BMC %s: url: %w", c.Name, err)
	}
	t := &target{
		name:     c.Name,
		base:     &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))},
		host:     strings.ToLower(host),
		port:     port,
		extra:    map[int]bool{},
		hostName: c.HostName,
	}
	for _, p := range c.ExtraPorts {
		if err := bmcweb.CheckPort(p); err != nil {
			return nil, fmt.Errorf("web: BMC %s: extra port: %w", c.Name, err)
		}
		t.extra[p] = true
	}
	if t.hostMode, err = bmcweb.ResolveHostMode(c.HostHeader, c.HostName); err != nil {
		return nil, fmt.Errorf("web: BMC %s: host_header %q: %w", c.Name, c.HostHeader, err)
	}
	if err := c.TLS.Check(); err != nil {
		return nil, fmt.Errorf("web: BMC %s: %w", c.Name, err)
	}
	return t, nil
}

// hostFor returns host:port of the BMC for port, with the default port left
// out as a browser would.
func (t *target) authority(port int) string {
	if port == 443 {
		return hostLiteral(t.host)
	}
	return net.JoinHostPort(t.host, strconv.Itoa(port))
}

// hostLiteral brackets IPv6 literals.
func hostLiteral(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
