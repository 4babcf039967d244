package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

func TestAuditVerifyExpectHead(t *testing.T) {
	f := newReadmeFixture(t)
	seqText, hash, _ := strings.Cut(f.head, ":")
	for _, tt := range []struct {
		name, head string
		code       int
		want       string
	}{
		{"matches", f.head, exitOK, "audit log OK: 3 records"},
		{"typo: no colon", seqText + hash, exitUsage, "--expect-head must be SEQ:HASH"},
		{"typo: short hash", seqText + ":" + hash[:10], exitUsage, "--expect-head must be SEQ:HASH"},
		{"typo: not hex", seqText + ":" + strings.Repeat("z", 64), exitUsage, "--expect-head must be SEQ:HASH"},
		{"typo: record 0", "0:" + hash, exitUsage, "--expect-head must be SEQ:HASH"},
		{"tail truncated", "5:" + hash, exitFailed, "BROKEN at record #4: records #4 to #5 are missing"},
		{"rewritten", "2:" + hash, exitFailed, "BROKEN at record #2: anchored record #2 has hash"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "audit", "verify", "--data-dir", f.data, "--expect-head", tt.head)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

func TestAuditSearchPagingOffline(t *testing.T) {
	f := newReadmeFixture(t)
	out, errOut, code := runCLI(t, "audit", "search", "--data-dir", f.data, "--limit", "2")
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "2 records shown; more match: repeat the search with --after 2") {
		t.Fatalf("page 1: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "audit", "search", "--limit", "2", "--after", "2", "--data-dir", f.data)
	if code != exitOK || strings.Count(out, "\n") != 1 || strings.Contains(errOut, "more match") {
		t.Fatalf("page 2: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "audit", "search", "--data-dir", f.data, "--newest", "--limit", "1")
	if code != exitOK || !strings.Contains(out, "console.detach") || !strings.Contains(errOut, "--before 3") {
		t.Fatalf("newest: exit %d\n%s%s", code, out, errOut)
	}
	for _, since := range []string{"2h", "7d", "1w", "2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01 10:00"} {
		out, errOut, code = runCLI(t, "audit", "search", "--data-dir", f.data, "--code", "console.*", "--since", since)
		if code != exitOK || strings.Count(out, "\n") != 3 {
			t.Errorf("--code console.* --since %s: exit %d\n%s%s", since, code, out, errOut)
		}
	}
	_, errOut, code = runCLI(t, "audit", "search", "--data-dir", f.data, "--since", "x\u200by")
	if code != exitUsage || !strings.Contains(errOut, `"x\u200by" is not a time`) || strings.Contains(errOut, `\\u200b`) {
		t.Fatalf("bad --since: exit %d %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "audit", "search", "--data-dir", f.data, "--code", "console.[")
	if code != exitUsage {
		t.Fatalf("bad glob: exit %d %q", code, errOut)
	}
}

func TestAuditReindexOffline(t *testing.T) {
	f := newReadmeFixture(t)
	out, errOut, code := runCLI(t, "audit", "reindex", "--data-dir", f.data)
	if code != exitOK || !strings.Contains(out, "search indexes rebuilt over 3 records") {
		t.Fatalf("reindex: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "audit", "verify", "--data-dir", f.data)
	if code != exitOK || !strings.Contains(out, "audit log OK: 3 records") {
		t.Fatalf("verify after reindex: exit %d\n%s%s", code, out, errOut)
	}
	s, err := audit.Open(filepath.Join(f.data, "audit.db"), audit.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "audit", "reindex", "--data-dir", f.data)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code != exitFailed || !strings.Contains(errOut, "in use by a running bmcgate") {
		t.Fatalf("reindex of a log in use: exit %d: %s", code, errOut)
	}
	missing := t.TempDir()
	if _, errOut, code = runCLI(t, "audit", "reindex", "--data-dir", missing); code != exitFailed || !strings.Contains(errOut, "no such file") {
		t.Fatalf("reindex of a missing log: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(missing, "audit.db")); err == nil {
		t.Fatal("reindex created a log")
	}
	if _, _, code = runCLI(t, "audit", "reindex"); code != exitUsage {
		t.Fatalf("reindex without --data-dir: exit %d", code)
	}
}
