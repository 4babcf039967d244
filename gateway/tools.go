package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/core"
)

// AuditQuery selects audit records (see audit.Query).
type AuditQuery = audit.Query

// ParseTime reads a time given on a command line; see core.ParseTime.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return core.ParseTime(s, now)
}

// ErrVerifyFailed is returned by VerifyAudit when the chain is broken.
var ErrVerifyFailed = errors.New("audit log verification failed")

// openOffline opens a data directory's audit log read-only.
func openOffline(dataDir string) (*audit.Store, error) {
	path := filepath.Join(dataDir, AuditDBName)
	s, err := audit.Open(path, audit.Options{ReadOnly: true})
	if errors.Is(err, audit.ErrInUse) {
		return nil, fmt.Errorf("%s is in use by a running bmcgate; run \"audit verify\" over SSH instead, or stop it: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// VerifyAudit checks the hash chain of a data directory's audit log offline
// and prints the result. With expectHead ("SEQ:HASH", from an earlier run or
// an external anchor) it also detects a truncated tail.
func VerifyAudit(ctx context.Context, dataDir, expectHead string, asJSON bool, w io.Writer) error {
	s, err := openOffline(dataDir)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if rep.OK && expectHead != "" {
		if err := checkAnchor(ctx, s, rep, expectHead); err != nil {
			rep.OK, rep.Problem = false, err.Error()
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(w, "audit log OK: %d records, head #%d %s\n", rep.Records, rep.HeadSeq, rep.HeadHash)
	} else {
		fmt.Fprintf(w, "audit log BROKEN at record #%d: %s\n", rep.FirstBad, rep.Problem)
	}
	if !rep.OK {
		return ErrVerifyFailed
	}
	return nil
}

// checkAnchor compares a previously recorded head with the log: the record
// with that sequence number must still exist and carry that hash.
func checkAnchor(ctx context.Context, s *audit.Store, rep audit.VerifyReport, anchor string) error {
	var seq uint64
	var hash string
	if _, err := fmt.Sscanf(anchor, "%d:%s", &seq, &hash); err != nil || seq == 0 || len(hash) != 64 {
		return fmt.Errorf("--expect-head must be SEQ:HASH (as printed by a previous verify)")
	}
	if seq > rep.HeadSeq {
		return fmt.Errorf("the log ends at #%d but record #%d was anchored: records were removed from the end", rep.HeadSeq, seq)
	}
	r, err := s.Get(ctx, seq)
	if err != nil {
		return fmt.Errorf("anchored record #%d is missing", seq)
	}
	if r.Hash != hash {
		return fmt.Errorf("anchored record #%d has hash %s, expected %s: the log was rewritten", seq, r.Hash, hash)
	}
	return nil
}

// SearchAudit searches a data directory's audit log offline.
func SearchAudit(ctx context.Context, dataDir string, q audit.Query, asJSON bool, w io.Writer) (int, error) {
	s, err := openOffline(dataDir)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := 0
	err = s.Search(ctx, q, func(r audit.Record) error {
		n++
		if asJSON {
			r.Data = nil
			return audit.WriteJSONLine(w, r)
		}
		_, err := fmt.Fprintln(w, audit.FormatText(r))
		return err
	})
	return n, err
}
