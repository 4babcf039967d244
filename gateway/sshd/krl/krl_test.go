package krl

import (
	"bytes"
	"crypto/sha1" // #nosec: building a KRL hash entry for a test
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"golang.org/x/crypto/ssh"
)

// keygen runs ssh-keygen in dir.
func keygen(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ssh-keygen", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a CA, a second CA and keys with certificates, made by
// ssh-keygen.
type fixture struct {
	dir   string
	names []string // public key files: keys and certificates
}

func newFixture(t *testing.T) *fixture {
	ipmisim.RequireBinaries(t, "ssh-keygen")
	f := &fixture{dir: t.TempDir()}
	for _, n := range []string{"ca", "ca2"} {
		keygen(t, f.dir, "-q", "-t", "ed25519", "-N", "", "-C", n, "-f", n)
	}
	// Serials: 0 (never revocable by serial), 5, 10, 25, 31 and a dense run
	// 100..140 that ssh-keygen writes as a bitmap.
	certs := []struct {
		key, ca, id string
		serial      int
	}{
		{"u0", "ca", "zero", 0}, {"u5", "ca", "five", 5}, {"u10", "ca", "ten", 10},
		{"u25", "ca", "bad-id", 25}, {"u31", "ca", "thirty-one", 31}, {"u120", "ca", "dense", 120},
		{"u121", "ca", "dense-gap", 121}, {"o10", "ca2", "other-ca", 10}, {"plain", "", "", 0}, {"plain2", "", "", 0},
	}
	for _, c := range certs {
		keygen(t, f.dir, "-q", "-t", "ed25519", "-N", "", "-f", c.key)
		f.names = append(f.names, c.key+".pub")
		if c.ca != "" {
			keygen(t, f.dir, "-q", "-s", c.ca, "-I", c.id, "-n", "alice", "-z", fmt.Sprint(c.serial), c.key+".pub")
			f.names = append(f.names, c.key+"-cert.pub")
		}
	}
	return f
}

// sshKeygenRevoked asks ssh-keygen -Q whether the key in file is revoked.
func sshKeygenRevoked(t *testing.T, dir, krl, file string) bool {
	t.Helper()
	cmd := exec.Command("ssh-keygen", "-Q", "-f", krl, file)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	switch {
	case strings.Contains(string(out), "REVOKED"):
		return true
	case err == nil && strings.Contains(string(out), ": ok"):
		return false
	}
	t.Fatalf("ssh-keygen -Q %s: %v\n%s", file, err, out)
	return false
}

// TestAgainstSSHKeygen builds KRLs with ssh-keygen -k and checks that every
// key and certificate is revoked exactly when ssh-keygen -Q says so.
func TestAgainstSSHKeygen(t *testing.T) {
	f := newFixture(t)
	plain := strings.TrimSpace(string(mustRead(t, filepath.Join(f.dir, "plain.pub"))))
	h := sha256.Sum256(readKey(t, filepath.Join(f.dir, "u31.pub")).Marshal())
	dense := []string{}
	for s := 100; s <= 140; s++ {
		if s != 121 {
			dense = append(dense, fmt.Sprintf("serial: %d", s))
		}
	}
	specs := []struct {
		name string
		args []string // extra ssh-keygen -k arguments before the spec file
		spec string
		want []string         // files revoked
		form func(*List) bool // the encoding ssh-keygen chose
	}{
		{name: "serial list", args: []string{"-s", "ca.pub"}, spec: "serial: 5\nserial: 10\n",
			want: []string{"u5-cert.pub", "u10-cert.pub"}},
		{name: "serial range", args: []string{"-s", "ca.pub"}, spec: "serial: 6-100000\n",
			want: []string{"u10-cert.pub", "u25-cert.pub", "u31-cert.pub", "u120-cert.pub", "u121-cert.pub"}, form: func(l *List) bool { return len(l.certs[0].ranges) > 0 }},
		{name: "serial bitmap", args: []string{"-s", "ca.pub"}, spec: strings.Join(dense, "\n") + "\n",
			want: []string{"u120-cert.pub"}, form: func(l *List) bool { return len(l.certs[0].bitmaps) > 0 }},
		{name: "key id", args: []string{"-s", "ca.pub"}, spec: "id: bad-id\n", want: []string{"u25-cert.pub"}},
		{name: "plain key revokes its certificates", spec: "key: " + plain + "\n", want: []string{"plain.pub"}},
		{name: "sha256 hash", spec: "hash: SHA256:" + strings.TrimRight(base64.StdEncoding.EncodeToString(h[:]), "=") + "\n",
			want: []string{"u31.pub", "u31-cert.pub"}},
		{name: "CA key revoked", spec: "key: " + strings.TrimSpace(string(mustRead(t, filepath.Join(f.dir, "ca2.pub")))) + "\n",
			want: []string{"o10-cert.pub"}},
	}
	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) {
			spec := filepath.Join(f.dir, "spec")
			if err := os.WriteFile(spec, []byte(sp.spec), 0o600); err != nil {
				t.Fatal(err)
			}
			krlFile := filepath.Join(f.dir, "revoked.krl")
			_ = os.Remove(krlFile)
			keygen(t, f.dir, append(append([]string{"-k", "-f", krlFile}, sp.args...), spec)...)
			data := mustRead(t, krlFile)
			if !IsKRL(data) {
				t.Fatal("ssh-keygen did not write a KRL")
			}
			l, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if sp.form != nil && !sp.form(l) {
				t.Fatalf("ssh-keygen chose another encoding than the test means to cover: %+v", l.certs)
			}
			for _, name := range f.names {
				want := sshKeygenRevoked(t, f.dir, krlFile, name)
				got, why := l.Revoked(readKey(t, filepath.Join(f.dir, name)))
				if got != want {
					t.Errorf("%s: revoked=%v (%s), ssh-keygen says %v", name, got, why, want)
				}
				if got && why == "" {
					t.Errorf("%s: revoked without a reason", name)
				}
				listed := false
				for _, w := range sp.want {
					listed = listed || w == name
				}
				if listed && !got {
					t.Errorf("%s: expected to be revoked by %q", name, sp.spec)
				}
			}
		})
	}
	// The serial-0 certificate is never revoked by serial.
	t.Run("serial zero", func(t *testing.T) {
		l := revokeSerials(t, 0, 1<<63)
		if got, _ := l.Revoked(readKey(t, filepath.Join(f.dir, "u0-cert.pub"))); got {
			t.Error("serial 0 revoked by a range")
		}
	})
}

