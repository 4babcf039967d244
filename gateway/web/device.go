package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DeviceCookie marks a browser that has logged in to a break-glass account
// before (throttle.go): the account, a random device id and an expiry,
// signed with a key kept in the session database.
const DeviceCookie = "__Host-bmcgate-device"

// deviceLifetime is how long a device cookie is valid after its last
// successful login.
const deviceLifetime = 90 * 24 * time.Hour

var (
	bucketKeys   = []byte("keys")
	deviceKeyID  = []byte("device-cookie")
	deviceKeyLen = 32
)

// deviceClaims are the signed contents of a device cookie.
type deviceClaims struct {
	Account string `json:"a"`
	ID      string `json:"d"`
	Expires int64  `json:"e"`
}

// deviceKey returns the key device cookies are signed with, making it on
// first use.
func (s *store) deviceKey() ([]byte, error) {
	var k []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketKeys)
		if err != nil {
			return err
		}
		if v := b.Get(deviceKeyID); len(v) == deviceKeyLen {
			k = append([]byte(nil), v...)
			return nil
		}
		k = make([]byte, deviceKeyLen)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		return b.Put(deviceKeyID, k)
	})
	if err != nil {
		return nil, fmt.Errorf("device cookie key: %w", err)
	}
	return k, nil
}

func signDevice(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bmcgate device cookie\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// deviceFor returns the device id of the request's device cookie when it
// is valid for account at now, or "".
func (s *Server) deviceFor(r *http.Request, account string, now time.Time) string {
	c, err := r.Cookie(DeviceCookie)
	if err != nil || len(c.Value) > 512 {
		return ""
	}
	p64, s64, ok := strings.Cut(c.Value, ".")
	if !ok {
		return ""
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(s64)
	key, err3 := s.store.deviceKey()
	if err1 != nil || err2 != nil || err3 != nil || !hmac.Equal(sig, signDevice(key, payload)) {
		return ""
	}
	var d deviceClaims
	if json.Unmarshal(payload, &d) != nil || d.Account != account || d.ID == "" || now.Unix() > d.Expires {
		return ""
	}
	return d.ID
}

// setDevice gives the browser a device cookie for account (keeping its
// device id when it had one).
func (s *Server) setDevice(w http.ResponseWriter, account, id string, now time.Time) {
	key, err := s.store.deviceKey()
	if err != nil {
		s.log.Warn("no device cookie", "err", err)
		return
	}
	if id == "" {
		id = newID()[:22]
	}
	payload, _ := json.Marshal(deviceClaims{Account: account, ID: id, Expires: now.Add(deviceLifetime).Unix()})
	v := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(signDevice(key, payload))
	setStrictCookie(w, DeviceCookie, v, int(deviceLifetime/time.Second))
}
