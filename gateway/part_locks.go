package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/locks"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/sshd"
)

// lockPoll is how often the locks file of "bmcgate lock" is looked at (a
// stat; a read only when it changed).
const lockPoll = time.Second

// openIdentity opens what decides who may act beyond the config: the
// locks, and the gateway's own SSH certificates (added to dir).
func (g *Gateway) openIdentity(cfg *configs.Config, dir *sshd.Directory) (*sshd.Directory, error) {
	if err := g.openLocks(cfg); err != nil {
		return nil, err
	}
	return g.openCerts(cfg, dir)
}

// openLocks reads the data directory's locks and makes the service layer
// refuse locked users and roles at every decision.
func (g *Gateway) openLocks(cfg *configs.Config) error {
	l, err := locks.Open(cfg.DataDir, nil)
	if err != nil {
		return err
	}
	g.locks = l
	g.svc.SetLocks(l)
	return nil
}

// openLocksPart re-reads the locks file while the gateway runs: each
// change is audited, and a new lock ends the live sessions it now refuses.
func openLocksPart(_ context.Context, g *Gateway, _ *configs.Config) (part, error) {
	return pollPart{every: lockPoll, fn: g.checkLocks}, nil
}

// checkLocks applies changes of the locks file.
func (g *Gateway) checkLocks(ctx context.Context) {
	changed, err := g.locks.Reload()
	if err != nil {
		g.log.Error("locks file unreadable; the locks read before stay", "err", err)
		return
	}
	locked := false
	for _, lk := range changed {
		rec := audit.Record{Code: audit.CodeLockSet, Door: audit.DoorCLI, Target: lk.Name, Outcome: audit.OutcomeOK,
			Reason: lk.Reason, Fields: map[string]string{"since": lk.Since.Format(time.RFC3339)}}
		if lk.Lifted {
			rec.Code = audit.CodeLockLift
		} else {
			locked = true
			rec.Fields["until"] = "unlocked"
			if !lk.Until.IsZero() {
				rec.Fields["until"] = lk.Until.Format(time.RFC3339)
			}
		}
		if err := g.svc.Audit(ctx, rec); err != nil {
			g.log.Error("recording a lock failed", "name", lk.Name, "err", fmt.Sprint(err))
		}
	}
	if locked {
		g.recheckLive(ctx)
	}
}

// recheckLive ends the live sessions whose identity the service layer now
// refuses: consoles first (they show why), web sessions, then SSH
// connections.
func (g *Gateway) recheckLive(ctx context.Context) {
	if h := g.consoles.hub.Load(); h != nil {
		h.Reload(ctx)
	}
	if g.web != nil {
		g.web.EndRevoked(ctx)
	}
	if g.ssh != nil {
		g.ssh.Recheck()
	}
}

// openSessionDoors hands the service layer the doors whose live sessions
// moderators list and end (after openWeb: the web door is one).
func openSessionDoors(_ context.Context, g *Gateway, _ *configs.Config) (part, error) {
	var doors []service.SessionDoor
	if g.ssh != nil {
		doors = append(doors, g.ssh)
	}
	if g.web != nil {
		doors = append(doors, g.web)
	}
	g.svc.SetSessionDoors(doors...)
	return nil, nil
}
