package sshca

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	gossh "golang.org/x/crypto/ssh"
)

// Bounds on what the registry holds.
const (
	// MaxPerUser is how many unexpired certificates one user may hold.
	MaxPerUser = 16
	// maxCerts bounds the registry (unexpired certificates of everyone).
	maxCerts = 10000
	// clockSkew is how far before now a certificate's validity starts, for
	// clients whose clock is a little behind.
	clockSkew = time.Minute
)

// Cert is what the registry keeps about one issued certificate: never the
// key itself, only its fingerprint.
type Cert struct {
	Serial      uint64    `json:"serial"`
	User        string    `json:"user"`
	KeyID       string    `json:"key_id"`
	Fingerprint string    `json:"fingerprint"`
	ValidAfter  time.Time `json:"valid_after"`
	ValidBefore time.Time `json:"valid_before"`
	Roles       []string  `json:"roles"`
	// Groups are the user's provider groups, from the web login's last
	// refresh; Login is that login's public handle.
	Groups []string `json:"groups,omitempty"`
	Login  string   `json:"login"`
	// Ended is why the certificate may no longer log in (its web login
	// ended, or it was revoked); "" while it may.
	Ended string `json:"ended,omitempty"`
	// Revoked says the end was a revocation ("bmcgate cert revoke"), not
	// the end of its web login.
	Revoked bool `json:"revoked,omitempty"`
}

// Request is a certificate to issue.
type Request struct {
	User     string
	Key      gossh.PublicKey
	Roles    []string
	Groups   []string
	Login    string        // the web login's handle
	Lifetime time.Duration // validity from now
}

// ErrTooMany is a user who holds MaxPerUser unexpired certificates.
var ErrTooMany = errors.New("too many unexpired SSH certificates for this user: revoke or let some expire")

// Registry is the set of certificates the CA issued, with their state. It
// is safe for concurrent use.
type Registry struct {
	ca       *CA
	dir      string
	now      func() time.Time
	log      *slog.Logger
	onChange func(ended []Cert) // called (outside the lock) when certificates stop being usable

	mu      sync.Mutex
	certs   map[uint64]*Cert
	revoked *revokedFile
}

// Options configure a Registry.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// OnEnd is called with the certificates that have just stopped being
	// usable (their login ended or they were revoked), so that the gateway
	// ends their live sessions and records why.
	OnEnd func(ended []Cert)
}

// Open loads the registry of the data directory (an absent file is an
// empty registry) and reads the revocations file.
func Open(ca *CA, dataDir string, o Options) (*Registry, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Registry{ca: ca, dir: dataDir, now: o.Now, log: o.Logger, onChange: o.OnEnd, certs: map[uint64]*Cert{},
		revoked: newRevokedFile(filepath.Join(dataDir, datadir.UserRevoked))}
	data, err := os.ReadFile(filepath.Join(dataDir, datadir.UserCerts))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("SSH certificate registry: %w", err)
	default:
		var list []Cert
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("SSH certificate registry %s: %w", filepath.Join(dataDir, datadir.UserCerts), err)
		}
		for i := range list {
			c := list[i]
			r.certs[c.Serial] = &c
		}
	}
	if _, err := r.revoked.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// CA is the registry's certificate authority.
func (r *Registry) CA() *CA { return r.ca }

