package scan

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// Defaults of Options.
const (
	DefaultInterval = 20 * time.Millisecond
	DefaultTimeout  = 2 * time.Second
)

// Options tunes a Scanner. Zero fields take the defaults.
type Options struct {
	// Interval is the least time between two probes to one BMC.
	Interval time.Duration
	// Timeout bounds the wait for one answer.
	Timeout time.Duration
	// Credentials are the vendor defaults to test offline.
	Credentials []Credential
	// IPMI tunes the authenticated session (timeouts).
	IPMI ipmi.Options
	// Redfish reads the Redfish side of BMCs that have one (ScanRedfish);
	// nil skips it.
	Redfish RedfishSource
	Logger  *slog.Logger
}

// Scanner scans BMCs. It is safe for concurrent use; each Scan works on
// one BMC with at most one session at a time.
type Scanner struct {
	opts  Options
	log   *slog.Logger
	locks sync.Map // BMC address -> chan struct{}: one scan or fix per BMC at a time
}

// lock waits until no other scan or fix of this scanner works on addr.
func (s *Scanner) lock(ctx context.Context, addr string) (func(), error) {
	v, _ := s.locks.LoadOrStore(addr, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// New returns a scanner.
func New(opts Options) *Scanner {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scanner{opts: opts, log: opts.Logger}
}

// Device is the BMC's identity from Get Device ID.
type Device struct {
	Manufacturer   string `json:"manufacturer"`
	ManufacturerID uint32 `json:"manufacturer_id"`
	ProductID      uint16 `json:"product_id"`
	Firmware       string `json:"firmware"`
	IPMIVersion    string `json:"ipmi_version"`
}

// Report is the result of scanning one BMC.
type Report struct {
	BMC      string        `json:"bmc"`
	Address  string        `json:"address"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	// Reachable is false when the BMC answered no probe at all.
	Reachable bool `json:"reachable"`
	// LoggedIn says whether the gateway's account could open a session
	// (needed for the user, SOL, alert and firmware checks).
	LoggedIn     bool       `json:"logged_in"`
	Privilege    string     `json:"session_privilege,omitempty"`
	Device       *Device    `json:"device,omitempty"`
	AuthCaps     []AuthCaps `json:"auth_caps,omitempty"`
	CipherSuite0 bool       `json:"cipher_suite_0"`
	// Suite0Probed says the suite 0 Open Session probe got an answer
	// (CipherSuite0 is then its verdict); Suite0MaxPriv is the privilege
	// the BMC offered with it.
	Suite0Probed  bool   `json:"cipher_suite_0_probed"`
	Suite0MaxPriv string `json:"cipher_suite_0_max_privilege,omitempty"`
	// LoginSuite is the cipher suite of the RAKP login probes; NullUserLogin
	// is what the probe for the empty user name showed (NullUser...).
	LoginSuite    int    `json:"login_probe_suite,omitempty"`
	NullUserLogin string `json:"null_user_login,omitempty"`
	// Account and Channel are the gateway's user name and the LAN channel
	// of its session.
	Account      string   `json:"account,omitempty"`
	Channel      int      `json:"channel,omitempty"`
	CipherSuites []Suite  `json:"cipher_suites,omitempty"`
	Users        []User   `json:"users,omitempty"`
	SOL          *bool    `json:"sol_enabled,omitempty"`
	Alerts       []string `json:"alert_destinations,omitempty"`
	Web          *WebInfo `json:"web,omitempty"`
	// Sessions are the active IPMI sessions (Get Session Info).
	Sessions []IPMISession `json:"ipmi_sessions,omitempty"`
	// Redfish is what the Redfish side of the scan read (ScanRedfish).
	Redfish  *RedfishInfo `json:"redfish,omitempty"`
	Findings []Finding    `json:"findings"`
	// Problems are probes that could not run, in plain words.
	Problems []string `json:"problems,omitempty"`
	// DefaultUsers are the accounts found with a vendor default password
	// (names only).
	DefaultUsers []string `json:"default_credential_users,omitempty"`
	// DefaultCreds names, per such account, the vendors whose default
	// password it has.
	DefaultCreds []DefaultCredential `json:"default_credentials,omitempty"`
	// Packets is how many raw probe datagrams were sent.
	Packets int `json:"packets"`
	// PeakSessions is the most sessions (half-open included) the scan
	// held on the BMC at once: 1 by design.
	PeakSessions int `json:"peak_sessions"`
}

// Worst returns the highest severity among the findings, or "" if none.
func (r *Report) Worst() Severity {
	var w Severity
	for _, f := range r.Findings {
		if f.Severity.Rank() > w.Rank() {
			w = f.Severity
		}
	}
	return w
}

// Has reports whether the report holds a finding with id.
func (r *Report) Has(id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

func (r *Report) problem(what string, err error) {
	r.Problems = append(r.Problems, what+": "+plain(err))
}

// plain turns an error into words safe to show: no BMC output is echoed.
func plain(err error) string {
	var ie *ipmi.Error
	switch {
	case errors.As(err, &ie):
		return ie.Msg
	case errors.Is(err, errNoAnswer):
		return "no answer"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "failed"
}

// Scan probes one BMC. ep holds the gateway's own login to it. Scan never
// fails as a whole: what could not be checked is listed in Problems.
func (s *Scanner) Scan(ctx context.Context, ep ipmi.Endpoint) *Report {
	start := time.Now()
	r := &Report{BMC: ep.Name, Address: ep.Addr(), Time: start.UTC()}
	defer func() { r.Duration = time.Since(start) }()

	unlock, err := s.lock(ctx, ep.Addr())
	if err != nil {
		r.problem("wait for another scan of this BMC", err)
		return r
	}
	defer unlock()
	w, err := dialWire(ctx, ep.Addr(), s.opts.Interval, s.opts.Timeout)
	if err != nil {
		r.problem("connect", err)
		return r
	}
	defer w.Close()
	s.probeAuthCaps(ctx, w, r)
	if ctx.Err() == nil && r.Reachable {
		s.probeSuite0(ctx, w, r)
		s.probeLogins(ctx, w, r, ep)
	}
	if ctx.Err() == nil && r.Reachable {
		w.hold(1)
		s.probeSession(ctx, ep, r)
		w.hold(-1)
	}
	r.Packets, r.PeakSessions = w.sent, w.peak
	r.derive()
	return r
}
