package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/creds"
	"github.com/bmcgate/bmcgate/gateway/locks"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/sshca"
	"github.com/bmcgate/bmcgate/gateway/sshd"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/oserr"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
	gossh "golang.org/x/crypto/ssh"
)

// Gateway is a running bmcgate: audit store, broker, service and front doors.
type Gateway struct {
	log    *slog.Logger
	store  *audit.Store
	broker *ipmi.Broker
	rf     *redfish.Broker
	svc    *service.Service
	ssh    *sshd.Server
	sshLn  net.Listener
	hostPK gossh.PublicKey

	parts    []part          // optional subsystems: console broker, web door, scanner
	certs    *sshca.Registry // the gateway's SSH user CA, nil when off (part_certs.go)
	locks    *locks.List     // locked users and roles (part_locks.go)
	web      *web.Server     // the HTTPS door, nil when off (web.go)
	consoles consoleDoor     // the SSH door's way to the console hub (console.go)

	mu  sync.Mutex // serializes reloads
	cfg *configs.Config
}

// part is an optional subsystem that lives as long as the gateway: the
// console broker, the web front door, the periodic scanner. Each is opened
// by a function in its own file (openConsole, openWeb, openScan) that
// returns nil when the config leaves it off.
type part interface {
	// Run serves until ctx is done.
	Run(ctx context.Context) error
	// Reload applies a new, already checked config and state.
	Reload(ctx context.Context, cfg *configs.Config, st *service.State)
	// Close releases the part's resources; it runs before the audit store closes.
	Close()
}

// partOpeners open the optional subsystems, in order.
var partOpeners = []func(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error){
	openConsole, openWeb, openScan,
	openWebUI, // after openWeb: it mounts on the web door
	openImages,
	openCertsPart,
	openLocksPart,
	openSessionDoors,
}

// Open builds a gateway from a checked config and binds its listeners. It
// prepares the data directory, opens the audit log and verifies it (from
// the last verified checkpoint; audit.on_tamper says whether a failure
// refuses the start), and writes the gateway.start audit record; if it
// cannot, it refuses to start. Every refusal is one line naming the file or
// address and the problem; what was opened is closed again.
func Open(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{log: log, cfg: cfg}
	if err := g.open(ctx, cfg); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *Gateway) open(ctx context.Context, cfg *configs.Config) error {
	log := g.log
	var err error
	if g.store, err = assemble.OpenAuditLog(cfg, log); err != nil {
		return err
	}
	verified, err := g.verifyAtStart(ctx, cfg)
	if err != nil {
		return err
	}
	st, err := assemble.State(cfg)
	if err != nil {
		return err
	}
	dir, err := assemble.Directory(cfg)
	if err != nil {
		return err
	}
	hostKeyPath := cfg.SSH.HostKeyFile
	if hostKeyPath == "" {
		hostKeyPath = filepath.Join(cfg.DataDir, datadir.HostKey)
	}
	signer, created, err := loadOrCreateHostKey(hostKeyPath)
	if err != nil {
		return fmt.Errorf("ssh host key: %w", err)
	}
	if created {
		log.Info("generated a new SSH host key", "path", hostKeyPath)
	}
	g.hostPK = signer.PublicKey()
	log.Info("ssh host key", "fingerprint", gossh.FingerprintSHA256(signer.PublicKey()))

	if err := g.openService(cfg, st); err != nil {
		return err
	}
	g.consoles.svc = g.svc
	if dir, err = g.openIdentity(cfg, dir); err != nil {
		return err
	}
	sc := assemble.SSHConfig(cfg)
	sc.HostSigners = []gossh.Signer{signer}
	sc.Logger = log
	sc.Console = &g.consoles
	if cfg.SSHLogin() {
		if g.ssh, err = sshd.New(sc, g.svc, dir); err != nil {
			return err
		}
		if g.sshLn, err = net.Listen("tcp", cfg.Listen.SSH); err != nil {
			return fmt.Errorf("listen.ssh %s: %w", cfg.Listen.SSH, oserr.ListenCause(err))
		}
	} else {
		// A web-only deployment: nobody could log in over SSH, so the
		// door is not opened (a restart opens it once users are added).
		log.Warn("SSH door not opened: no enabled user has an SSH key or a user CA to sign for; only the web door is open")
	}
	for _, open := range partOpeners {
		p, err := open(ctx, g, cfg)
		if err != nil {
			return err
		}
		if p != nil {
			g.parts = append(g.parts, p)
		}
	}
	if err := g.store.Headroom(); err != nil {
		log.Warn("the audit log's disk is below its free-space floor: new sessions are refused until there is room", "err", err)
	}
	seq, head := g.store.Head()
	if err := g.svc.Audit(ctx, audit.Record{Code: audit.CodeGatewayStart, Door: "system", Outcome: audit.OutcomeOK,
		Reason: fmt.Sprintf("config %s, %d BMCs, %d users", cfg.Path, st.Inventory.Len(), len(cfg.Users)),
		Fields: map[string]string{"ssh": g.SSHAddr(), "head_seq": fmt.Sprint(seq), "head_hash": head}}); err != nil {
		return fmt.Errorf("audit log %s: cannot write the start record; refusing to start", filepath.Join(cfg.DataDir, datadir.AuditDB))
	}
	if !verified.OK {
		g.recordTamper(ctx, verified)
	}
	log.Info("audit log", "path", filepath.Join(cfg.DataDir, datadir.AuditDB), "head_seq", seq, "head_hash", head)
	return nil
}

