package service

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
)

// LiveSession is a live session of a front door, as moderators see it.
type LiveSession struct {
	ID     string    `json:"id"`
	User   string    `json:"user"`
	Door   string    `json:"door"`
	Source string    `json:"source,omitempty"`
	Auth   string    `json:"auth,omitempty"`
	Since  time.Time `json:"since"`
}

// SessionDoor is a front door whose live sessions moderators may list and
// end: ending one shows why to its user.
type SessionDoor interface {
	LiveSessions() []LiveSession
	Terminate(id, why string) bool
}

// ErrNoSession is an id no live session has.
var ErrNoSession = &UserError{Msg: "no live session has that id", Err: errors.New("unknown session")}

var errNoReason = errors.New("no reason")

// maxTerminateReason bounds the reason of a termination.
const maxTerminateReason = 200

// SetSessionDoors installs the doors whose sessions moderators see.
func (s *Service) SetSessionDoors(doors ...SessionDoor) {
	s.doors.Store(&doors)
}

// Sessions lists the live sessions of every door (needs session.join).
func (s *Service) Sessions(ctx context.Context, c Caller) ([]LiveSession, error) {
	d, err := s.Decide(ctx, c, authz.SessionJoin, authz.Target{})
	if err != nil {
		return nil, err
	}
	if !d.Allowed {
		return nil, &UserError{Msg: d.Reason, Err: ErrDenied}
	}
	var out []LiveSession
	if doors := s.doors.Load(); doors != nil {
		for _, door := range *doors {
			out = append(out, door.LiveSessions()...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, nil
}

// Terminate ends the live session id (needs session.terminate), showing
// its user who ended it and why; the termination is audited.
func (s *Service) Terminate(ctx context.Context, c Caller, id, reason string) error {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" || len(reason) > maxTerminateReason {
		return &UserError{Msg: "give a reason of 1 to 200 characters (--reason): its user is shown it", Err: errNoReason}
	}
	d, err := s.Decide(ctx, c, authz.SessionTerminate, authz.Target{})
	if err != nil {
		return err
	}
	if !d.Allowed {
		return &UserError{Msg: d.Reason, Err: ErrDenied}
	}
	why := "terminated by " + c.Name() + ": " + reason
	found := false
	if doors := s.doors.Load(); doors != nil {
		for _, door := range *doors {
			if door.Terminate(id, why) {
				found = true
			}
		}
	}
	r := c.record(audit.CodeSessionTerminate)
	r.Action, r.Target, r.Reason = string(authz.SessionTerminate), id, why
	r.Outcome = audit.OutcomeOK
	if !found {
		r.Outcome, r.Reason = audit.OutcomeFail, "no live session "+id
	}
	if err := s.Audit(ctx, r); err != nil {
		return err
	}
	if !found {
		return ErrNoSession
	}
	return nil
}
