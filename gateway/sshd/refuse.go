package sshd

import (
	"fmt"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// quietGlobalRequests are harmless requests OpenSSH clients send on their
// own; they are declined without an audit record.
var quietGlobalRequests = map[string]bool{
	"keepalive@openssh.com":        true,
	"no-more-sessions@openssh.com": true,
}

// refuseChannel rejects every channel type except "session": port
// forwarding (direct-tcpip), Unix socket forwarding, X11 and agent channels.
func (s *Server) refuseChannel(_ *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	_ = ch.Reject(gossh.Prohibited, "bmcgate: "+ch.ChannelType()+" channels are not allowed")
	s.auditRefusal(ctx, conn, "channel", ch.ChannelType())
}

// refuseGlobalRequest declines global requests such as remote port
// forwarding (tcpip-forward) and streamlocal forwarding.
func (s *Server) refuseGlobalRequest(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	if !quietGlobalRequests[req.Type] {
		conn, _ := ctx.Value(ssh.ContextKeyConn).(*gossh.ServerConn)
		s.auditRefusal(ctx, conn, "global request", req.Type)
	}
	return false, nil
}

// auditRefusal records a refused request. The request is already refused,
// so a failed write is only logged.
func (s *Server) auditRefusal(ctx ssh.Context, conn *gossh.ServerConn, kind, what string) {
	st, _ := ctx.Value(ctxKeyConn).(*connState)
	user, _, _, _ := identity(conn)
	r := audit.Record{Code: audit.CodeSSHRefused, Door: "ssh", Actor: user, Outcome: audit.OutcomeDeny,
		Reason: fmt.Sprintf("%s %q refused", kind, what), Fields: map[string]string{"kind": kind, "type": what}}
	if st != nil {
		r.Source, r.Session = st.remote, st.id
	}
	s.auditBackground(r)
}
