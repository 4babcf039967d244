package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// verifyAtStart verifies the audit log from its last verified checkpoint
// (in full the first time). A broken chain refuses the start with one line
// naming the file, the first bad record and the problem, unless
// audit.on_tamper is warn: then it is logged as an error, the report is
// returned (not OK) and Open records it once the log is open for records.
func (g *Gateway) verifyAtStart(ctx context.Context, cfg *configs.Config) (audit.VerifyReport, error) {
	path := filepath.Join(cfg.DataDir, datadir.AuditDB)
	start := time.Now()
	rep, err := g.store.VerifyIncremental(ctx)
	if err != nil {
		return rep, fmt.Errorf("audit log %s: cannot verify it: %w", path, err)
	}
	if rep.OK {
		g.log.Info("audit log verified", "path", path, "from_seq", rep.From, "head_seq", rep.HeadSeq,
			"head_hash", rep.HeadHash, "took", time.Since(start).Round(time.Millisecond), "note", rep.Note)
		return rep, nil
	}
	line := fmt.Sprintf("audit log %s fails verification at record #%d: %s", path, rep.FirstBad, rep.Problem)
	if cfg.Audit.OnTamper != configs.OnTamperWarn {
		return rep, fmt.Errorf("%s (audit.on_tamper: refuse; inspect it with \"bmcgate audit verify --data-dir %s\" and move it aside to start a new log)", line, cfg.DataDir)
	}
	g.log.Error(line+"; starting anyway (audit.on_tamper: warn)", "first_bad", rep.FirstBad, "head_seq", rep.HeadSeq)
	return rep, nil
}

// recordTamper writes the failed start-up verification into the log.
func (g *Gateway) recordTamper(ctx context.Context, rep audit.VerifyReport) {
	r := audit.Record{Code: audit.CodeAuditVerify, Door: audit.DoorSystem, Outcome: audit.OutcomeFail,
		Reason: fmt.Sprintf("verification at start failed at record #%d: %s; started anyway (audit.on_tamper: warn)", rep.FirstBad, rep.Problem),
		Fields: map[string]string{"first_bad": fmt.Sprint(rep.FirstBad), "from": fmt.Sprint(rep.From)}}
	if err := g.svc.Audit(ctx, r); err != nil {
		g.log.Error("could not record the failed verification", "err", err)
	}
}
