package scan

import (
	"context"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// Finding IDs of the Redfish side of the scan.
const (
	IDIPMIOverLAN      = "ipmi-over-lan-enabled"
	IDPlainHTTP        = "plain-http-enabled"
	IDSSDP             = "ssdp-enabled"
	IDForeignSessions  = "sessions-not-opened-by-gateway"
	IDRedfishTLSSelf   = "redfish-tls-self-signed"
	IDRedfishTLSExpiry = "redfish-tls-certificate-expiring"
)

// RedfishSource is what the Redfish side of the scan reads (the Redfish
// broker of proxy/redfish).
type RedfishSource interface {
	NetworkProtocols(ctx context.Context, ep redfish.Endpoint) (map[string]redfish.Protocol, error)
	FirmwareInventory(ctx context.Context, ep redfish.Endpoint) ([]redfish.Firmware, error)
	Accounts(ctx context.Context, ep redfish.Endpoint) ([]redfish.Account, error)
	Sessions(ctx context.Context, ep redfish.Endpoint) ([]redfish.SessionInfo, error)
	Certificate(ctx context.Context, ep redfish.Endpoint) (*x509.Certificate, error)
}

// RedfishInfo is what the Redfish side of the scan read.
type RedfishInfo struct {
	Protocols map[string]redfish.Protocol `json:"protocols,omitempty"`
	Firmware  []redfish.Firmware          `json:"firmware_inventory,omitempty"`
	Accounts  []redfish.Account           `json:"accounts,omitempty"`
	Sessions  []redfish.SessionInfo       `json:"sessions,omitempty"`
	CertUntil time.Time                   `json:"certificate_not_after,omitzero"`
}

// ScanRedfish adds the Redfish side to r: network services (IPMI over
// LAN, plain HTTP, SSDP), the service's certificate, the firmware
// inventory, Administrator accounts besides the gateway's, and sessions
// the gateway did not open. A BMC that answers any of it is reachable.
func (s *Scanner) ScanRedfish(ctx context.Context, r *Report, ep redfish.Endpoint) {
	src := s.opts.Redfish
	if src == nil {
		return
	}
	ScanRedfish(ctx, r, src, ep, time.Now())
}

// ScanRedfish is Scanner.ScanRedfish with the source and clock given.
func ScanRedfish(ctx context.Context, r *Report, src RedfishSource, ep redfish.Endpoint, now time.Time) {
	info := &RedfishInfo{}
	ok := false
	phase := func(what string, read func() error) {
		if err := read(); err != nil {
			// Only the broker's user-facing text: it never holds a secret.
			msg := "failed"
			if re, isRF := err.(*redfish.Error); isRF && re.Msg != "" {
				msg = re.Msg
			}
			r.Problems = append(r.Problems, "redfish "+what+": "+msg)
			return
		}
		ok = true
	}
	phase("network protocols", func() (err error) {
		info.Protocols, err = src.NetworkProtocols(ctx, ep)
		if err == nil {
			protocolFindings(r, info.Protocols)
		}
		return err
	})
	phase("certificate", func() error {
		c, err := src.Certificate(ctx, ep)
		if err == nil && c != nil {
			info.CertUntil = c.NotAfter
			certificateFindings(r, c, now)
		}
		return err
	})
	phase("firmware inventory", func() (err error) {
		info.Firmware, err = src.FirmwareInventory(ctx, ep)
		return err
	})
	phase("accounts", func() (err error) {
		info.Accounts, err = src.Accounts(ctx, ep)
		if err == nil {
			accountFindings(r, info.Accounts, ep.Username)
		}
		return err
	})
	phase("sessions", func() (err error) {
		info.Sessions, err = src.Sessions(ctx, ep)
		if err == nil {
			sessionFindings(r, info.Sessions)
		}
		return err
	})
	if ok {
		r.Reachable = true
		r.Redfish = info
	}
}

// protocolFindings reports IPMI over LAN, plain HTTP and SSDP enabled.
func protocolFindings(r *Report, p map[string]redfish.Protocol) {
	enabled := func(name string) (redfish.Protocol, bool) {
		pr, found := p[name]
		return pr, found && pr.Enabled != nil && *pr.Enabled
	}
	if pr, on := enabled("IPMI"); on {
		r.add(with(IDIPMIOverLAN, fmt.Sprintf("ManagerNetworkProtocol: IPMI enabled on port %d", pr.Port)))
	}
	if pr, on := enabled("HTTP"); on {
		r.add(with(IDPlainHTTP, fmt.Sprintf("ManagerNetworkProtocol: HTTP enabled on port %d", pr.Port)))
	}
	if _, on := enabled("SSDP"); on {
		r.add(with(IDSSDP, "ManagerNetworkProtocol: SSDP enabled"))
	}
}

// certificateFindings reports a self-signed or expiring certificate.
func certificateFindings(r *Report, c *x509.Certificate, now time.Time) {
	if selfSigned(c) {
		r.add(with(IDRedfishTLSSelf, "issuer = subject: "+printableName(c.Subject.String())))
	}
	if c.NotAfter.Before(now.Add(30 * 24 * time.Hour)) {
		r.add(with(IDRedfishTLSExpiry, "not after "+c.NotAfter.UTC().Format(time.RFC3339)))
	}
}

// accountFindings reports enabled Administrator accounts besides the
// gateway's own.
func accountFindings(r *Report, accts []redfish.Account, gateway string) {
	var extra []string
	for _, a := range accts {
		if a.Enabled && strings.EqualFold(a.RoleID, "Administrator") && a.UserName != gateway {
			extra = append(extra, printableName(a.UserName))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		r.add(with(IDExtraAdmins, "Redfish Administrator accounts besides the gateway's: "+strings.Join(extra, ", ")))
	}
}

// sessionFindings reports sessions the gateway did not open.
func sessionFindings(r *Report, sess []redfish.SessionInfo) {
	var foreign []string
	for _, se := range sess {
		if se.Own {
			continue
		}
		who := printableName(se.UserName)
		if se.ClientIP != "" {
			who += " from " + printableName(se.ClientIP)
		}
		foreign = append(foreign, who)
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		r.add(with(IDForeignSessions, fmt.Sprintf("%d session(s): %s", len(foreign), strings.Join(foreign, ", "))))
	}
}

// with returns the catalog finding id with its evidence.
func with(id, evidence string) Finding { return newFinding(id, "%s", evidence) }

// printableName bounds BMC-supplied text in evidence.
func printableName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
