package configs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// maxFuzzConfig bounds the inputs FuzzParse tries. Every section of the
// loader is reachable in a few hundred bytes; larger inputs only slow the
// fuzzer down (and the size limit itself is tested in load_test.go). The
// full example is checked by TestExampleEmbedded, not used as a seed: the
// fuzzer would spend its time minimising it.
const maxFuzzConfig = 4 << 10

// fuzzMinimal is the smallest config Parse accepts.
const fuzzMinimal = "version: 1\ndata_dir: d\nroles: [{name: ops, allow: [{actions: [\"*\"], bmcs: [\"*\"]}]}]\n" +
	"users: [{name: alice, roles: [ops], ssh_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQvzu4De76WU/hmNm+vy+MVyGF1K6VmtUIVK/QRWtL2\"]}]\n"

// fuzzValidSeeds are the minimal config plus one section each; all load.
var fuzzValidSeeds = []string{
	fuzzMinimal,
	fuzzMinimal + "listen: {ssh: \"127.0.0.1:2222\"}\nssh: {banner: hi}\n",
	fuzzMinimal + "limits: {idle_timeout: 15m, max_targets: 10, command_timeout: 30s}\n",
	strings.Replace(fuzzMinimal, "roles: [{name: ops, allow: [{actions: [\"*\"], bmcs: [\"*\"]}]}]",
		"roles:\n  - name: ops\n    allow: [{actions: [\"power.*\", audit.read], bmcs: [\"rack=r1\", \"node0*\"]}]\n    deny: [{actions: [power.off], bmcs: [node03]}]", 1),
	fuzzMinimal + "bmcs:\n  - name: node01\n    address: 10.0.0.1\n    labels: {rack: r1}\n    ipmi: {username: admin, password_file: pw/node01, cipher_suite: 17}\n",
	fuzzMinimal + "bmcs:\n  - name: n1\n    address: \"[::1]:623\"\n    ipmi: {username: a, password_env: PW}\n" +
		"    web: {url: \"https://10.0.0.1\", tls: {pin_sha256: \"8e4c2a907d31f6b5c0a9e7d2436f18b5a2c0d9e7f6135a8b4c2d1e0f9a8b7c6d\"}}\n",
	fuzzMinimal + "listen: {https: \"127.0.0.1:8443\"}\nweb:\n  public_url: https://gw.example.com:8443\n  proxy_domain: bmc.example.com\n" +
		"  oidc: {issuer: \"https://idp.example.com\", client_id: x, client_secret_env: S, group_roles: {g: [ops]}}\n",
	fuzzMinimal + "scan: {interval: 24h, concurrency: 8, probe_interval: 20ms, timeout: 2s}\n",
}

// fuzzBadSeeds are known-bad inputs.
var fuzzBadSeeds = []string{
	"",
	"---\n",
	"version: 2\n",
	"version: 1\nversion: 1\n",
	"version: \"1\"\ndata_dir: [d]\nunknown: x\n",
	"version: 1\nbmcs: [{name: a, labels: {x: *y}}]\n",
	"a: &a [*a]\n",
	"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
	"version: 1\nversion: 2\n---\n",
	"version: 1\ndata_dir: d\nlimits: {idle_timeout: 10}\n",
	"version: 1\n\tdata_dir: d\n",
	"[1, 2]\n",
	"version: 1\ndata_dir: \"\\x1b[2J\\u202e\"\nbmcs: [{name: \"NODE\\u200b01\"}]\n",
	"version: 1\ndata_dir: d\nweb: {break_glass: [{name: root, password_hash: \"$argon2id$v=19$m=1,t=1,p=1$$\"}]}\n",
}

// FuzzParse checks that no input makes Parse panic; that every failure is
// an *Error with problems, each one line naming the file, with no raw
// control character; and that a success returns a config.
func FuzzParse(f *testing.F) {
	for _, s := range append(fuzzValidSeeds, fuzzBadSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzConfig {
			t.Skip()
		}
		c, err := Parse("fuzz.yaml", data, LoadOptions{SkipSecrets: true})
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var cerr *Error
		if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
			t.Fatalf("Parse error %v (%T) is not an *Error with problems", err, err)
		}
		for _, p := range cerr.Problems {
			line := p.String()
			if p.File != "fuzz.yaml" || p.Message == "" || !strings.HasPrefix(line, "fuzz.yaml") {
				t.Fatalf("problem %+v does not name the file or has no message", p)
			}
			if i := strings.IndexFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
				t.Fatalf("problem %q holds a control character at %d", line, i)
			}
		}
	})
}

