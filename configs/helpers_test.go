package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testPassword is the BMC password of the base config. Tests check that it
// never appears in a problem.
const testPassword = "s3cret-Pw_42"

// testKey reads a public key fixture from testdata/keys.
func testKey(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// baseConfig is a small valid config. Line numbers matter: tests name them.
func baseConfig(t testing.TB) string {
	return `version: 1
data_dir: data
listen:
  ssh: 127.0.0.1:2222
roles:
  - name: ops
    allow:
      - actions: ["power.*"]
        bmcs: ["*"]
users:
  - name: alice
    ssh_keys:
      - "` + testKey(t, "alice") + `"
    roles: [ops]
bmcs:
  - name: node01
    address: 10.0.0.1
    labels: {rack: r1}
    ipmi:
      username: admin
      password_file: pw/node01
`
}

// writeFixture writes config text as bmcgate.yaml in a new temporary
// directory, with the password file pw/node01 (mode 0600) beside it, and
// returns the config path.
func writeFixture(t testing.TB, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "pw"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw", "node01"), []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemLines loads path and returns its problems as strings with the
// directory replaced by "DIR", failing the test if Load returned no *Error.
func problemLines(t testing.TB, path string, opts LoadOptions) []string {
	t.Helper()
	_, err := Load(path, opts)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load returned %v (%T), want *Error", err, err)
	}
	out := make([]string, len(cerr.Problems))
	for i, p := range cerr.Problems {
		out[i] = strings.ReplaceAll(p.String(), filepath.Dir(path), "DIR")
		if strings.Contains(p.String(), testPassword) {
			t.Errorf("problem reveals the password: %s", p)
		}
	}
	return out
}

// mutate replaces old with new in text exactly once.
func mutate(t testing.TB, text, old, new string) string {
	t.Helper()
	if strings.Count(text, old) != 1 {
		t.Fatalf("mutation target %q found %d times", old, strings.Count(text, old))
	}
	return strings.Replace(text, old, new, 1)
}

// errorsAs is errors.As, named to keep imports of the test files short.
func errorsAs(err error, target any) bool {
	return errors.As(err, target)
}
