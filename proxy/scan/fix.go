package scan

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bougou/go-ipmi/pkg/types"
)

// FixResult is the outcome of one remediation on one BMC.
type FixResult struct {
	ID      string `json:"id"`     // the finding the fix addresses
	Action  string `json:"action"` // what was changed, in plain words
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"` // why it failed or was skipped
}

// SecretSaver stores a new password for user on the BMC before the BMC
// is changed, so the password is never lost. It returns where it was
// stored (for the operator), never the password.
type SecretSaver func(user, password string) (where string, err error)

// ErrNotAdmin means the gateway's account could not open an Administrator
// session, which every fix needs.
var ErrNotAdmin = errors.New("the gateway's account lacks Administrator privilege on this BMC: fixes need it")

// Fixable returns the IDs of r's findings that Fix can remedy.
func Fixable(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Fixable && !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	return out
}

// Fix applies the remedies for r's fixable findings over one Administrator
// session opened with ep's account. Each change is one result. Passwords
// of default-credential accounts are replaced by random ones, saved with
// save first; the gateway's own account is never changed here (its
// password source is the config).
func (s *Scanner) Fix(ctx context.Context, ep ipmi.Endpoint, r *Report, save SecretSaver) ([]FixResult, error) {
	ids := Fixable(r)
	if len(ids) == 0 {
		return nil, nil
	}
	unlock, err := s.lock(ctx, ep.Addr())
	if err != nil {
		return nil, fmt.Errorf("fix: wait for another scan of this BMC: %w", err)
	}
	defer unlock()
	ep.Privilege = ipmi.PrivAdministrator
	sess, err := ipmi.Dial(ctx, ep, s.opts.IPMI)
	if err != nil {
		if errors.Is(err, ipmi.ErrAuth) {
			return nil, ErrNotAdmin
		}
		return nil, fmt.Errorf("fix: login: %w", err)
	}
	defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
	ss := &session{s: sess, interval: s.opts.Interval}
	ss.channelNumber(ctx)

	var out []FixResult
	has := func(id string) bool { return slices.Contains(ids, id) }
	if has(IDCipherSuite0) {
		out = append(out, ss.result(IDCipherSuite0, "cipher suite 0 set to unused (LAN parameter 24)", ss.disableSuite0(ctx)))
	}
	if has(IDIPMI15None) || has(IDIPMI15Password) {
		id := IDIPMI15None
		if !has(id) {
			id = IDIPMI15Password
		}
		out = append(out, ss.result(id, "IPMI 1.5 authentication types none and straight password disabled (LAN parameter 2)", ss.disableV15Weak(ctx)))
	}
	if has(IDAnonymousLogin) || has(IDNullUser) {
		id := IDAnonymousLogin
		if !has(id) {
			id = IDNullUser
		}
		out = append(out, ss.result(id, "null user (user 1) disabled", ss.disableUser(ctx, 1)))
	}
	if has(IDDefaultCredentials) {
		for _, name := range r.DefaultUsers {
			action := fmt.Sprintf("new random password for user %q", name)
			if name == ep.Username {
				out = append(out, FixResult{ID: IDDefaultCredentials, Action: action,
					Message: "not changed: this is the gateway's own account; set a new password on the BMC and in the file its password_file names"})
				continue
			}
			out = append(out, ss.result(IDDefaultCredentials, action, ss.rotatePassword(ctx, r, name, save)))
		}
	}
	return out, nil
}

func (ss *session) result(id, action string, err error) FixResult {
	res := FixResult{ID: id, Action: action, OK: err == nil}
	if err != nil {
		res.Message = fixMessage(err)
	}
	return res
}

// fixMessage turns a fix error into plain words.
func fixMessage(err error) string {
	var fe fixError
	if errors.As(err, &fe) {
		return string(fe)
	}
	if cc, ok := completionCode(err); ok {
		switch cc {
		case 0xd4:
			return "the BMC refused: insufficient privilege"
		case 0xc1, ccParamNotSupported:
			return "the BMC does not support this change"
		case 0x82:
			return "the BMC does not allow this parameter to be written"
		}
		return fmt.Sprintf("the BMC refused (completion code %#02x)", cc)
	}
	return plain(err)
}