// openService starts the brokers and the service layer, with the
// gateway's one automation credential store (in the data directory): every
// door reaches it through Service.Credentials (or Gateway.Credentials).
func (g *Gateway) openService(cfg *configs.Config, st *service.State) error {
	g.broker = ipmi.NewBroker(assemble.IPMIOptions(cfg, g.log))
	g.svc = service.New(st, service.IPMITransport{Broker: g.broker}, g.store, g.log)
	g.rf = redfish.NewBroker(assemble.RedfishOptions(cfg, g.log))
	g.svc.SetRedfish(g.rf)
	cs, err := creds.Open(cfg.DataDir, creds.Options{})
	if err != nil {
		return fmt.Errorf("data_dir %s: %w", cfg.DataDir, err)
	}
	g.svc.SetCredentials(cs)
	return nil
}

// SSHAddr is the address the SSH front door listens on ("off" when the
// door is not open: nobody could log in over SSH).
func (g *Gateway) SSHAddr() string {
	if g.sshLn == nil {
		return "off"
	}
	return g.sshLn.Addr().String()
}

// HostKey is the SSH host public key.
func (g *Gateway) HostKey() gossh.PublicKey { return g.hostPK }

// Service returns the gateway's service layer (for tests and tools).
func (g *Gateway) Service() *service.Service { return g.svc }

// Credentials returns the gateway's automation credential store, the one
// its service layer uses (Service().Credentials()).
func (g *Gateway) Credentials() *creds.Store { return g.svc.Credentials() }

// shutdownTimeout bounds each stage of the shutdown.
const shutdownTimeout = 5 * time.Second

// Run serves until ctx is done, then shuts down. When it returns, the
// gateway.stop record is the audit log's last record, the head it logs
// names it, and the log takes no more records.
func (g *Gateway) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1+len(g.parts))
	var running sync.WaitGroup
	if g.ssh != nil {
		running.Go(func() { errc <- g.ssh.Serve(g.sshLn) })
	}
	for _, p := range g.parts {
		running.Go(func() { errc <- p.Run(ctx) })
	}
	g.log.Info("bmcgate is serving", "ssh", g.SSHAddr())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		if err != nil {
			err = fmt.Errorf("serve: %w", err)
		}
	}
	cancel()
	g.shutdown(&running)
	return err
}

