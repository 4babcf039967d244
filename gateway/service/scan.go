package service

import (
	"context"
	"errors"
	"time"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// Scanner is the subset of the posture scanner that service uses.
type Scanner interface {
	Scan(ctx context.Context, ep ipmi.Endpoint) *scan.Report
	Fix(ctx context.Context, ep ipmi.Endpoint, r *scan.Report, save scan.SecretSaver) ([]scan.FixResult, error)
}

// ScanStore keeps the latest scan report of every BMC.
type ScanStore interface {
	Save(r *scan.Report) error
	// Load returns the latest report of a BMC, or ErrNoScan.
	Load(name string) (*scan.Report, error)
}

// errUnreachable is the result of a scan whose BMC answered no probe.
var errUnreachable = &UserError{Msg: "unreachable: the BMC answered no probe, nothing was checked"}

// ErrNoScan means a BMC has no stored scan report yet.
var ErrNoScan = &UserError{Msg: "not scanned yet: run scan without --last"}

// Scans is the posture scan as the front doors use it.
type Scans struct {
	Scanner     Scanner
	Store       ScanStore
	Concurrency int           // BMCs scanned at once
	Timeout     time.Duration // a whole request; 0 means the command timeout
	// Secrets returns where new passwords for a BMC's accounts are kept
	// (the gateway's secret store); nil means password fixes are refused.
	Secrets func(bmc string) scan.SecretSaver
}

// SetScans installs the posture scan (at start and on reload).
func (s *Service) SetScans(x *Scans) { s.scans.Store(x) }

// scans returns the installed scan, or a user error when there is none.
func (s *Service) scansOrErr() (*Scans, error) {
	x := s.scans.Load()
	if x == nil || x.Scanner == nil || x.Store == nil {
		return nil, &UserError{Msg: "the posture scan is not available on this gateway"}
	}
	return x, nil
}

// Scan scans every selected BMC (each needs scan.run), stores each report
// and passes it to emit as the Result's Value (*scan.Report).
func (s *Service) Scan(ctx context.Context, c Caller, selectors []string, emit func(Result)) error {
	x, err := s.scansOrErr()
	if err != nil {
		return err
	}
	req := Request{Caller: c, Action: authz.ScanRun, Selectors: selectors}
	return s.runScan(ctx, req, x, func(ctx context.Context, b *BMC) (any, error) {
		r := ScanBMC(ctx, x.Scanner, b)
		if err := ctx.Err(); err != nil {
			return nil, err // cut short: the stored report stays as it was
		}
		if err := x.Store.Save(r); err != nil {
			s.log.Error("store scan report", "bmc", b.Name, "err", err)
			return r, &UserError{Msg: "scanned, but the report could not be stored", Err: err}
		}
		if !r.Reachable {
			return r, errUnreachable
		}
		return r, nil
	}, emit)
}

// ScanLast returns the stored latest report of every selected BMC (each
// needs scan.run) without scanning.
func (s *Service) ScanLast(ctx context.Context, c Caller, selectors []string, emit func(Result)) error {
	x, err := s.scansOrErr()
	if err != nil {
		return err
	}
	req := Request{Caller: c, Action: authz.ScanRun, Selectors: selectors}
	return s.run(ctx, req, func(_ context.Context, b *BMC) (any, error) {
		r, err := x.Store.Load(b.Name)
		if errors.Is(err, ErrNoScan) {
			return nil, ErrNoScan
		}
		if err != nil {
			return nil, &UserError{Msg: "the stored report could not be read", Err: err}
		}
		return r, nil
	}, emit)
}

// runScan is run with the scan's own concurrency and timeout.
func (s *Service) runScan(ctx context.Context, req Request, x *Scans, fn call, emit func(Result)) error {
	st := *s.State()
	if x.Concurrency > 0 {
		st.Limits.FanoutConcurrency = x.Concurrency
	}
	if x.Timeout > 0 {
		st.Limits.CommandTimeout = x.Timeout
	}
	return s.runWith(ctx, &st, req, fn, emit)
}

// webScanner is the optional part of a Scanner that checks a BMC's web
// interface (TLS certificate and protocol versions).
type webScanner interface {
	ScanWeb(ctx context.Context, r *scan.Report, rawURL string)
}

// redfishScanner is the optional part of a Scanner that reads a BMC's
// Redfish side (network services, certificate, firmware, accounts,
// sessions).
type redfishScanner interface {
	ScanRedfish(ctx context.Context, r *scan.Report, ep redfish.Endpoint)
}

// ScanBMC scans one BMC: its IPMI side (not for a Redfish BMC without IPMI
// settings), its Redfish side when it has one, and its web interface when
// one is configured and the scanner can check it.
func ScanBMC(ctx context.Context, sc Scanner, b *BMC) *scan.Report {
	var r *scan.Report
	if b.Protocol == ProtocolRedfish && b.Endpoint.Username == "" {
		r = &scan.Report{BMC: b.Name, Address: b.Address, Time: time.Now(), Findings: []scan.Finding{}}
	} else {
		r = sc.Scan(ctx, b.Endpoint)
	}
	if rs, ok := sc.(redfishScanner); ok && b.Redfish.URL != "" && r != nil && ctx.Err() == nil {
		start := time.Now()
		rs.ScanRedfish(ctx, r, b.Redfish)
		r.Duration += time.Since(start)
	}
	if ws, ok := sc.(webScanner); ok && b.WebURL != "" && r != nil && ctx.Err() == nil {
		ws.ScanWeb(ctx, r, b.WebURL)
	}
	return r
}
