package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// accountCacheTTL is how long an account id → user name answer is reused.
const accountCacheTTL = 30 * time.Second

// AccountGuard refuses any change to, or deletion of, the gateway's own BMC
// account through the proxy: a write to
// /redfish/v1/AccountService/Accounts/{id} (or below it) whose account's
// UserName is the gateway's, and any write that would give an account the
// gateway's user name. Names are compared in their canonical form
// (CanonicalAccountName: "BMCGate ", a full-width or Cyrillic spelling are
// all the gateway's name), and every user name an account write's body
// sets is checked; a body that is not one JSON object is refused. The id is
// resolved with a GET of the account through the BMC session, cached
// briefly; when it cannot be resolved the write is refused (fail closed).
type AccountGuard struct {
	username string
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cachedAccount // lower-case id → user name
}

type cachedAccount struct {
	user string
	at   time.Time
}

// NewAccountGuard protects the BMC account named username, and every name
// a BMC or a person might take for it (see CanonicalAccountName).
func NewAccountGuard(username string) *AccountGuard {
	return &AccountGuard{username: username, now: time.Now, cache: map[string]cachedAccount{}}
}

// lookupFunc fetches an account resource's UserName.
type lookupFunc func(ctx context.Context, path string) (string, error)

var errOwnAccount = &Error{Msg: "refused: this would change the gateway's own BMC account", Err: ErrOwnAccount}

// guards reports whether op is a write the guard has to check.
func (g *AccountGuard) guards(op Operation) bool {
	return op.Redfish == "AccountService" && !isRead(op.Method)
}

// check returns an error when op would change the protected account.
func (g *AccountGuard) check(ctx context.Context, op Operation, body []byte, lookup lookupFunc) error {
	if !g.guards(op) {
		return nil
	}
	names, err := bodyUserNames(body)
	if err != nil {
		return err
	}
	for _, n := range names {
		if sameAccount(n, g.username) {
			return errOwnAccount
		}
	}
	if op.AccountID == "" {
		return nil
	}
	key := strings.ToLower(op.AccountID)
	g.mu.Lock()
	c, ok := g.cache[key]
	g.mu.Unlock()
	user := c.user
	if !ok || g.now().Sub(c.at) > accountCacheTTL {
		path := "/redfish/v1/AccountService/Accounts/" + op.AccountID
		u, err := lookup(ctx, path)
		if err != nil {
			return &Error{Msg: "refused: the gateway could not check which BMC account this changes", Err: fmt.Errorf("%w: resolve account %s: %w", ErrOwnAccount, op.AccountID, err)}
		}
		user = u
		g.mu.Lock()
		g.cache[key] = cachedAccount{user: u, at: g.now()}
		g.mu.Unlock()
	}
	if sameAccount(user, g.username) {
		return errOwnAccount
	}
	if op.Method == http.MethodDelete || len(names) > 0 {
		// The slot is emptied or renamed: ask the BMC next time.
		g.mu.Lock()
		delete(g.cache, key)
		g.mu.Unlock()
	}
	return nil
}

// bodyUserNames returns the user names an account write's body sets: the
// string value of each top-level member named "UserName" in any case or
// spelling a lenient parser might match. A body that is not exactly one
// JSON object, or names a member twice (jsonObject), is refused, and so is
// a UserName that is not a string. An empty body sets none.
func bodyUserNames(body []byte) ([]string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	m, err := jsonObject(body)
	if err != nil {
		return nil, err
	}
	var names []string
	for k, v := range m {
		if CanonicalAccountName(strings.ReplaceAll(k, "_", "")) != "username" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &Error{Msg: "refused: UserName must be a string", Err: fmt.Errorf("%w: UserName is not a string", ErrOwnAccount)}
		}
		names = append(names, s)
	}
	return names, nil
}

// lookupFunc returns a function that GETs an account through the BMC
// session and returns its UserName.
func (p *Proxy) lookupFunc(s *Session) lookupFunc {
	return func(ctx context.Context, path string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, or(p.cfg.ResponseHeaderTimeout, DefaultResponseHeaderTimeout))
		defer cancel()
		req, err := p.bmcRequest(ctx, http.MethodGet, path, nil, s)
		if err != nil {
			return "", err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := p.transport.RoundTrip(req)
		if err != nil {
			return "", fmt.Errorf("GET %s: %w", path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		var a struct {
			UserName string `json:"UserName"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&a); err != nil {
			return "", fmt.Errorf("GET %s: %w", path, err)
		}
		return a.UserName, nil
	}
}

// bmcRequest builds a request from the gateway itself to the BMC's main
// port, with the Host header of the BMC's host mode (passthrough uses the
// BMC address) and the session attached.
func (p *Proxy) bmcRequest(ctx context.Context, method, path string, body io.Reader, s *Session) (*http.Request, error) {
	u := *p.t.base
	u.Path = path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.Host = p.t.authority(p.t.port)
	if p.t.hostMode == HostBMCName {
		req.Host = p.t.bmcNameHost(p.t.port)
	}
	req.Header.Set("User-Agent", "bmcgate")
	if s != nil {
		s.apply(req.Header)
	}
	return req, nil
}
