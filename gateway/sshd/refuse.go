package sshd

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// quietRequests are harmless requests OpenSSH clients send on their own
// (ServerAliveInterval keep-alives, the no-more-sessions hint); they are
// declined without an audit record, are not counted as refused requests
// and are not activity.
var quietRequests = map[string]bool{
	"keepalive@openssh.com":        true,
	"no-more-sessions@openssh.com": true,
}

// maxDestinationLen bounds a requested forwarding destination in records.
const maxDestinationLen = 256

// refusedRefill is how fast the refused-request allowance comes back.
const refusedRefill = time.Second

// refuseChannel rejects every channel type except "session": port
// forwarding (direct-tcpip), Unix socket forwarding, X11 and agent channels.
func (s *Server) refuseChannel(_ *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	_ = ch.Reject(gossh.Prohibited, "bmcgate: "+ch.ChannelType()+" channels are not allowed")
	st, _ := ctx.Value(ctxKeyConn).(*connState)
	user, _, _, _ := identity(conn)
	s.refuse(st, user, "channel", ch.ChannelType(), channelDestination(ch.ChannelType(), ch.ExtraData()))
}

// refuseGlobalRequest declines global requests such as remote port
// forwarding (tcpip-forward) and streamlocal forwarding.
func (s *Server) refuseGlobalRequest(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	if quietRequests[req.Type] {
		return false, nil
	}
	conn, _ := ctx.Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	st, _ := ctx.Value(ctxKeyConn).(*connState)
	user, _, _, _ := identity(conn)
	s.refuse(st, user, "global request", req.Type, globalDestination(req.Type, req.Payload))
	return false, nil
}

// refuse records a refused request through the aggregator (one record per
// kind and source per interval, see package refusals) and takes one from
// the connection's refused-request allowance: a connection that uses it
// up is closed, with one record. dest is the forwarding destination the
// client asked for, "" when there is none.
func (s *Server) refuse(st *connState, user, kind, what, dest string) {
	r := audit.Record{Code: audit.CodeSSHRefused, Actor: user, Outcome: audit.OutcomeDeny,
		Reason: fmt.Sprintf("%s %q refused", kind, what), Fields: map[string]string{"kind": kind, "type": what}}
	if dest != "" {
		r.Reason = fmt.Sprintf("%s %q to %s refused", kind, what, dest)
		r.Fields["destination"] = dest
	}
	if st != nil {
		r.Source, r.Session = st.remote, st.id
	}
	s.note(kind+" "+what, r)
	if st != nil && st.takeRefused(s.now(), s.cfg.MaxRefusedRequests) {
		s.note("too many refused requests", audit.Record{Code: audit.CodeSSHLimit, Actor: user, Source: st.remote, Session: st.id,
			Outcome: audit.OutcomeDeny, Reason: fmt.Sprintf("more than %d refused requests in a burst: connection closed", s.cfg.MaxRefusedRequests)})
		go s.closeConn(st, "too many refused requests")
	}
}

// takeRefused takes one refused request from the connection's allowance:
// a burst of max, refilled at one per refusedRefill. It returns true once,
// for the request that finds none left: the connection is to be closed.
func (st *connState) takeRefused(now time.Time, max int) (exhausted bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.refusedOut {
		return false
	}
	if st.refusedAt.IsZero() {
		st.refusedToken, st.refusedAt = float64(max), now
	}
	if d := now.Sub(st.refusedAt); d > 0 {
		st.refusedToken += float64(d) / float64(refusedRefill)
		if st.refusedToken > float64(max) {
			st.refusedToken = float64(max)
		}
		st.refusedAt = now
	}
	if st.refusedToken < 1 {
		st.refusedOut = true
		return true
	}
	st.refusedToken--
	return false
}

// channelDestination is the host:port (or socket path) a forwarding
// channel asks for.
func channelDestination(typ string, extra []byte) string {
	switch typ {
	case "direct-tcpip", "forwarded-tcpip":
		var p struct {
			Host     string
			Port     uint32
			OrigHost string
			OrigPort uint32
		}
		if gossh.Unmarshal(extra, &p) == nil {
			return hostPort(p.Host, p.Port)
		}
	case "direct-streamlocal@openssh.com":
		var p struct {
			Path     string
			Reserved string
			Port     uint32
		}
		if gossh.Unmarshal(extra, &p) == nil {
			return bounded(p.Path)
		}
	}
	return ""
}

// globalDestination is the address a forwarding global request asks the
// gateway to listen on.
func globalDestination(typ string, payload []byte) string {
	switch typ {
	case "tcpip-forward", "cancel-tcpip-forward":
		var p struct {
			Addr string
			Port uint32
		}
		if gossh.Unmarshal(payload, &p) == nil {
			return hostPort(p.Addr, p.Port)
		}
	case "streamlocal-forward@openssh.com", "cancel-streamlocal-forward@openssh.com":
		var p struct{ Path string }
		if gossh.Unmarshal(payload, &p) == nil {
			return bounded(p.Path)
		}
	}
	return ""
}

func hostPort(host string, port uint32) string {
	return net.JoinHostPort(bounded(host), strconv.FormatUint(uint64(port), 10))
}

func bounded(s string) string {
	if len(s) > maxDestinationLen {
		return s[:maxDestinationLen] + "…"
	}
	return s
}