// TestFuzzConfigSeedsParse keeps the seeds meaningful: the valid ones
// still load, so the fuzzer starts from inputs that reach validation.
func TestFuzzConfigSeedsParse(t *testing.T) {
	for _, s := range fuzzValidSeeds {
		if _, err := Parse("seed.yaml", []byte(s), LoadOptions{SkipSecrets: true}); err != nil {
			t.Errorf("seed %q: %v", s, err)
		}
	}
	for _, s := range fuzzBadSeeds {
		if _, err := Parse("seed.yaml", []byte(s), LoadOptions{SkipSecrets: true}); err == nil {
			t.Errorf("bad seed %q loads", s)
		}
	}
	for _, s := range append(fuzzValidSeeds, fuzzBadSeeds...) {
		if len(s) > maxFuzzConfig {
			t.Errorf("seed of %d bytes is over maxFuzzConfig", len(s))
		}
	}
}

// FuzzBMCFromHost: the BMC-host name mapping is the inverse of BMCHost, in
// any case and with or without the port, and never maps a host outside the
// proxy domain or a label that is not a plain DNS label.
func FuzzBMCFromHost(f *testing.F) {
	for _, s := range []string{"node01.bmc.example.com", "NODE01.BMC.example.com:8443", "node01.bmc.example.com.",
		"a.b.bmc.example.com", ".bmc.example.com", "-x.bmc.example.com", "bmc.example.com", "node01.bmc.example.com.evil",
		"[::1]:443", "node_01.bmc.example.com", "xn--n1-x.bmc.example.com:1", "node01.bmc.example.com:"} {
		f.Add(s, "node01")
	}
	w := Web{ProxyDomain: "bmc.example.com", origin: "https://gw.example.com:8443", originPort: 8443}
	f.Fuzz(func(t *testing.T, host, name string) {
		if got := w.BMCFromHost(host); got != "" {
			if !dnsLabel(got) {
				t.Fatalf("BMCFromHost(%q) = %q, not a DNS label", host, got)
			}
			h := strings.ToLower(host)
			if !strings.HasPrefix(h, got+".bmc.example.com") || strings.Count(got, ".") != 0 {
				t.Fatalf("BMCFromHost(%q) = %q, not the host's first label", host, got)
			}
			if back := w.BMCFromHost(w.BMCHost(got)); back != got {
				t.Fatalf("BMCFromHost(%q) = %q, but its BMCHost %q maps to %q", host, got, w.BMCHost(got), back)
			}
		}
		if h := w.BMCHost(name); h != "" {
			if back := w.BMCFromHost(h); back != name {
				t.Fatalf("BMCHost(%q) = %q maps back to %q", name, h, back)
			}
			if back := w.BMCFromHost(strings.ToUpper(h)); back != name {
				t.Fatalf("BMCHost(%q) in upper case maps back to %q", name, back)
			}
		} else if dnsLabel(name) {
			t.Fatalf("BMCHost(%q) is empty for a DNS label", name)
		}
	})
}

// FuzzParseArgon2id: a hash string that parses has parameters within the
// bounds, and no error quotes the string (it is a password hash).
func FuzzParseArgon2id(f *testing.F) {
	salt := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte("s"), 16))
	hash := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte("h"), 32))
	for _, s := range []string{
		"$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + hash,
		"$argon2id$v=19$m=65536,t=3,p=4,p=9$" + salt + "$" + hash,
		"$argon2i$v=19$m=65536,t=3,p=4$" + salt + "$" + hash,
		"$argon2id$v=19$m=4294967296,t=3,p=256$" + salt + "$" + hash,
		"$argon2id$v=19$m=65536,t=3,p=4$" + salt + "=$" + hash,
		"", "$", "$$$$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseArgon2id(s)
		if err != nil {
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q quotes the hash", err)
			}
			return
		}
		if p.Memory < minArgonMemory || p.Memory > maxArgonMemory || p.Time < 1 || p.Time > maxArgonTime ||
			p.Threads < 1 || p.Threads > maxArgonLanes || len(p.Salt) < minSaltLen || len(p.Hash) < minHashLen {
			t.Fatalf("ParseArgon2id(%q) = %+v, out of bounds", s, p)
		}
	})
}
