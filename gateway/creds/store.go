package creds

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/keyfile"
)

// Bounds on what the store issues and holds.
const (
	// UserLen is the length of a credential's user name: IPMI's limit.
	UserLen = 16
	// PasswordLen is the length of a credential's password: IPMI 2.0's
	// limit, and at least 20 bytes for every protocol.
	PasswordLen = 20
	// DefaultLifetime is a credential's lifetime when the request names none.
	DefaultLifetime = 8 * time.Hour
	// MaxLifetime is the longest lifetime a credential may have.
	MaxLifetime = 7 * 24 * time.Hour
	// MaxPerOwner is how many unexpired credentials one user may hold.
	MaxPerOwner = 16
	// maxScope bounds a credential's actions and targets.
	maxScope = 64
	// maxCreds bounds the store (unexpired credentials of everyone).
	maxCreds = 10000
)

// Errors of the store. ErrRefused covers every failed login alike (unknown
// user, wrong password, expired, revoked), so that a client learns nothing
// about which.
var (
	ErrRefused  = errors.New("credential refused")
	ErrTooMany  = errors.New("too many unexpired credentials for this user: revoke some or let them expire")
	ErrNotFound = errors.New("no such credential of this user")
	ErrLifetime = fmt.Errorf("a credential's lifetime must be positive and at most %v", MaxLifetime)
	ErrScope    = fmt.Errorf("a credential names at most %d actions and %d targets", maxScope, maxScope)
	ErrNoSecret = errors.New("this credential was not issued for RMCP+")
)

