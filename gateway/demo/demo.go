// Package demo runs "bmcgate demo": a gateway in front of simulated BMCs
// (internal/sim/bmcsim) on loopback, with a generated config, keys and an
// ssh_config in the data directory, and the commands to try printed.
package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/oserr"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	gossh "golang.org/x/crypto/ssh"
)

// Options configures Demo.
type Options struct {
	DataDir string // empty: a new temporary directory, removed on exit
	SSHAddr string // default 127.0.0.1:2222, falling back to a free port
	// HTTPSAddr is the web door's address, default 127.0.0.1:8443, falling
	// back to a free port. NoWeb starts the SSH door alone.
	HTTPSAddr string
	NoWeb     bool
	BMCs      int    // default 8
	HomeDir   string // where to look for ~/.ssh/*.pub; default $HOME
	Out       io.Writer
	Logger    *slog.Logger
}

// demoBMC describes one simulated BMC of the demo fleet.
type demoBMC struct {
	name, addr, rack string
	suite            int
	// A Redfish-only BMC (IPMI over LAN off): its Redfish service, the
	// certificate pin, and its SSH console service's port and host key.
	redfish, pin, sshPort, hostKey string
	webUI                          bool // serves a web UI behind its Redfish service
}

// Run starts a fleet of simulated BMCs on loopback, writes a demo config
// into the data directory, authorizes the caller's SSH keys (or a new key
// pair) and serves until ctx is done.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	temp := o.DataDir == ""
	if temp {
		d, err := os.MkdirTemp("", "bmcgate-demo-")
		if err != nil {
			return fmt.Errorf("demo data directory: %w", err)
		}
		o.DataDir = d
		defer os.RemoveAll(d)
	}
	// Take the data directory before writing anything into it: a second
	// demo on a directory in use must leave the running one's files alone.
	unlock, err := lockDemoDir(o.DataDir, o.Logger)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.MkdirAll(filepath.Join(o.DataDir, datadir.SecretsDir), 0o700); err != nil {
		return fmt.Errorf("demo data directory: %w", err)
	}

	fleet, sims, err := startDemoFleet(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range sims {
			_ = s.Close()
		}
	}()
	ids, err := demoKeys(o)
	if err != nil {
		return err
	}
	sshAddr, note, err := demoListenAddr("SSH", o.SSHAddr)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(o.Out, note)
	}
	imagesAddr, img, err := demoImage(o.DataDir)
	if err != nil {
		return err
	}
	var wd *webDemo
	if !o.NoWeb {
		if wd, err = startWebDemo(o); err != nil {
			return err
		}
		defer wd.close()
	}
	cfgPath := filepath.Join(o.DataDir, datadir.DemoConfig)
	if err := os.WriteFile(cfgPath, []byte(demoConfig(o.DataDir, sshAddr, wd.listen(), fleet, ids.keys, imagesAddr, img)+wd.config()), 0o600); err != nil {
		return fmt.Errorf("write demo config: %w", err)
	}
	cfg, err := assemble.LoadConfig(cfgPath, false)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	g, err := gateway.Open(ctx, cfg, o.Logger)
	if err != nil {
		return err
	}
	sshCfg, err := writeDemoSSHConfig(o.DataDir, g.SSHAddr(), g.HostKey(), ids.identity)
	if err != nil {
		g.Close()
		return err
	}
	printDemoHelp(o.Out, g.SSHAddr(), sshCfg, cfgPath, o.DataDir, ids, fleet, wd, temp)
	return g.Run(ctx)
}

func (o *Options) defaults() {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.BMCs <= 0 {
		o.BMCs = 8
	}
	if o.SSHAddr == "" {
		o.SSHAddr = "127.0.0.1:2222"
	}
	if o.HTTPSAddr == "" {
		o.HTTPSAddr = "127.0.0.1:8443"
	}
	if o.HomeDir == "" {
		o.HomeDir, _ = os.UserHomeDir()
	}
}

