package gateway

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/sshca"
	"github.com/bmcgate/bmcgate/gateway/sshd"
	gossh "golang.org/x/crypto/ssh"
)

// certsClock is the clock of the SSH certificate registry; nil is
// time.Now. Tests set it with the web door's clock.
var certsClock func() time.Time

// revocationPoll is how often the revocations file of "bmcgate cert
// revoke" is looked at (a stat; a read only when it changed).
const revocationPoll = time.Second

// openCerts opens the gateway's SSH user CA and its registry when
// ssh.issue_certificates is on: the key is generated once into the data
// directory. The service layer and the SSH door then accept its
// certificates while they stand: it returns dir with the CA added.
func (g *Gateway) openCerts(cfg *configs.Config, dir *sshd.Directory) (*sshd.Directory, error) {
	if !cfg.SSH.IssueCertificates {
		return dir, nil
	}
	ca, created, err := sshca.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("ssh.issue_certificates: %w", err)
	}
	if created {
		g.log.Info("generated the gateway's SSH user CA", "fingerprint", gossh.FingerprintSHA256(ca.PublicKey()))
	}
	now := certsClock
	if now == nil {
		now = webClock
	}
	reg, err := sshca.Open(ca, cfg.DataDir, sshca.Options{Now: now, Logger: g.log, OnEnd: g.certsEnded})
	if err != nil {
		return nil, err
	}
	g.certs = reg
	g.svc.SetCerts(reg)
	return g.withCerts(dir), nil
}

// withCerts adds the gateway's own CA to an SSH directory.
func (g *Gateway) withCerts(d *sshd.Directory) *sshd.Directory {
	if g.certs == nil {
		return d
	}
	return d.WithGatewayCA(g.certs.CA().PublicKey(), g.certs)
}

// certsEnded records certificates that stopped being usable and ends their
// live sessions and consoles (the service layer now refuses them).
func (g *Gateway) certsEnded(ended []sshca.Cert) {
	ctx := context.Background()
	for _, c := range ended {
		code := audit.CodeCertEnd
		if c.Revoked {
			code = audit.CodeCertRevoke
		}
		_ = g.svc.Audit(ctx, audit.Record{Code: code, Actor: c.User, Door: audit.DoorSystem, Outcome: audit.OutcomeOK,
			Reason: c.Ended, Fields: map[string]string{"serial": strconv.FormatUint(c.Serial, 10), "fingerprint": c.Fingerprint}})
	}
	g.recheckLive(ctx)
}

// openCertsPart watches the revocations file while the gateway runs.
func openCertsPart(_ context.Context, g *Gateway, _ *configs.Config) (part, error) {
	if g.certs == nil {
		return nil, nil
	}
	return pollPart{every: revocationPoll, fn: func(context.Context) { g.certs.CheckRevocations() }}, nil
}

// pollPart runs fn every interval while the gateway runs: the files that
// commands beside a running gateway write (revocations, locks).
type pollPart struct {
	every time.Duration
	fn    func(context.Context)
}

func (p pollPart) Run(ctx context.Context) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.fn(ctx)
		}
	}
}

func (pollPart) Reload(context.Context, *configs.Config, *service.State) {}
func (pollPart) Close()                                                  {}
