package scan

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/bougou/go-ipmi/pkg/types"
)

// maxSessionSlots bounds the slots Get Session Info is asked about.
const maxSessionSlots = 64

// IPMISession is one active session a BMC reports (Get Session Info).
type IPMISession struct {
	Handle    uint8  `json:"handle"`
	UserID    uint8  `json:"user_id"`
	Privilege uint8  `json:"privilege"`
	Channel   uint8  `json:"channel"`
	Remote    string `json:"remote,omitempty"` // console IP address (LAN channels)
	Own       bool   `json:"own"`              // from the gateway's address
}

// sessionInfo asks Get Session Info (App 3Dh) for one session: index 0 is
// the current one, 1…N the slots. It returns the session (false when the
// slot is empty) and the slot count.
func (s *session) sessionInfo(ctx context.Context, index byte) (IPMISession, int, bool, error) {
	d, err := s.cmd(ctx, types.NetFnAppRequest, 0x3d, []byte{index}, "Get Session Info")
	if err != nil {
		return IPMISession{}, 0, false, err
	}
	if len(d) < 3 {
		return IPMISession{}, 0, false, fmt.Errorf("session info of %d bytes", len(d))
	}
	slots := int(d[1] & 0x3f)
	if d[0] == 0 || len(d) < 6 {
		return IPMISession{}, slots, false, nil
	}
	se := IPMISession{Handle: d[0], UserID: d[3] & 0x3f, Privilege: d[4] & 0x0f, Channel: d[5] & 0x0f}
	if len(d) >= 10 {
		if a, ok := netip.AddrFromSlice(d[6:10]); ok {
			se.Remote = a.String()
		}
	}
	return se, slots, true, nil
}

// ipmiSessions lists the BMC's active sessions. A session from the address
// the scan's own session comes from is the gateway's (its warm sessions,
// the scan itself); any other was opened around the gateway.
func (s *session) ipmiSessions(ctx context.Context) ([]IPMISession, error) {
	own, slots, ok, err := s.sessionInfo(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []IPMISession
	for i := 1; i <= min(slots, maxSessionSlots); i++ {
		se, _, active, err := s.sessionInfo(ctx, byte(i))
		if err != nil {
			if unsupported(err) {
				continue
			}
			return out, err
		}
		if !active {
			continue
		}
		se.Own = ok && se.Remote != "" && se.Remote == own.Remote || se.Handle == own.Handle
		out = append(out, se)
	}
	return out, nil
}

// ipmiSessionFindings reports sessions not from the gateway.
func ipmiSessionFindings(r *Report, sess []IPMISession) {
	var foreign []string
	for _, se := range sess {
		if se.Own {
			continue
		}
		who := fmt.Sprintf("user %d", se.UserID)
		if se.Remote != "" {
			who += " from " + se.Remote
		}
		foreign = append(foreign, who)
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		r.add(with(IDForeignSessions, fmt.Sprintf("%d IPMI session(s): %s", len(foreign), strings.Join(foreign, ", "))))
	}
}
