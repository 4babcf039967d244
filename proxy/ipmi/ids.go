package ipmi

import "net"

// SessionIDs returns the session's two RMCP+ session IDs: the one bmcgate
// chose (console side) and the one the BMC assigned, which BMCs report as
// the session holding a payload (Get Payload Instance Info, Get Session
// Info). Both are 0 before the session is active.
func (s *Session) SessionIDs() (console, bmc uint32) {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	return s.g.consoleID, s.g.bmcID
}

// LocalPort returns the UDP port of the session's socket on this host, which
// BMCs report as the remote console port of the session (Get Session Info).
func (s *Session) LocalPort() int {
	if a, ok := s.g.conn.LocalAddr().(*net.UDPAddr); ok {
		return a.Port
	}
	return 0
}
