// Package offline holds bmcgate's commands that run without a gateway,
// against a config file or a data directory: audit verify and search,
// console recording replay, the posture scan and its fixes, and pinning a
// BMC's web certificate. cmd/bmcgate parses their flags and prints; the
// work is here.
package offline

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// ErrVerifyFailed is returned by VerifyAudit when the chain is broken.
var ErrVerifyFailed = errors.New("audit log verification failed")

// Open opens a data directory's audit log read-only.
func Open(dataDir string) (*audit.Store, error) {
	path := filepath.Join(dataDir, datadir.AuditDB)
	s, err := audit.Open(path, audit.Options{ReadOnly: true})
	if errors.Is(err, audit.ErrInUse) {
		return nil, fmt.Errorf("%s is in use by a running bmcgate; run \"audit verify\" over SSH instead, or stop it: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// ReindexAudit drops the search indexes of a data directory's audit log and
// builds them again from the records, offline (a running gateway holds the
// file). A gateway start builds missing indexes by itself; this repairs
// indexes that verification found to disagree with the records.
func ReindexAudit(ctx context.Context, dataDir string, w io.Writer) error {
	path := filepath.Join(dataDir, datadir.AuditDB)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	start := time.Now()
	s, err := audit.OpenContext(ctx, path, audit.Options{Reindex: true})
	if errors.Is(err, audit.ErrInUse) {
		return fmt.Errorf("%s is in use by a running bmcgate; stop it first: %w", path, err)
	}
	if err != nil {
		return fmt.Errorf("reindex %s: %w", path, err)
	}
	seq, _ := s.Head()
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "audit log %s: search indexes rebuilt over %d records in %s\n", path, seq, time.Since(start).Round(time.Millisecond))
	return nil
}

// Anchor is a chain head kept outside the host: record Seq had hash Hash.
type Anchor struct {
	Seq  uint64
	Hash string
}

// ErrBadAnchor is returned by ParseAnchor for a malformed SEQ:HASH.
var ErrBadAnchor = errors.New("--expect-head must be SEQ:HASH: a record number, a colon and 64 hex digits, as logged at stop or printed by verify")

// ParseAnchor reads "SEQ:HASH" (as the gateway logs it at stop and verify
// prints it). An empty string is no anchor.
func ParseAnchor(s string) (*Anchor, error) {
	if s == "" {
		return nil, nil
	}
	seqText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok || err != nil || seq == 0 || len(hash) != 64 {
		return nil, ErrBadAnchor
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return nil, ErrBadAnchor
	}
	return &Anchor{Seq: seq, Hash: strings.ToLower(hash)}, nil
}

// VerifyAudit checks the hash chain of a data directory's audit log offline
// and prints the result. With an anchor (from an earlier run or an external
// log) it also detects a truncated or rewritten tail.
func VerifyAudit(ctx context.Context, dataDir string, anchor *Anchor, asJSON bool, w io.Writer) error {
	s, err := Open(dataDir)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if rep.OK && anchor != nil {
		checkAnchor(ctx, s, &rep, *anchor)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(w, "audit log OK: %d records, head #%d %s\n", rep.Records, rep.HeadSeq, rep.HeadHash)
		if rep.Note != "" {
			fmt.Fprintf(w, "note: %s\n", rep.Note) // e.g. records only the write-ahead log holds
		}
	} else {
		fmt.Fprintf(w, "audit log BROKEN at record #%d: %s\n", rep.FirstBad, rep.Problem)
	}
	if !rep.OK {
		return ErrVerifyFailed
	}
	return nil
}

// checkAnchor compares a previously recorded head with a log whose chain
// verified: the anchored record must still exist and carry that hash. A
// failure marks rep as broken at the first missing (truncation) or the
// anchored (rewrite) record.
func checkAnchor(ctx context.Context, s *audit.Store, rep *audit.VerifyReport, a Anchor) {
	fail := func(first uint64, format string, args ...any) {
		rep.OK, rep.FirstBad, rep.Problem = false, first, fmt.Sprintf(format, args...)
	}
	if a.Seq > rep.HeadSeq {
		fail(rep.HeadSeq+1, "records #%d to #%d are missing: the log ends at #%d but record #%d was anchored (tail truncated)",
			rep.HeadSeq+1, a.Seq, rep.HeadSeq, a.Seq)
		return
	}
	r, err := s.Get(ctx, a.Seq)
	if err != nil {
		fail(a.Seq, "anchored record #%d cannot be read: %v", a.Seq, err)
		return
	}
	if r.Hash != a.Hash {
		fail(a.Seq, "anchored record #%d has hash %s, expected %s: the log was rewritten", a.Seq, r.Hash, a.Hash)
	}
}

// SearchAudit searches a data directory's audit log offline. The page says
// whether more records match (see service.MoreHint).
func SearchAudit(ctx context.Context, dataDir string, q audit.Query, asJSON bool, w io.Writer) (audit.Page, error) {
	s, err := Open(dataDir)
	if err != nil {
		return audit.Page{}, err
	}
	defer s.Close()
	return s.SearchPage(ctx, q, func(r audit.Record) error {
		if asJSON {
			r.Data = nil
			return audit.WriteJSONLine(w, r)
		}
		_, err := fmt.Fprintln(w, audit.FormatText(r))
		return err
	})
}