// shutdown ends every door and part, waits for the records they still
// write (session ends, BMC web UI sessions, console detaches), then writes
// gateway.stop as the final record, which closes the log for writes, and
// logs the head: the announced head is the file's last record.
func (g *Gateway) shutdown(running *sync.WaitGroup) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if g.ssh != nil {
		// Closes every connection, waits for their last records and
		// writes the door's pending refusal summaries.
		if err := g.ssh.Shutdown(ctx); err != nil {
			g.log.Warn("SSH connections still closing at shutdown; their last records may be missing", "err", err)
		}
	}
	// The server closes only the listeners its Serve has registered; close
	// ours too, for a Serve that had not got that far.
	if g.sshLn != nil {
		_ = g.sshLn.Close()
	}
	// The parts return from Run once their requests have ended and their
	// refusal summaries are written (the web door's).
	done := make(chan struct{})
	go func() {
		running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		g.log.Warn("a part of the gateway did not stop in time; its last records may be missing")
	}
	for _, p := range g.parts {
		p.Close()
	}
	g.parts = nil
	fctx, fcancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer fcancel()
	if _, err := g.store.AppendFinal(fctx, audit.Record{Code: audit.CodeGatewayStop, Door: "system", Outcome: audit.OutcomeOK}); err != nil {
		g.log.Error("could not record the gateway stop", "err", err)
	}
	seq, head := g.store.Head()
	g.log.Info("bmcgate stopped; record this audit head to detect truncation later", "head_seq", seq, "head_hash", head)
	g.Close()
}

// Close releases everything without the shutdown records. It is safe on a
// gateway that Open left half-built.
func (g *Gateway) Close() {
	for _, p := range g.parts {
		p.Close()
	}
	g.parts = nil
	if g.sshLn != nil {
		_ = g.sshLn.Close()
	}
	if g.broker != nil {
		_ = g.broker.Close()
	}
	if g.rf != nil {
		// Logs out of every warm Redfish session.
		_ = g.rf.Close()
	}
	if g.store != nil {
		_ = g.store.Close()
	}
}

// Reload re-reads the config file and swaps policy, inventory and accounts.
// A bad config is logged and audited and the running config stays.
// Listen addresses and the data directory need a restart.
//
// Every open session is decided under the new config from its next action
// on (the service layer resolves the caller's roles per decision). Sessions whose
// identity the new config revokes — a user removed or disabled, a single
// sign-on user whose groups map to no role any more — end at once with the
// reason shown: attached consoles are detached, web sessions revoked with
// their BMC web UI sessions and websockets, then SSH connections closed.
func (g *Gateway) Reload(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	rec := audit.Record{Code: audit.CodeConfigLoad, Door: "system", Outcome: audit.OutcomeOK}
	cfg, err := assemble.LoadConfig(g.cfg.Path, false)
	var st *service.State
	var dir *sshd.Directory
	if err == nil {
		st, err = assemble.State(cfg)
	}
	if err == nil {
		dir, err = assemble.Directory(cfg)
	}
	if err == nil {
		dir = g.withCerts(dir)
	}
	if err != nil {
		rec.Outcome, rec.Reason = audit.OutcomeError, "reload refused; keeping the running config"
		rec.Fields = reloadProblems(err)
		g.log.Error("config reload refused; keeping the running config", "err", err)
		_ = g.svc.Audit(ctx, rec)
		return err
	}
	if cfg.Listen != g.cfg.Listen || cfg.DataDir != g.cfg.DataDir {
		g.log.Warn("listen addresses and data_dir change only on restart")
	}
	if cfg.SSH.IssueCertificates && g.certs == nil {
		g.log.Warn("ssh.issue_certificates takes effect on restart")
	}
	rec.Reason = fmt.Sprintf("reloaded: %d BMCs, %d users", st.Inventory.Len(), len(cfg.Users))
	if err := g.svc.Audit(ctx, rec); err != nil {
		return err
	}
	old := g.svc.State()
	g.svc.Swap(st)
	if g.ssh != nil {
		g.ssh.SetDirectory(dir)
	} else if cfg.SSHLogin() {
		g.log.Warn("the reloaded config has SSH users, but the SSH door opens only on restart")
	}
	for _, p := range g.parts {
		p.Reload(ctx, cfg, st)
	}
	// After the parts: a console detached above shows its reason before
	// the SSH session that carried it ends.
	if g.ssh != nil {
		g.ssh.Recheck()
	}
	for _, b := range old.Inventory.All() {
		nb, ok := st.Inventory.Lookup(b.Name)
		if !ok || nb.Endpoint != b.Endpoint {
			g.broker.Forget(b.Name)
		}
		if !ok || nb.Redfish != b.Redfish || nb.Protocol != b.Protocol {
			// Logs out of the BMC's Redfish session, if any.
			g.rf.Forget(b.Name)
		}
	}
	g.cfg = cfg
	g.log.Info("config reloaded", "bmcs", st.Inventory.Len(), "users", len(cfg.Users))
	return nil
}