func startDemoFleet(ctx context.Context, o Options) ([]demoBMC, []io.Closer, error) {
	var fleet []demoBMC
	var sims []io.Closer
	fail := func(err error) ([]demoBMC, []io.Closer, error) {
		for i := len(sims) - 1; i >= 0; i-- {
			_ = sims[i].Close()
		}
		return nil, nil, err
	}
	for i := 1; i <= o.BMCs; i++ {
		name := fmt.Sprintf("node%02d", i)
		pass := randomHex(10) // IPMI 2.0 passwords are at most 20 bytes
		suite := 17
		if i%4 == 0 {
			suite = 3
		}
		b, err := bmcsim.Start(ctx, name, bmcsim.Options{
			Username: "bmcgate", Password: pass, Privilege: "operator",
			CipherSuites: []int{3, 17}, Sensors: true, SOL: true, PowerOn: i%3 != 0,
		})
		if err != nil {
			return fail(fmt.Errorf("start simulated BMC %s: %w", name, err))
		}
		sims = append(sims, b)
		rack := "r1"
		if i > (o.BMCs+1)/2 {
			rack = "r2"
		}
		if err := os.WriteFile(filepath.Join(o.DataDir, datadir.SecretsDir, name), []byte(pass+"\n"), 0o600); err != nil {
			return fail(fmt.Errorf("write demo secret: %w", err))
		}
		d := demoBMC{name: name, addr: b.Addr(), rack: rack, suite: suite}
		if i%4 == 2 {
			// Every fourth BMC, from node02, is Redfish-only: IPMI over
			// LAN off, the console through its SSH console service.
			// With the web door, it serves a web UI of its own too.
			d.webUI = !o.NoWeb
			rf, err := b.StartRedfish(ctx, bmcsim.RedfishOptions{Username: "bmcgate", Password: pass, IPMIDisabled: true, WebUI: d.webUI})
			if err != nil {
				return fail(fmt.Errorf("start the Redfish service of %s: %w", name, err))
			}
			sims = append(sims, rf)
			sc, err := b.StartSSH(ctx, bmcsim.SSHOptions{Username: "bmcgate", Password: pass})
			if err != nil {
				return fail(fmt.Errorf("start the SSH console of %s: %w", name, err))
			}
			sims = append(sims, sc)
			_, d.sshPort, _ = net.SplitHostPort(sc.Addr())
			pin := sha256.Sum256(rf.Certificate().Raw)
			d.redfish, d.pin = rf.URL(), hex.EncodeToString(pin[:])
			d.hostKey = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sc.HostKey())))
		}
		fleet = append(fleet, d)
	}
	return fleet, sims, nil
}

// demoImage writes a small installation image for virtual media into the
// data directory and picks a loopback port for the image listener. It
// returns the port and the image's SHA-256.
func demoImage(dataDir string) (addr, sum string, err error) {
	dir := filepath.Join(dataDir, "images")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("demo images: %w", err)
	}
	data := make([]byte, 2<<20)
	copy(data, "bmcgate demo installation image\n")
	for i := 64; i < len(data); i++ {
		data[i] = byte(i * 7 / 3)
	}
	if err := os.WriteFile(filepath.Join(dir, "demo-installer.iso"), data, 0o600); err != nil {
		return "", "", fmt.Errorf("demo images: %w", err)
	}
	h := sha256.Sum256(data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", fmt.Errorf("demo images: %w", err)
	}
	addr = ln.Addr().String()
	_ = ln.Close()
	return addr, hex.EncodeToString(h[:]), nil
}

// demoUsers are the demo's accounts and their roles, admin first.
var demoUsers = []struct{ name, role string }{
	{"admin", "admin"}, {"operator", "operator"}, {"viewer", "viewer"}, {"auditor", "auditor"},
}

// demoIdentities holds each demo user's authorized keys and, for users whose
// key pair the demo generated, the private key file.
type demoIdentities struct {
	keys     map[string][]string
	identity map[string]string
	note     string
}

// demoKeys authorizes the caller's ~/.ssh/*.pub keys as admin (or a new
// key pair when there are none), and generates one key pair for each other
// demo user: a key identifies exactly one user.
func demoKeys(o Options) (demoIdentities, error) {
	ids := demoIdentities{keys: map[string][]string{}, identity: map[string]string{}}
	matches, _ := filepath.Glob(filepath.Join(o.HomeDir, ".ssh", "*.pub"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		pk, _, _, _, err := gossh.ParseAuthorizedKey(data)
		if err != nil {
			continue
		}
		if _, isCert := pk.(*gossh.Certificate); isCert {
			continue
		}
		ids.keys["admin"] = append(ids.keys["admin"], strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pk))))
		// The private key beside it is what the printed commands name with
		// -i: OpenSSH looks for its default keys in the passwd home, which
		// need not be $HOME.
		if priv := strings.TrimSuffix(m, ".pub"); ids.identity["admin"] == "" {
			if fi, err := os.Stat(priv); err == nil && fi.Mode().IsRegular() {
				ids.identity["admin"] = priv
			}
		}
	}
	ids.note = "admin uses your keys from " + filepath.Join(o.HomeDir, ".ssh")
	for _, u := range demoUsers {
		if len(ids.keys[u.name]) > 0 {
			continue
		}
		path := filepath.Join(o.DataDir, datadir.DemoKey(u.name))
		line, err := generateKeyPair(path, "bmcgate-demo-"+u.name)
		if err != nil {
			return ids, err
		}
		ids.keys[u.name] = []string{line}
		ids.identity[u.name] = path
		if u.name == "admin" {
			ids.note = "admin's key pair was generated: " + path
		}
	}
	return ids, nil
}