// Credential is what the store keeps about one issued credential.
type Credential struct {
	User    string    `json:"user"`
	Owner   string    `json:"owner"`
	Source  string    `json:"source,omitempty"`  // where the owner's account is defined (the service layer's identity source)
	Groups  []string  `json:"groups,omitempty"`  // a single sign-on owner's provider groups at issue
	Scope   []string  `json:"scope,omitempty"`   // actions; none: every action the owner's roles allow
	Targets []string  `json:"targets,omitempty"` // BMC names; none: every BMC the owner's roles allow
	RMCP    bool      `json:"rmcp,omitempty"`    // may log in over RMCP+ (its password is sealed, not only hashed)
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`

	Hash   []byte `json:"sha256"`
	Sealed []byte `json:"sealed,omitempty"` // nonce || AES-256-GCM(password), user name as additional data
}

// Live reports whether the credential may log in at now.
func (c Credential) Live(now time.Time) bool {
	return c.Revoked.IsZero() && now.Before(c.Expires)
}

// Permits reports whether the credential's scope and targets let it ask
// for action on target. Whether the owner's roles allow it is the policy's
// question, asked with the owner's current principal on every request.
func (c Credential) Permits(action, target string) bool {
	return (len(c.Scope) == 0 || slices.Contains(c.Scope, action)) &&
		(len(c.Targets) == 0 || slices.Contains(c.Targets, target))
}

// public is the credential without its hash and sealed password.
func (c Credential) public() Credential {
	c.Hash, c.Sealed = nil, nil
	c.Scope, c.Targets, c.Groups = slices.Clone(c.Scope), slices.Clone(c.Targets), slices.Clone(c.Groups)
	return c
}

// Request is a credential to issue.
type Request struct {
	Owner    string
	Source   string   // where the owner's account is defined
	Groups   []string // a single sign-on owner's provider groups
	Scope    []string
	Targets  []string
	Lifetime time.Duration // 0: DefaultLifetime
	RMCP     bool
}

// Options configure a Store.
type Options struct {
	Now func() time.Time
}

// Store is the data directory's credentials. It is safe for concurrent use.
type Store struct {
	path string
	aead cipher.AEAD
	now  func() time.Time

	mu    sync.Mutex
	creds map[string]*Credential
}

// Open loads the credentials of the data directory (an absent file is an
// empty store) and the sealing key, creating the key (mode 0600) the first
// time. A key file others can read is refused.
func Open(dataDir string, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	aead, err := loadKey(filepath.Join(dataDir, datadir.CredentialsKey))
	if err != nil {
		return nil, err
	}
	s := &Store{path: filepath.Join(dataDir, datadir.Credentials), aead: aead, now: o.Now, creds: map[string]*Credential{}}
	data, err := keyfile.ReadPrivate(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("credential store: %w", err)
	default:
		var list []Credential
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("credential store %s: %w", s.path, err)
		}
		for i := range list {
			c := list[i]
			s.creds[c.User] = &c
		}
	}
	return s, nil
}

func loadKey(path string) (cipher.AEAD, error) {
	key, err := keyfile.ReadPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		err = keyfile.CreatePrivate(path, key)
		if errors.Is(err, fs.ErrExist) { // another process made it first: use that one
			key, err = keyfile.ReadPrivate(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("credential key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("credential key %s: %d bytes, want 32", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("credential key %s: %w", path, err)
	}
	return cipher.NewGCM(block)
}

// Issue makes a credential for req.Owner. The password is returned here
// only; the store keeps its hash (and, for RMCP+, the sealed password).
func (s *Store) Issue(req Request) (Credential, string, error) {
	if req.Lifetime == 0 {
		req.Lifetime = DefaultLifetime
	}
	if req.Lifetime < 0 || req.Lifetime > MaxLifetime {
		return Credential{}, "", ErrLifetime
	}
	if len(req.Scope) > maxScope || len(req.Targets) > maxScope {
		return Credential{}, "", ErrScope
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	held := 0
	for _, c := range s.creds {
		if c.Owner == req.Owner && c.Live(now) {
			held++
		}
	}
	if held >= MaxPerOwner || len(s.creds) >= maxCreds {
		return Credential{}, "", ErrTooMany
	}
	user := "bg" + randomString(UserLen-2, lowerAlnum)
	for s.creds[user] != nil {
		user = "bg" + randomString(UserLen-2, lowerAlnum)
	}
	password := randomString(PasswordLen, alnum)
	sum := sha256.Sum256([]byte(password))
	c := &Credential{User: user, Owner: req.Owner, Source: req.Source, Groups: slices.Clone(req.Groups), Scope: slices.Clone(req.Scope), Targets: slices.Clone(req.Targets),
		RMCP: req.RMCP, Issued: now.UTC(), Expires: now.Add(req.Lifetime).UTC(), Hash: sum[:]}
	if req.RMCP {
		nonce := make([]byte, s.aead.NonceSize())
		rand.Read(nonce)
		c.Sealed = s.aead.Seal(nonce, nonce, []byte(password), []byte(user))
	}
	s.creds[user] = c
	if err := s.saveLocked(); err != nil {
		delete(s.creds, user)
		return Credential{}, "", err
	}
	return c.public(), password, nil
}

// Verify checks a login with user and password: the credential if it is
// live and the password is its own, ErrRefused otherwise.
func (s *Store) Verify(user, password string) (Credential, error) {
	sum := sha256.Sum256([]byte(password))
	s.mu.Lock()
	c, ok := s.creds[user]
	s.mu.Unlock()
	if !ok {
		return Credential{}, ErrRefused
	}
	if subtle.ConstantTimeCompare(sum[:], c.Hash) != 1 || !c.Live(s.now()) {
		return Credential{}, ErrRefused
	}
	return c.public(), nil
}

// Secret is the password of a live RMCP+ credential, for the RAKP
// exchange that needs it: ErrRefused for an unknown, expired or revoked
// user, ErrNoSecret for a credential not issued for RMCP+.
func (s *Store) Secret(user string) (Credential, []byte, error) {
	s.mu.Lock()
	c, ok := s.creds[user]
	s.mu.Unlock()
	if !ok || !c.Live(s.now()) {
		return Credential{}, nil, ErrRefused
	}
	if !c.RMCP {
		return Credential{}, nil, ErrNoSecret
	}
	n := s.aead.NonceSize()
	if len(c.Sealed) < n {
		return Credential{}, nil, fmt.Errorf("credential %s: sealed password too short", user)
	}
	pw, err := s.aead.Open(nil, c.Sealed[:n], c.Sealed[n:], []byte(user))
	if err != nil {
		return Credential{}, nil, fmt.Errorf("credential %s: cannot unseal its password (was credentials.key replaced?): %w", user, err)
	}
	return c.public(), pw, nil
}

// Lookup is the credential named user (live or not), for a session that
// re-checks it at each request.
func (s *Store) Lookup(user string) (Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[user]
	if !ok {
		return Credential{}, false
	}
	return c.public(), true
}

// Of lists owner's unexpired credentials (revoked ones included), oldest
// first.
func (s *Store) Of(owner string) []Credential {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []Credential
	for _, c := range s.creds {
		if c.Owner == owner && now.Before(c.Expires) {
			list = append(list, c.public())
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Issued.Equal(list[j].Issued) {
			return list[i].Issued.Before(list[j].Issued)
		}
		return list[i].User < list[j].User
	})
	return list
}

// Revoke ends owner's credential user at once. Revoking a revoked
// credential again is not an error; another user's is ErrNotFound.
func (s *Store) Revoke(owner, user string) (Credential, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[user]
	if !ok || c.Owner != owner || !now.Before(c.Expires) {
		return Credential{}, ErrNotFound
	}
	if !c.Revoked.IsZero() {
		return c.public(), nil
	}
	c.Revoked = now.UTC()
	if err := s.saveLocked(); err != nil {
		c.Revoked = time.Time{}
		return Credential{}, err
	}
	return c.public(), nil
}

// pruneLocked forgets expired credentials (a revoked one is kept until it
// would have expired, so that its owner sees it in the list).
func (s *Store) pruneLocked(now time.Time) {
	for u, c := range s.creds {
		if !now.Before(c.Expires) {
			delete(s.creds, u)
		}
	}
}

// saveLocked writes the store atomically (mode 0600).
func (s *Store) saveLocked() error {
	list := make([]Credential, 0, len(s.creds))
	for _, c := range s.creds {
		list = append(list, *c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].User < list[j].User })
	data, err := json.MarshalIndent(list, "", " ")
	if err != nil {
		return err
	}
	if err := keyfile.WritePrivate(s.path, data); err != nil {
		return fmt.Errorf("credential store: %w", err)
	}
	return nil
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	alnum      = lowerAlnum + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// randomString is n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
