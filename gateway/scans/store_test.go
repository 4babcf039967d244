package scans

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

func TestScanStore(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if _, err := s.Load("node01"); !errors.Is(err, service.ErrNoScan) {
		t.Fatalf("empty store: %v", err)
	}
	r := &scan.Report{BMC: "node01", Reachable: true, Time: time.Now().UTC().Truncate(time.Second), CipherSuite0: true}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	r.CipherSuite0 = false
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("node01")
	if err != nil || got.CipherSuite0 || !got.Time.Equal(r.Time) {
		t.Fatalf("load: %v %+v", err, got)
	}
	fi, err := os.Stat(filepath.Join(dir, datadir.ScanDir, "node01.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode: %v %v", fi, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, datadir.ScanDir))
	if len(entries) != 1 {
		t.Errorf("leftover temporary files: %v", entries)
	}
	for _, bad := range []string{"", "../x", ".hidden", `a\b`} {
		if err := s.Save(&scan.Report{BMC: bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// TestScanStoreSummary: the dashboard's summary follows every saved
// report (each Save replaces the file) and disappears with the file.
func TestScanStoreSummary(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	if _, err := s.summary("node01"); !errors.Is(err, service.ErrNoScan) {
		t.Fatalf("empty store: %v", err)
	}
	reports := []struct {
		findings []scan.Finding
		worst    scan.Severity
		ids      []string
	}{
		{[]scan.Finding{{ID: "cipher-suite-0", Severity: scan.Critical}, {ID: "sol-enabled", Severity: scan.Info}}, scan.Critical, []string{"cipher-suite-0"}},
		{[]scan.Finding{{ID: "weak-suites", Severity: scan.High}, {ID: "ipmi15", Severity: scan.Medium}}, scan.High, []string{"weak-suites", "ipmi15"}},
		{nil, "", nil},
	}
	for i, rep := range reports {
		r := &scan.Report{BMC: "node01", Reachable: true, Time: time.Unix(int64(1000+i), 0).UTC(), Findings: rep.findings}
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		for range 2 { // decoded, then from the cache
			sum, err := s.summary("node01")
			if err != nil || sum.worst != rep.worst || !sum.time.Equal(r.Time) || fmt.Sprint(sum.ids) != fmt.Sprint(rep.ids) {
				t.Fatalf("report %d: %+v, %v", i, sum, err)
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, datadir.ScanDir, "node01.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.summary("node01"); !errors.Is(err, service.ErrNoScan) {
		t.Fatalf("removed report: %v", err)
	}
}

func TestSecretSaver(t *testing.T) {
	dir := t.TempDir()
	where, err := SecretSaver(dir, "node01")("ADMIN", "n3w-Random-Pass")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(where)
	if err != nil || string(data) != "n3w-Random-Pass\n" {
		t.Fatalf("secret file: %v %q", err, data)
	}
	for _, p := range []string{where, filepath.Dir(where)} {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others: %v", p, fi.Mode())
		}
	}
	for _, bad := range []string{"", "a/b", "..", "x y"} {
		if _, err := SecretSaver(dir, "node01")(bad, "pw"); err == nil {
			t.Errorf("user %q accepted", bad)
		}
	}
}
