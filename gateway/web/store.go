package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	bolt "go.etcd.io/bbolt"
)

// DBName is the web door's database file inside the data directory.
const DBName = datadir.WebDB

var (
	bucketSessions = []byte("sessions")
	bucketLogins   = []byte("prelogin")
	bucketTOTP     = []byte("totp")
	bucketTokens   = []byte("tokens")
)

// errNotFound means a session, pre-login record or token does not exist or
// has expired.
var errNotFound = errors.New("not found")

// Session is a logged-in browser, stored server-side. The browser holds only
// the random id; the store keys sessions by the id's SHA-256, so a copy of
// the database does not give working cookies.
//
// A session holds who the user is (name, login method, provider groups),
// never what they may do: the service layer resolves that under the current config at
// every request.
type Session struct {
	Handle string   `json:"handle"` // public name for audit and logs (hash prefix), never the id
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"` // single sign-on: provider groups at login or last refresh
	// Subject and Email are what the provider said at login (sub, and
	// the email claim): a refresh must name the same subject.
	Subject string `json:"sub,omitempty"`
	Email   string `json:"email,omitempty"`
	// ForCerts marks a session the browser no longer uses (logged out,
	// idle) that stays only so that the SSH certificates issued from it
	// keep following the provider: it is refreshed in the background and
	// deleted when they expire.
	ForCerts bool   `json:"for_certs,omitempty"`
	Method   string `json:"method"` // "oidc" or "breakglass"
	// Ended is why the gateway ended the session (a reload revoked its
	// identity); the next request shows it, then the record is gone.
	Ended    string    `json:"ended,omitempty"`
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Expires  time.Time `json:"expires"` // absolute end
	// RefreshAt is when an OIDC session is next re-checked with the
	// provider; RefreshToken is the provider's refresh token, if any.
	RefreshAt    time.Time `json:"refresh_at,omitzero"`
	RefreshToken string    `json:"refresh_token,omitempty"`
}

// expired reports whether the session is past its absolute lifetime, or
// has not been used for longer than idle, at now.
func (s *Session) expired(now time.Time, idle time.Duration) bool {
	return now.After(s.Expires) || now.Sub(s.LastSeen) > idle
}

// BreakGlass reports whether the session came from a local break-glass login.
func (s *Session) BreakGlass() bool { return s.Method == methodBreakGlass }

// preLogin binds an OIDC login in progress to the browser that started it.
type preLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Return   string    `json:"return"`
	Expires  time.Time `json:"expires"`
}

// store is the bbolt database of sessions, pre-login records, TOTP steps
// and API tokens.
type store struct {
	db *bolt.DB
	// epoch counts the deletions and ends (tombstones) of user sessions:
	// copies of a session kept in memory are good only while it is
	// unchanged (see cachedUser).
	epoch atomic.Uint64
	// sessionReads counts reads of the sessions bucket (tests).
	sessionReads atomic.Uint64
}

func openStore(path string) (*store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketSessions, bucketLogins, bucketTOTP, bucketTokens} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// newID returns 32 random bytes, base64url.
func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// key is the storage key of a secret id.
func key(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// handle is the public name of a secret id: a prefix of its hash.
func handle(id string) string {
	h := sha256.Sum256([]byte("handle:" + id))
	return hex.EncodeToString(h[:8])
}

func (s *store) put(bucket []byte, id string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if ss, ok := v.(*Session); ok && ss.Ended != "" {
		defer s.epoch.Add(1)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put(key(id), data)
	})
}

func (s *store) get(bucket []byte, id string, v any) error {
	if id == "" {
		return errNotFound
	}
	if bytes.Equal(bucket, bucketSessions) {
		s.sessionReads.Add(1)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get(key(id))
		if data == nil {
			return errNotFound
		}
		return json.Unmarshal(data, v)
	})
}

func (s *store) delete(bucket []byte, id string) error {
	if bytes.Equal(bucket, bucketSessions) {
		defer s.epoch.Add(1)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Delete(key(id))
	})
}

// takePreLogin reads and deletes a pre-login record in one transaction, so
// a state can be used once only.
func (s *store) takePreLogin(id string, now time.Time) (preLogin, error) {
	var p preLogin
	if id == "" {
		return p, errNotFound
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogins)
		data := b.Get(key(id))
		if data == nil {
			return errNotFound
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		return b.Delete(key(id))
	})
	if err == nil && now.After(p.Expires) {
		return p, errNotFound
	}
	return p, err
}

// totpStep returns the last TOTP step used by a break-glass user.
func (s *store) totpStep(user string) uint64 {
	var n uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketTOTP).Get([]byte(user)); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return n
}

// useTOTPStep records step as used for user unless it or a later one was
// already used; it reports whether it did (a replay is refused even when
// two logins race).
func (s *store) useTOTPStep(user string, step uint64) (bool, error) {
	ok := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTOTP)
		if v := b.Get([]byte(user)); len(v) == 8 && binary.BigEndian.Uint64(v) >= step {
			return nil
		}
		ok = true
		return b.Put([]byte(user), binary.BigEndian.AppendUint64(nil, step))
	})
	return ok, err
}

// sweep deletes expired sessions and pre-login records; a session keep
// says SSH certificates still follow is left to the certificate refresher.
func (s *store) sweep(now time.Time, idle time.Duration, keep func(*Session) bool) error {
	defer s.epoch.Add(1)
	return s.db.Update(func(tx *bolt.Tx) error {
		var dead [][]byte
		_ = tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) != nil || ss.expired(now, idle) && (keep == nil || !keep(&ss)) {
				dead = append(dead, k)
			}
			return nil
		})
		for _, k := range dead {
			_ = tx.Bucket(bucketSessions).Delete(k)
		}
		dead = dead[:0]
		_ = tx.Bucket(bucketLogins).ForEach(func(k, v []byte) error {
			var p preLogin
			if json.Unmarshal(v, &p) != nil || now.After(p.Expires) {
				dead = append(dead, k)
			}
			return nil
		})
		for _, k := range dead {
			_ = tx.Bucket(bucketLogins).Delete(k)
		}
		return nil
	})
}

// sessionKeys returns the storage keys of the sessions keep selects (for
// work on sessions no browser is asking about: the refresh of logins that
// SSH certificates were issued from).
func (s *store) sessionKeys(keep func(*Session) bool) [][]byte {
	var out [][]byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) == nil && keep(&ss) {
				out = append(out, bytes.Clone(k))
			}
			return nil
		})
	})
	return out
}

// getKey, putKey and deleteKey are get, put and delete of a session by its
// storage key.
func (s *store) getKey(k []byte, ss *Session) error {
	return s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketSessions).Get(k)
		if data == nil {
			return errNotFound
		}
		return json.Unmarshal(data, ss)
	})
}

func (s *store) putKey(k []byte, ss *Session) error {
	data, err := json.Marshal(ss)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if ss.Ended != "" {
		defer s.epoch.Add(1)
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Put(k, data) })
}

func (s *store) deleteKey(k []byte) error {
	defer s.epoch.Add(1)
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(k) })
}
