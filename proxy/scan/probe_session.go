package scan

import (
	"context"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// probeSession logs in with the gateway's account (through ipmi.Dial, so
// the session guard applies) and reads firmware, cipher suites, users, SOL
// and alerting.
func (s *Scanner) probeSession(ctx context.Context, ep ipmi.Endpoint, r *Report) {
	sess, err := ipmi.Dial(ctx, ep, s.opts.IPMI)
	if err != nil {
		r.problem("login with the gateway's account", err)
		return
	}
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	r.LoggedIn = true
	ss := &session{s: sess, interval: s.opts.Interval}

	if di, err := sess.DeviceInfo(ctx); err != nil {
		r.problem("Get Device ID", err)
	} else {
		r.Privilege = di.Privilege
		r.Device = &Device{Manufacturer: di.Manufacturer, ManufacturerID: di.ManufacturerID,
			ProductID: di.ProductID, Firmware: di.FirmwareVersion, IPMIVersion: di.IPMIVersion}
	}
	ss.channelNumber(ctx)
	r.Account, r.Channel = ep.Username, int(ss.channel)

	if suites, err := ss.cipherSuites(ctx); err != nil {
		r.problem("Get Channel Cipher Suites", err)
	} else {
		r.CipherSuites = suites
	}

	if users, err := ss.users(ctx); err != nil {
		r.problem("Get User Access", err)
	} else {
		r.Users = users
	}

	if on, err := ss.solEnabled(ctx); err != nil && !unsupported(err) {
		r.problem("Get SOL Configuration Parameters", err)
	} else {
		r.SOL = &on
	}

	// Get Session Info: a BMC that refuses it (any completion code) is
	// skipped; the other checks stand.
	if sess, err := ss.ipmiSessions(ctx); err == nil {
		r.Sessions = sess
		ipmiSessionFindings(r, sess)
	} else if _, refused := completionCode(err); !refused {
		r.problem("Get Session Info", err)
	}

	if dests, err := ss.alertDestinations(ctx); err != nil {
		r.problem("LAN alert destinations", err)
	} else if len(dests) > 0 {
		r.Alerts = dests
	}
}
