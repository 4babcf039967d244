package service

// errDiskLow is what a user sees when a new session is refused for lack of
// room for the audit log.
const errDiskLow = "refused: the audit log's disk is nearly full, so bmcgate opens no new sessions; tell the gateway's operators (audit.min_free)"

// Headroom reports whether the audit log has room for new sessions: nil,
// or a *UserError to show the user (its cause is the audit store's
// ErrDiskLow). Front doors call it before opening a session (SSH login, web
// login, console attach); commands of open sessions go on and are recorded.
// The check is cheap: the store asks the filesystem at most every few
// seconds.
func (s *Service) Headroom() error {
	h, ok := s.audit.(interface{ Headroom() error })
	if !ok {
		return nil
	}
	err := h.Headroom()
	if err == nil {
		if s.diskLow.CompareAndSwap(true, false) {
			s.log.Info("the audit log's disk has room again: new sessions are accepted")
		}
		return nil
	}
	if s.diskLow.CompareAndSwap(false, true) {
		s.log.Error("the audit log's disk is below its free-space floor: new sessions are refused until there is room", "err", err)
	}
	return &UserError{Msg: errDiskLow, Err: err}
}
