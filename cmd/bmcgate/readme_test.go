package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// readmeSkipped are the README command lines this test does not run, with
// the test that covers each instead. Every other `bmcgate ...` line of the
// README is run as written (placeholders filled in), so a new line is
// tested unless it is added here, on review.
var readmeSkipped = map[string]string{
	"go run ./cmd/bmcgate demo": "serves until stopped: TestE2EDemo and TestDemoRefuses* (gateway/demo) run the demo",
	"bmcgate demo [--ssh-addr 127.0.0.1:2222] [--https-addr 127.0.0.1:8443] [--no-web] [--bmcs 8] [--data-dir DIR]": "serves until stopped: TestE2EDemo, TestE2EDemoWeb, TestDemoNoWeb and TestDemoRefuses* (gateway/demo) run the demo",
	"./bmcgate serve --config /etc/bmcgate/bmcgate.yaml":                                                            "serves until stopped: TestServeStartupRefusals and the gateway e2e tests",
	"bmcgate serve --config FILE [--log-format text|json] [--log-level info]":                                       "serves until stopped: TestServeStartupRefusals and the gateway e2e tests",
	"bmcgate audit verify --data-dir DIR --expect-head SEQ:HASH":                                                    "", // run below (prose form)
	"bmcgate audit verify --data-dir DIR":                                                                           "",
	"bmcgate config check --config configs/example.yaml --skip-secrets":                                             "",
	"bmcgate pin node01 --config bmcgate.yaml":                                                                      "",
	"bmcgate passwd --totp-file /etc/bmcgate/totp/bg-oncall":                                                        "",
	"bmcgate scan --config /etc/bmcgate/bmcgate.yaml":                                                               "",
	"bmcgate scan --config FILE --json rack=r1":                                                                     "",
	"bmcgate audit replay --data-dir DIR [--speed N] SESSION":                                                       "",
	"bmcgate audit export --data-dir DIR --format asciicast SESSION":                                                "",
	"./bmcgate config check --config /etc/bmcgate/bmcgate.yaml":                                                     "",
	"bmcgate config check --config FILE [--skip-secrets]":                                                           "",
	"bmcgate audit verify --data-dir DIR [--expect-head SEQ:HASH] [--json]":                                         "",
	"bmcgate audit search --data-dir DIR [filters] [--json]":                                                        "",
	"bmcgate audit reindex --data-dir DIR":                                                                          "",
	"bmcgate audit replay|export --data-dir DIR [--speed N] [--format asciicast] SESSION":                           "",
	"bmcgate scan --config FILE [--json] [--fix [--yes]] [TARGET...]":                                               "",
	"bmcgate pin BMC --config FILE":                                                                                 "",
	"bmcgate pin --ssh BMC --config FILE":                                                                           "needs a BMC SSH console service: TestPinSSH (gateway)",
	"bmcgate passwd [--totp-file FILE]":                                                                             "",
	"bmcgate audit replay SESSION --data-dir DIR":                                                                   "",
	"bmcgate version": "",
	"bmcgate lock USER|ROLE --data-dir DIR [--for 1h] --reason TEXT": "",
	"bmcgate unlock USER|ROLE --data-dir DIR [--reason TEXT]":        "",
	"bmcgate lock NAME --data-dir DIR --reason TEXT [--for 1h]":      "",
	"bmcgate unlock NAME --data-dir DIR":                             "",
	"bmcgate cert revoke SERIAL --data-dir DIR [--reason TEXT]":      "",
	"bmcgate cert list --data-dir DIR":                               "",
}

var (
	codeSpan  = regexp.MustCompile("`((?:\\./|go run \\./cmd/)?bmcgate [^`]+)`")
	blockLine = regexp.MustCompile(`^    ((?:\./|go run \./cmd/)?bmcgate .*?)\s*(?:#.*)?$`)
)

