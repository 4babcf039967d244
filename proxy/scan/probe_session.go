package scan

import (
	"context"
	"fmt"
	"strings"

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

	if suites, err := ss.cipherSuites(ctx); err != nil {
		r.problem("Get Channel Cipher Suites", err)
	} else {
		r.CipherSuites = suites
		var weak []string
		for _, su := range suites {
			if w := su.Weaknesses(); len(w) > 0 {
				weak = append(weak, fmt.Sprintf("suite %d (%s)", su.ID, strings.Join(w, ", ")))
			}
		}
		if len(weak) > 0 {
			r.add(newFinding(IDWeakCipherSuites, "offered: %s", strings.Join(weak, "; ")))
		}
	}

	if users, err := ss.users(ctx); err != nil {
		r.problem("Get User Access", err)
	} else {
		r.Users = users
		var admins []string
		for _, u := range users {
			if u.Privilege != "administrator" {
				continue
			}
			if u.Name == ep.Username {
				r.add(newFinding(IDGatewayAdmin, "user %d %q (the gateway's) has Administrator on channel %d", u.ID, u.Name, ss.channel))
				continue
			}
			name := u.Name
			if u.ID == 1 {
				name = "(null user)"
			}
			admins = append(admins, fmt.Sprintf("%d %q", u.ID, name))
		}
		if len(admins) > 0 {
			r.add(newFinding(IDExtraAdmins, "Administrator on channel %d: %s", ss.channel, strings.Join(admins, ", ")))
		}
	}

	if on, err := ss.solEnabled(ctx); err != nil && !unsupported(err) {
		r.problem("Get SOL Configuration Parameters", err)
	} else {
		r.SOL = &on
		if on {
			r.add(newFinding(IDSOLEnabled, "SOL Enable parameter is set on channel %d", ss.channel))
		}
	}

	if dests, err := ss.alertDestinations(ctx); err != nil {
		r.problem("LAN alert destinations", err)
	} else if len(dests) > 0 {
		r.Alerts = dests
		r.add(newFinding(IDLANAlerts, "alert destinations: %s", strings.Join(dests, ", ")))
	}
}