// Issue signs req.Key for req.User and records the certificate.
func (r *Registry) Issue(req Request) (*gossh.Certificate, Cert, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(now)
	held := 0
	for _, c := range r.certs {
		if c.User == req.User && c.Ended == "" {
			held++
		}
	}
	if held >= MaxPerUser || len(r.certs) >= maxCerts {
		return nil, Cert{}, ErrTooMany
	}
	serial := r.newSerialLocked()
	cert := &gossh.Certificate{
		Key:             req.Key,
		Serial:          serial,
		CertType:        gossh.UserCert,
		KeyId:           fmt.Sprintf("bmcgate:%s:%d", req.User, serial),
		ValidPrincipals: []string{req.User},
		ValidAfter:      uint64(now.Add(-clockSkew).Unix()),
		ValidBefore:     uint64(now.Add(req.Lifetime).Unix()),
		Permissions: gossh.Permissions{Extensions: map[string]string{
			"permit-pty": "",
			ExtRoles:     strings.Join(req.Roles, ","),
		}},
	}
	signer, err := gossh.NewSignerWithAlgorithms(r.ca.signer.(gossh.AlgorithmSigner), []string{gossh.KeyAlgoED25519})
	if err != nil {
		return nil, Cert{}, err
	}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		return nil, Cert{}, fmt.Errorf("sign the SSH certificate: %w", err)
	}
	c := Cert{Serial: serial, User: req.User, KeyID: cert.KeyId, Fingerprint: gossh.FingerprintSHA256(req.Key),
		ValidAfter: time.Unix(int64(cert.ValidAfter), 0).UTC(), ValidBefore: time.Unix(int64(cert.ValidBefore), 0).UTC(),
		Roles: slices.Clone(req.Roles), Groups: slices.Clone(req.Groups), Login: req.Login}
	r.certs[serial] = &c
	if err := r.saveLocked(); err != nil {
		delete(r.certs, serial)
		return nil, Cert{}, err
	}
	return cert, c, nil
}

// newSerialLocked is a random serial no certificate of the registry has
// (random, so that serials say nothing about how many were issued).
func (r *Registry) newSerialLocked() uint64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		s := binary.BigEndian.Uint64(b[:]) >> 1 // positive as a signed number too
		if _, dup := r.certs[s]; s != 0 && !dup {
			return s
		}
	}
}

// Status returns a certificate's record and why it may not log in (""
// when it may): unknown to the registry, revoked, or its login ended.
func (r *Registry) Status(serial uint64) (Cert, string) {
	r.mu.Lock()
	c, ok := r.certs[serial]
	var cp Cert
	if ok {
		cp = *c
		cp.Groups = slices.Clone(c.Groups)
		cp.Roles = slices.Clone(c.Roles)
	}
	r.mu.Unlock()
	if why := r.revoked.why(serial); why != "" {
		return cp, "the certificate was revoked: " + why
	}
	if !ok {
		return Cert{}, "the gateway has no record of issuing this certificate"
	}
	if cp.Ended != "" {
		return cp, cp.Ended
	}
	return cp, ""
}

// Of returns the unexpired certificates of user, newest first.
func (r *Registry) Of(user string) []Cert {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Cert
	for _, c := range r.certs {
		if c.User == user && now.Before(c.ValidBefore) {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ValidAfter.After(out[j].ValidAfter) })
	for i := range out {
		if why := r.revoked.why(out[i].Serial); why != "" && out[i].Ended == "" {
			out[i].Ended, out[i].Revoked = "the certificate was revoked: "+why, true
		}
	}
	return out
}

// Live reports whether some unexpired certificate still usable came from
// the web login login (which must then be refreshed at the provider even
// while its browser is idle).
func (r *Registry) Live(login string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.certs {
		if c.Login == login && c.Ended == "" && now.Before(c.ValidBefore) {
			return true
		}
	}
	return false
}

// SetGroups records the provider groups a refresh of the web login gave,
// which the certificates issued from it are decided with from now on.
func (r *Registry) SetGroups(login string, groups []string) {
	r.mu.Lock()
	changed := false
	for _, c := range r.certs {
		if c.Login == login && c.Ended == "" && !slices.Equal(c.Groups, groups) {
			c.Groups = slices.Clone(groups)
			changed = true
		}
	}
	var err error
	if changed {
		err = r.saveLocked()
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Error("saving the SSH certificate registry failed", "err", err)
	}
}

