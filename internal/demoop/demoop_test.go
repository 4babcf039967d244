package demoop

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDiscoveryAndLoginPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(ln, Client{ID: "gw", Secret: "s3cret-client", RedirectURIs: []string{"https://127.0.0.1:1/auth/callback"}},
		[]User{{Username: "admin", Password: "pw-admin-1", Groups: []string{"demo-admins"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		PKCE          []string `json:"code_challenge_methods_supported"`
	}
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil || d.Issuer != p.Issuer() || !strings.HasPrefix(d.Authorization, p.Issuer()) || len(d.PKCE) != 1 || d.PKCE[0] != "S256" {
		t.Fatalf("discovery %+v: %v", d, err)
	}
	// An unknown auth request, a wrong password and an unknown user get
	// the same answer.
	for _, f := range []url.Values{
		{"id": {"nope"}, "username": {"admin"}, "password": {"pw-admin-1"}},
		{"id": {"nope"}, "username": {"admin"}, "password": {"wrong"}},
		{"id": {"nope"}, "username": {"nobody"}, "password": {"pw-admin-1"}},
	} {
		resp, err := c.PostForm(p.Issuer()+"/login/username", f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("login %v answered %d", f, resp.StatusCode)
		}
	}
	resp, err = c.Get(p.Issuer() + "/login/username?authRequestID=%3Cscript%3E")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "<script>") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("login page reflects the request id unescaped or lacks its CSP:\n%s", page)
	}
}

// The storage the provider builds on ships a service account with a
// published secret ("sid1"/"verysecret"); the demo provider must not
// issue tokens for it, or for any other client-credentials request.
func TestNoServiceAccountGrants(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(ln, Client{ID: "gw", Secret: "s3cret-client", RedirectURIs: []string{"https://127.0.0.1:1/auth/callback"}},
		[]User{{Username: "admin", Password: "pw-admin-1", Groups: []string{"demo-admins"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Timeout: 10 * time.Second}
	for _, f := range []url.Values{
		{"grant_type": {"client_credentials"}, "client_id": {"sid1"}, "client_secret": {"verysecret"}, "scope": {"openid"}},
		{"grant_type": {"client_credentials"}, "client_id": {"gw"}, "client_secret": {"s3cret-client"}, "scope": {"openid"}},
	} {
		resp, err := c.PostForm(p.Issuer()+"/oauth/token", f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "access_token") {
			t.Fatalf("client_credentials for %s answered %d %s", f.Get("client_id"), resp.StatusCode, body)
		}
	}
}
