package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestPasswordFile checks password file rules: owner-only regular file,
// non-empty, one trailing newline stripped, IPMI length limit.
func TestPasswordFile(t *testing.T) {
	const field = "DIR/bmcgate.yaml:21: bmcs[0].ipmi.password_file: "
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		want     string // resolved password
		wantProb string
	}{
		{name: "trailing newline", content: testPassword + "\n", mode: 0o600, want: testPassword},
		{name: "no newline", content: testPassword, mode: 0o600, want: testPassword},
		{name: "CRLF", content: testPassword + "\r\n", mode: 0o600, want: testPassword},
		{name: "only one newline stripped", content: "pw\n\n", mode: 0o600, want: "pw\n"},
		{name: "spaces kept", content: " pw \n", mode: 0o600, want: " pw "},
		{name: "owner read-only", content: testPassword, mode: 0o400, want: testPassword},
		{name: "20 bytes", content: strings.Repeat("p", 20), mode: 0o600, want: strings.Repeat("p", 20)},
		{name: "group readable", content: testPassword, mode: 0o640, wantProb: "the password file is readable or writable by group or others (mode 0640): chmod 600 it"},
		{name: "world readable", content: testPassword, mode: 0o644, wantProb: "the password file is readable or writable by group or others (mode 0644): chmod 600 it"},
		{name: "group writable", content: testPassword, mode: 0o620, wantProb: "the password file is readable or writable by group or others (mode 0620): chmod 600 it"},
		{name: "empty", content: "", mode: 0o600, wantProb: "the password is empty"},
		{name: "only a newline", content: "\n", mode: 0o600, wantProb: "the password is empty"},
		{name: "21 bytes", content: testPassword + "123456789", mode: 0o600, wantProb: "the password is longer than 20 bytes, the IPMI 2.0 limit"},
		{name: "huge", content: strings.Repeat(testPassword, 1000), mode: 0o600, wantProb: "the password file is too large to hold a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFixture(t, baseConfig(t))
			pw := filepath.Join(filepath.Dir(path), "pw", "node01")
			if err := os.WriteFile(pw, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(pw, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.wantProb != "" {
				got := problemLines(t, path, LoadOptions{})
				if want := []string{field + tt.wantProb}; !slices.Equal(got, want) {
					t.Errorf("problems %q, want %q", got, want)
				}
				// SkipSecrets does not read the file at all.
				if _, err := Load(path, LoadOptions{SkipSecrets: true}); err != nil {
					t.Errorf("with SkipSecrets: %v", err)
				}
				return
			}
			c, err := Load(path, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BMCs[0].Password().Reveal(); got != tt.want {
				t.Errorf("password %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPasswordFileSpecial(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, pw string)
		want  string
	}{
		{"symlink to a good file is followed", func(t *testing.T, pw string) {
			real := pw + ".real"
			if err := os.Rename(pw, real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, pw); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"FIFO is refused without blocking", func(t *testing.T, pw string) {
			if err := os.Remove(pw); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(pw, 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
		}, "the password file is not a regular file"},
		{"unreadable file", func(t *testing.T, pw string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads any file")
			}
			if err := os.Chmod(pw, 0o000); err != nil {
				t.Fatal(err)
			}
		}, "cannot open the password file: permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFixture(t, baseConfig(t))
			tt.setup(t, filepath.Join(filepath.Dir(path), "pw", "node01"))
			if tt.want == "" {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if c.BMCs[0].Password().Reveal() != testPassword {
					t.Error("wrong password")
				}
				return
			}
			got := problemLines(t, path, LoadOptions{})
			if want := "DIR/bmcgate.yaml:21: bmcs[0].ipmi.password_file: " + tt.want; len(got) != 1 || got[0] != want {
				t.Errorf("problems %q, want %q", got, want)
			}
		})
	}
}

func TestPasswordFileAbsolutePath(t *testing.T) {
	other := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(other, []byte("abs-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := mutate(t, baseConfig(t), "password_file: pw/node01", "password_file: "+other)
	c, err := Load(writeFixture(t, text), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[0].Password().Reveal() != "abs-pw" || c.BMCs[0].IPMI.PasswordFile != other {
		t.Errorf("password file %s", c.BMCs[0].IPMI.PasswordFile)
	}
}

func TestPasswordEnv(t *testing.T) {
	const env = "BMCGATE_TEST_NODE01_PW"
	text := mutate(t, baseConfig(t), "password_file: pw/node01", "password_env: "+env)
	path := writeFixture(t, text)
	const prefix = "DIR/bmcgate.yaml:21: bmcs[0].ipmi.password_env: "

	t.Run("set", func(t *testing.T) {
		t.Setenv(env, testPassword)
		c, err := Load(path, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.BMCs[0].Password().Reveal() != testPassword {
			t.Error("wrong password")
		}
	})
	t.Run("empty", func(t *testing.T) {
		t.Setenv(env, "")
		got := problemLines(t, path, LoadOptions{})
		if want := prefix + "the password is empty"; len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want %q", got, want)
		}
	})
	t.Run("too long", func(t *testing.T) {
		t.Setenv(env, testPassword+testPassword)
		got := problemLines(t, path, LoadOptions{})
		if want := prefix + "the password is longer than 20 bytes, the IPMI 2.0 limit"; len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want %q", got, want)
		}
	})
	t.Run("unset", func(t *testing.T) {
		t.Setenv(env, "x")
		if err := os.Unsetenv(env); err != nil {
			t.Fatal(err)
		}
		got := problemLines(t, path, LoadOptions{})
		if want := prefix + "the environment variable is not set"; len(got) != 1 || got[0] != want {
			t.Errorf("problems %q, want %q", got, want)
		}
		if _, err := Load(path, LoadOptions{SkipSecrets: true}); err != nil {
			t.Errorf("with SkipSecrets: %v", err)
		}
	})
}

// TestSecretsNeverInProblems loads configs whose every password-related
// field holds the password, in every wrong way, and checks no problem
// quotes it. problemLines fails the test on any problem containing it.
func TestSecretsNeverInProblems(t *testing.T) {
	mutations := []struct{ old, new string }{
		{"password_file: pw/node01", "password_file: " + testPassword},
		{"password_file: pw/node01", "password_env: " + testPassword},
		{"password_file: pw/node01", "password_env: " + strings.ReplaceAll(testPassword, "-", "_")},
		{"password_file: pw/node01", "password: " + testPassword},
		{"password_file: pw/node01", "password: {" + testPassword + ": x}"},
		{"password_file: pw/node01", "password: [" + testPassword + "]"},
		{"password_file: pw/node01", "password_file: pw/node01\n      password: " + testPassword},
		{"password_file: pw/node01", "password_file: [" + testPassword + "]"},
		{"password_file: pw/node01", "password_file: {a: " + testPassword + "}"},
		{"cipher_suite", ""},
		{"username: admin", "username: " + testPassword + testPassword},
		{"username: admin", "username: [" + testPassword + "]"},
		{"      username: admin\n", "      username: admin\n      cipher_suite: " + testPassword + "\n"},
		{"      username: admin\n", "      username: admin\n      privilege: " + testPassword + "\n"},
	}
	for _, m := range mutations {
		text := baseConfig(t)
		if strings.Contains(text, m.old) {
			text = mutate(t, text, m.old, m.new)
		}
		path := writeFixture(t, text)
		if m.old == "cipher_suite" {
			// The password file itself is wrong in several ways at once.
			pw := filepath.Join(filepath.Dir(path), "pw", "node01")
			if err := os.WriteFile(pw, []byte(testPassword+testPassword), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, opts := range []LoadOptions{{}, {SkipSecrets: true}} {
			if _, err := Load(path, opts); err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("%q: error reveals the password: %v", m.new, err)
			}
		}
	}
}