// EndLogin ends every certificate issued from the web login login: they
// may no longer log in, and their live sessions end (OnEnd), with why.
func (r *Registry) EndLogin(login, why string) {
	r.end(func(c *Cert) bool { return c.Login == login }, why, false)
}

// end ends the certificates match selects with why; revoked marks a
// revocation.
func (r *Registry) end(match func(*Cert) bool, why string, revoked bool) {
	r.mu.Lock()
	var ended []Cert
	for _, c := range r.certs {
		if c.Ended == "" && match(c) {
			c.Ended, c.Revoked = why, revoked
			ended = append(ended, *c)
		}
	}
	var err error
	if len(ended) > 0 {
		err = r.saveLocked()
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Error("saving the SSH certificate registry failed", "err", err)
	}
	if len(ended) > 0 && r.onChange != nil {
		r.onChange(ended)
	}
}

// CheckRevocations re-reads the revocations file when it changed; the
// certificates it newly revokes are ended (OnEnd) with the reason.
func (r *Registry) CheckRevocations() {
	added, err := r.revoked.reload()
	if err != nil {
		r.log.Error("SSH certificate revocations unreadable", "err", err)
		return
	}
	for serial, why := range added {
		reason := "the certificate was revoked: " + why
		n := 0
		r.end(func(c *Cert) bool {
			if c.Serial == serial {
				n++
				return true
			}
			return false
		}, reason, true)
		if n == 0 && r.onChange != nil {
			r.onChange([]Cert{{Serial: serial, Ended: reason, Revoked: true}})
		}
	}
}

// pruneLocked forgets certificates expired for more than a day.
func (r *Registry) pruneLocked(now time.Time) {
	for s, c := range r.certs {
		if now.Sub(c.ValidBefore) > 24*time.Hour {
			delete(r.certs, s)
		}
	}
}

// saveLocked writes the registry atomically (mode 0600).
func (r *Registry) saveLocked() error {
	list := make([]Cert, 0, len(r.certs))
	for _, c := range r.certs {
		list = append(list, *c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Serial < list[j].Serial })
	data, err := json.MarshalIndent(list, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(r.dir, datadir.UserCerts), data)
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("SSH certificate registry: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("SSH certificate registry: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("SSH certificate registry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("SSH certificate registry: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("SSH certificate registry: %w", err)
	}
	return nil
}

// Standing is the service layer's question at every decision: the groups
// the certificate's web login last had, or why it may no longer act.
func (r *Registry) Standing(serial uint64) ([]string, string) {
	c, why := r.Status(serial)
	switch {
	case why != "":
		return nil, why
	case !r.now().Before(c.ValidBefore):
		return nil, "the certificate expired"
	}
	return c.Groups, ""
}

// Discard forgets a certificate just issued whose issue could not be
// recorded: it never logs in.
func (r *Registry) Discard(serial uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.certs[serial]; ok {
		c.Ended = "the certificate's issue could not be recorded"
		if err := r.saveLocked(); err != nil {
			r.log.Error("saving the SSH certificate registry failed", "err", err)
		}
	}
}

// List reads the registry of a data directory (of a running gateway too:
// the file is replaced atomically), with the revocations applied, by
// serial.
func List(dataDir string) ([]Cert, error) {
	r, err := Open(nil, dataDir, Options{})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	out := make([]Cert, 0, len(r.certs))
	for _, c := range r.certs {
		out = append(out, *c)
	}
	r.mu.Unlock()
	for i := range out {
		if why := r.revoked.why(out[i].Serial); why != "" {
			out[i].Ended, out[i].Revoked = "the certificate was revoked: "+why, true
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	return out, nil
}

// LiveLogins are the web logins some unexpired, usable certificate came
// from.
func (r *Registry) LiveLogins() []string {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, c := range r.certs {
		if c.Ended == "" && now.Before(c.ValidBefore) && !seen[c.Login] {
			seen[c.Login] = true
			out = append(out, c.Login)
		}
	}
	sort.Strings(out)
	return out
}