// readmeCommands returns every bmcgate command line of the README: lines of
// indented code blocks and code spans (tables, prose), with table escapes
// undone and trailing comments dropped.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(strings.ReplaceAll(s, `\|`, "|"))
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := blockLine.FindStringSubmatch(line); m != nil {
			add(m[1])
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			add(m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// variants expands a synopsis: without its optional [parts], with all of
// them, and every alternative of an a|b word.
func variants(synopsis string) [][]string {
	bracket := regexp.MustCompile(`\[[^\[\]]*\]`)
	min := synopsis
	for bracket.MatchString(min) {
		min = bracket.ReplaceAllString(min, "")
	}
	full := strings.NewReplacer("[", "", "]", "").Replace(synopsis)
	var out [][]string
	seen := map[string]bool{}
	for _, s := range []string{min, full} {
		words := [][]string{{}}
		for _, w := range strings.Fields(s) {
			alts := strings.Split(w, "|")
			var next [][]string
			for _, prefix := range words {
				for _, a := range alts {
					next = append(next, append(append([]string(nil), prefix...), a))
				}
			}
			words = next
		}
		for _, w := range words {
			if k := strings.Join(w, " "); !seen[k] {
				seen[k] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// readmeFixture is a config, a data dir with a console recording, and the
// values the README's placeholders stand for.
type readmeFixture struct {
	cfg, data, session, head, totpDir string
}

func newReadmeFixture(t *testing.T) readmeFixture {
	t.Helper()
	dir := t.TempDir()
	web := httptest.NewUnstartedServer(http.NotFoundHandler())
	web.Config.ErrorLog = log.New(io.Discard, "", 0) // the scan's TLS probes fail handshakes on purpose
	web.StartTLS()
	t.Cleanup(web.Close)
	b, err := bmcsim.Start(context.Background(), "node01", bmcsim.Options{Username: "gw", Password: "Readme-Pw-1", Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	f := readmeFixture{cfg: filepath.Join(dir, "bmcgate.yaml"), data: filepath.Join(dir, "data"), totpDir: filepath.Join(dir, "totp")}
	pw := filepath.Join(dir, "node01.pw")
	if err := os.WriteFile(pw, []byte("Readme-Pw-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`version: 1
data_dir: %q
roles:
  - name: admin
    allow:
      - actions: ["*"]
        bmcs: ["*"]
users:
  - name: alice
    roles: [admin]
    ssh_keys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQvzu4De76WU/hmNm+vy+MVyGF1K6VmtUIVK/QRWtL2 alice@example.com"
scan:
  probe_interval: 1ms
  timeout: 500ms
bmcs:
  - name: node01
    address: %q
    labels: {rack: r1}
    ipmi:
      username: gw
      password_file: %q
    web:
      url: %s
      tls:
        insecure_skip_verify_dangerous: true
`, f.data, b.Addr(), pw, web.URL)
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := audit.Open(filepath.Join(f.data, "audit.db"), audit.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	f.session = "c-readme"
	for _, r := range []audit.Record{
		{Code: audit.CodeConsoleAttach, Actor: "alice", Session: "s-1", Target: "node01", Fields: map[string]string{audit.FieldConsole: f.session}},
		{Code: audit.CodeConsoleOutput, Target: "node01", Outcome: audit.OutcomeOK, Data: audit.AppendFrame(nil, t0, t0, []byte("login: ")),
			Fields: map[string]string{audit.FieldConsole: f.session, audit.FieldT0: t0.Format(time.RFC3339Nano)}},
		{Code: audit.CodeConsoleDetach, Actor: "alice", Session: "s-1", Target: "node01", Fields: map[string]string{audit.FieldConsole: f.session}},
	} {
		if _, err := s.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	seq, hash := s.Head()
	f.head = fmt.Sprintf("%d:%s", seq, hash)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// fill replaces the README's placeholders and example paths in args.
func (f readmeFixture) fill(t *testing.T, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		prev := ""
		if i > 0 {
			prev = args[i-1]
		}
		switch {
		case a == "DIR":
			a = f.data
		case prev == "--totp-file":
			a = filepath.Join(f.totpDir, fmt.Sprintf("totp-%d", len(os.Args)+i+int(time.Now().UnixNano()%1e6)))
		case a == "FILE", a == "/etc/bmcgate/bmcgate.yaml", a == "bmcgate.yaml":
			a = f.cfg
		case a == "configs/example.yaml":
			a = filepath.Join("..", "..", "configs", "example.yaml")
		case a == "SESSION":
			a = f.session
		case a == "USER":
			a = "alice"
		case a == "ROLE":
			a = "admin"
		case a == "SERIAL":
			a = "4242"
		case a == "TEXT":
			a = "a README revocation"
		case a == "SEQ:HASH":
			a = f.head
		case a == "BMC", a == "TARGET...", a == "TARGET":
			a = "node01"
		case a == "N" && prev == "--speed":
			a = "0"
		case a == "filters":
			out = append(out, "--code", "console.*", "--since", "2h")
			continue
		}
		out = append(out, a)
	}
	return out
}

// TestReadmeCommandLines runs every bmcgate command line the README shows,
// as written, with its placeholders filled in.
func TestReadmeCommandLines(t *testing.T) {
	f := newReadmeFixture(t)
	if err := os.MkdirAll(f.totpDir, 0o700); err != nil {
		t.Fatal(err)
	}
	lines := readmeCommands(t)
	if len(lines) < 10 {
		t.Fatalf("found only %d command lines in the README", len(lines))
	}
	old := stdin
	t.Cleanup(func() { stdin = old })
	for _, line := range lines {
		reason, listed := readmeSkipped[line]
		if !listed {
			t.Errorf("README line %q is neither run nor skipped: add it to readmeSkipped (with an empty reason to run it)", line)
			continue
		}
		if reason != "" {
			t.Logf("skipped %q: %s", line, reason)
			continue
		}
		words := strings.Fields(line)
		for words[0] != "bmcgate" && words[0] != "./bmcgate" {
			words = words[1:]
		}
		for _, v := range variants(strings.Join(words[1:], " ")) {
			args := f.fill(t, v)
			t.Run(strings.Join(v, " "), func(t *testing.T) {
				stdin = strings.NewReader("yes\nyes\n")
				if args[0] == "passwd" {
					stdin = strings.NewReader("a README break-glass password\n")
				}
				out, errOut, code := runCLI(t, args...)
				ok := code == exitOK || args[0] == "scan" && code == exitCritical
				if !ok {
					t.Fatalf("bmcgate %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
				}
			})
		}
	}
}