// generateKeyPair writes a new Ed25519 key pair (private key mode 0600) and
// returns the public key in authorized_keys form.
func generateKeyPair(path, comment string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := gossh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", fmt.Errorf("write demo key: %w", err)
	}
	spk, err := gossh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(spk)))
	if err := os.WriteFile(path+".pub", []byte(line+" "+comment+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write demo key: %w", err)
	}
	return line, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func demoConfig(dataDir, sshAddr, moreListen string, fleet []demoBMC, keys map[string][]string, imagesAddr, img string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# bmcgate demo config (generated)\nversion: 1\nlisten:\n  ssh: %q\n%sdata_dir: %q\n", sshAddr, moreListen, dataDir)
	b.WriteString(`roles:
  - name: admin
    description: everything, everywhere
    allow:
      - actions: ["*"]
        bmcs: ["*"]
  - name: operator
    description: power and read access, no event-log clearing
    allow:
      - actions: ["bmc.*", "power.*", "sensors.read", "sel.read", "console.*"]
        bmcs: ["*"]
    deny:
      - actions: ["console.force"]
        bmcs: ["*"]
  - name: viewer
    description: read-only on rack r1
    allow:
      - actions: ["bmc.list", "bmc.info", "power.status", "sensors.read"]
        bmcs: ["rack=r1"]
  - name: auditor
    description: reads the audit log
    allow:
      - actions: ["audit.read"]
users:
`)
	for _, u := range demoUsers {
		fmt.Fprintf(&b, "  - name: %s\n    roles: [%s]\n    ssh_keys:\n", u.name, u.role)
		for _, k := range keys[u.name] {
			fmt.Fprintf(&b, "      - %q\n", k)
		}
	}
	b.WriteString("bmcs:\n")
	for _, f := range fleet {
		secret := filepath.Join(dataDir, datadir.SecretsDir, f.name)
		if f.redfish != "" {
			host, _, _ := net.SplitHostPort(f.addr)
			fmt.Fprintf(&b, "  - name: %s\n    address: %q\n    labels: {rack: %s, env: lab, via: redfish}\n    protocol: redfish\n    redfish:\n      url: %q\n      username: bmcgate\n      password_file: %q\n      tls:\n        pin_sha256: %q\n    console:\n      via: ssh\n      profile: openbmc\n      port: %s\n      host_key: %q\n",
				f.name, host, f.rack, f.redfish, secret, f.pin, f.sshPort, f.hostKey)
			if f.webUI {
				fmt.Fprintf(&b, "    web:\n      url: %q\n      login: redfish\n      tls:\n        pin_sha256: %q\n", f.redfish, f.pin)
			}
			continue
		}
		fmt.Fprintf(&b, "  - name: %s\n    address: %q\n    labels: {rack: %s, env: lab, via: ipmi}\n    ipmi:\n      username: bmcgate\n      password_file: %q\n      cipher_suite: %d\n      privilege: operator\n",
			f.name, f.addr, f.rack, secret, f.suite)
	}
	if img != "" {
		fmt.Fprintf(&b, "images:\n  dir: %q\n  listen: %q\n  files:\n    - name: demo-installer\n      file: demo-installer.iso\n      sha256: %s\n", filepath.Join(dataDir, "images"), imagesAddr, img)
	}
	return b.String()
}

// writeDemoSSHConfig writes an ssh_config and a known_hosts file so that
// the printed commands verify the gateway's host key.
func writeDemoSSHConfig(dataDir, addr string, hostKey gossh.PublicKey, identity map[string]string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	kh := filepath.Join(dataDir, datadir.DemoKnownHosts)
	line := gateway.KnownHostsLine(host, port, hostKey)
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		return "", fmt.Errorf("write demo known_hosts: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Host bmcgate-demo\n  HostName %s\n  Port %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n", host, port, kh)
	for _, u := range demoUsers {
		if id, ok := identity[u.name]; ok {
			fmt.Fprintf(&b, "Match originalhost bmcgate-demo user %s\n  IdentityFile %s\n  IdentitiesOnly yes\n", u.name, id)
		}
	}
	path := filepath.Join(dataDir, datadir.DemoSSHConfig)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write demo ssh_config: %w", err)
	}
	return path, nil
}