// fixError is a fix failure whose text is already plain words.
type fixError string

func (e fixError) Error() string { return string(e) }

// setLAN writes one LAN configuration parameter.
func (ss *session) setLAN(ctx context.Context, param byte, data []byte) error {
	_, err := ss.cmd(ctx, types.NetFnTransportRequest, 0x01, append([]byte{ss.channel, param}, data...), "Set LAN Configuration Parameters")
	return err
}

// disableSuite0 sets the maximum privilege of every cipher suite 0 entry
// to "unused" in parameter 24, keeping the others.
func (ss *session) disableSuite0(ctx context.Context) error {
	entries, err := ss.lanParam(ctx, 23, 0)
	if err != nil {
		return err
	}
	privs, err := ss.lanParam(ctx, 24, 0)
	if err != nil {
		return err
	}
	if len(entries) < 1 || len(privs) < 9 {
		return fixError("the BMC's cipher suite parameters are malformed")
	}
	ids := entries[1:]
	p := slices.Clone(privs[:9])
	found := false
	for i, id := range ids {
		if id == 0 && i < 16 {
			p[1+i/2] &^= 0x0f << (4 * (i % 2))
			found = true
		}
	}
	if !found {
		return fixError("cipher suite 0 is not in the BMC's cipher suite list (LAN parameter 23)")
	}
	return ss.setLAN(ctx, 24, p)
}

// disableV15Weak clears "none" and "straight password" from every
// privilege level of parameter 2 (Authentication Type Enables).
func (ss *session) disableV15Weak(ctx context.Context) error {
	cur, err := ss.lanParam(ctx, 2, 0)
	if err != nil {
		return err
	}
	if len(cur) < 5 {
		return fixError("the BMC's authentication type parameter is malformed")
	}
	p := slices.Clone(cur[:5])
	for i := range p {
		p[i] &^= 0x01 | 0x10
	}
	return ss.setLAN(ctx, 2, p)
}

// Set User Password operations (IPMI 2.0 specification, table 22-32).
const (
	pwDisable = 0x00
	pwSet     = 0x02
	pwTest    = 0x03
)

// disableUser disables a user ID.
func (ss *session) disableUser(ctx context.Context, id int) error {
	_, err := ss.cmd(ctx, types.NetFnAppRequest, 0x47, []byte{byte(id), pwDisable}, "Set User Password")
	return err
}

// rotatePassword sets a new random password for user name, saving it
// first, and checks the BMC took it.
func (ss *session) rotatePassword(ctx context.Context, r *Report, name string, save SecretSaver) error {
	id := 0
	for _, u := range r.Users {
		if u.Name == name {
			id = u.ID
		}
	}
	if id == 0 {
		return fixError("the account was not found in the user list")
	}
	if save == nil {
		return fixError("no secret store to keep the new password in")
	}
	pw, err := randomPassword(16)
	if err != nil {
		return err
	}
	if _, err := save(name, pw); err != nil {
		return fixError("the new password could not be stored, so the BMC was not changed")
	}
	data := append([]byte{byte(id), pwSet}, pad16(pw)...)
	if _, err := ss.cmd(ctx, types.NetFnAppRequest, 0x47, data, "Set User Password"); err != nil {
		return err
	}
	test := append([]byte{byte(id), pwTest}, pad16(pw)...)
	if _, err := ss.cmd(ctx, types.NetFnAppRequest, 0x47, test, "Set User Password (test)"); err != nil {
		return fixError("the BMC accepted the new password but does not confirm it; the stored password may not match")
	}
	return nil
}

func pad16(s string) []byte {
	b := make([]byte, 16)
	copy(b, s)
	return b
}

// randomPassword returns n characters from an unambiguous alphabet with
// crypto/rand (16 characters: 96 bits).
func randomPassword(n int) (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789-_.+!#%@" // 64: no modulo bias
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}