// revokeSerials is a KRL for any CA revoking serials lo..hi, built by hand.
func revokeSerials(t *testing.T, lo, hi uint64) *List {
	t.Helper()
	sub := ssh.Marshal(struct{ Lo, Hi uint64 }{lo, hi})
	sec := ssh.Marshal(struct {
		CA, Reserved string
		Type         byte
		Data         []byte
	}{"", "", certSerialRange, sub})
	l, err := Parse(krlBytes(sectionCertificates, sec))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func krlBytes(sections ...any) []byte {
	var b bytes.Buffer
	b.Write(magic)
	b.Write(ssh.Marshal(struct {
		Format           uint32
		Version, Date, F uint64
		Reserved, Cmt    string
	}{formatVersion, 3, 0, 0, "", "test"}))
	for i := 0; i+1 < len(sections); i += 2 {
		b.WriteByte(byte(sections[i].(int)))
		b.Write(ssh.Marshal(struct{ D []byte }{sections[i+1].([]byte)}))
	}
	return b.Bytes()
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyList(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("# revoked\n\n")
	b.Write(mustRead(t, filepath.Join(f.dir, "plain.pub")))
	b.Write(mustRead(t, filepath.Join(f.dir, "u5-cert.pub"))) // a certificate line revokes its key
	l, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if l.Entries != 2 {
		t.Errorf("entries %d", l.Entries)
	}
	for name, want := range map[string]bool{"plain.pub": true, "u5.pub": true, "u5-cert.pub": true, "plain2.pub": false, "u10-cert.pub": false} {
		if got, _ := l.Revoked(readKey(t, filepath.Join(f.dir, name))); got != want {
			t.Errorf("%s revoked=%v, want %v", name, got, want)
		}
	}
	if _, err := Parse([]byte("ssh-ed25519 AAAA-not-base64\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	key := readKeyBlob(t)
	sha1Sum := sha1.Sum(key) // #nosec
	good := krlBytes(sectionExplicitKey, ssh.Marshal(struct{ K []byte }{key}), sectionFingerprintSHA, ssh.Marshal(struct{ H []byte }{sha1Sum[:]}))
	if l, err := Parse(good); err != nil || l.Entries != 2 || l.Version != 3 {
		t.Fatalf("hand-made KRL: %v %+v", err, l)
	}
	for name, data := range map[string][]byte{
		"truncated":        good[:len(good)-3],
		"header only part": good[:12],
		"unknown section":  krlBytes(9, []byte{}),
		"signature":        krlBytes(sectionSignature, ssh.Marshal(struct{ K, S string }{"k", "s"})),
		"short hash":       krlBytes(sectionSHA256, ssh.Marshal(struct{ H []byte }{[]byte{1, 2}})),
		"bad key":          krlBytes(sectionExplicitKey, ssh.Marshal(struct{ K []byte }{[]byte("junk")})),
		"version 2":        append(append([]byte{}, magic...), 0, 0, 0, 2),
		"bad range": krlBytes(sectionCertificates, ssh.Marshal(struct {
			CA, R string
			T     byte
			D     []byte
		}{"", "", certSerialRange, ssh.Marshal(struct{ A, B uint64 }{9, 3})})),
		"unknown subsection": krlBytes(sectionCertificates, ssh.Marshal(struct {
			CA, R string
			T     byte
			D     []byte
		}{"", "", 0x7f, nil})),
		"too large": make([]byte, MaxSize+1),
	} {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func readKeyBlob(t *testing.T) []byte {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcit62Wk4q6DGPZWfSZnTVDPPDmu7mSzCVKhj409hjC x"))
	if err != nil {
		t.Fatal(err)
	}
	return k.Marshal()
}

// FuzzParse: no input makes Parse panic or hang, and a parsed list answers.
func FuzzParse(f *testing.F) {
	f.Add(krlBytes(sectionExplicitKey, []byte{0, 0, 0, 1, 'x'}))
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcit62Wk4q6DGPZWfSZnTVDPPDmu7mSzCVKhj409hjC x\n"))
	f.Add(append(append([]byte{}, magic...), 0, 0, 0, 1))
	k, _, _, _, _ := ssh.ParseAuthorizedKey([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcit62Wk4q6DGPZWfSZnTVDPPDmu7mSzCVKhj409hjC x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		l.Revoked(k)
	})
}