func printDemoHelp(w io.Writer, addr, sshCfg, cfgPath, dataDir string, ids demoIdentities, fleet []demoBMC, wd *webDemo, temp bool) {
	fmt.Fprintf(w, "\nbmcgate demo: %d simulated BMCs, SSH front door on %s (%s)\n", len(fleet), addr, ids.note)
	fmt.Fprintf(w, "config: %s\n", cfgPath)
	fmt.Fprintf(w, "\nTry:\n")
	for _, c := range []string{
		"admin@bmcgate-demo list",
		"admin@bmcgate-demo power status 'node*'",
		"admin@bmcgate-demo power cycle node01",
		"admin@bmcgate-demo sensors node02",
		"admin@bmcgate-demo power status rack=r2 --json",
		"admin@bmcgate-demo power status 'via=*'     # a mixed fleet: IPMI and Redfish-only BMCs alike",
		"admin@bmcgate-demo info node02             # node02, node06, ...: Redfish only, IPMI over LAN off",
		"admin@bmcgate-demo boot node02 node03 pxe --once   # boot override over both transports",
		"admin@bmcgate-demo media insert node02 demo-installer   # the BMC fetches the image from the gateway",
		"-t admin@bmcgate-demo console node02      # console through the BMC's own SSH service",
		"viewer@bmcgate-demo power off node01      # denied: viewers only read",
		"auditor@bmcgate-demo audit search --newest --limit 20",
		"-t admin@bmcgate-demo console node03      # serial console; ~. detaches, ~? helps",
		"admin@bmcgate-demo scan 'node*'            # posture scan of the simulated BMCs",
		"auditor@bmcgate-demo audit search --code console.attach",
		"-t admin@bmcgate-demo                     # interactive bmcgate> prompt",
	} {
		ssh := "ssh -F " + sshCfg
		user, _, _ := strings.Cut(strings.TrimPrefix(c, "-t "), "@")
		if id := ids.identity[user]; id != "" {
			ssh += " -i " + id
		}
		fmt.Fprintf(w, "  %s %s\n", ssh, c)
	}
	wd.printHelp(w, fleet)
	if temp {
		fmt.Fprintf(w, "\nThe data directory %s is removed when the demo stops (Ctrl-C).\n", dataDir)
	} else {
		fmt.Fprintf(w, "\nAfter Ctrl-C: bmcgate audit verify --data-dir %s\n", dataDir)
	}
}

// demoListenAddr returns addr when it is free, else a free loopback port
// and a line saying so.
func demoListenAddr(door, addr string) (string, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr, "", nil
	}
	host, _, herr := net.SplitHostPort(addr)
	if herr != nil || host == "" {
		host = "127.0.0.1"
	}
	ln, ferr := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if ferr != nil {
		return "", "", fmt.Errorf("demo %s address %s: %w, and no free port on %s: %w", door, addr, oserr.ListenCause(err), host, oserr.ListenCause(ferr))
	}
	free := ln.Addr().String()
	ln.Close()
	return free, fmt.Sprintf("bmcgate demo: %s is taken (%v); using the free port %s for the %s door", addr, oserr.ListenCause(err), free, door), nil
}

// lockDemoDir takes the demo's lock on dir (a file lock on
// <dir>/demo.lock, held until unlock) and checks that no gateway holds its
// audit log, before the demo writes anything there. A directory that
// exists is locked before it is prepared (mode tightened, write probe), so
// a refused demo changes nothing in a directory in use, not even its
// modification time.
func lockDemoDir(dir string, log *slog.Logger) (unlock func(), err error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		// Missing (created here) or unusable (the error says why).
		if err := assemble.PrepareDataDir(dir, log); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(dir, datadir.DemoLock)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("demo data directory %s: %w", dir, oserr.PathCause(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("demo data directory %s is in use by another bmcgate demo (%s is locked); nothing was changed", dir, path)
	}
	if s, err := audit.Open(filepath.Join(dir, datadir.AuditDB), audit.Options{ReadOnly: true, OpenTimeout: 100 * time.Millisecond}); err == nil {
		s.Close()
	} else if errors.Is(err, audit.ErrInUse) {
		f.Close()
		return nil, fmt.Errorf("demo data directory %s is in use by a running bmcgate (its audit log is locked); nothing was changed", dir)
	}
	if err := assemble.PrepareDataDir(dir, log); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
