package gateway

import (
	"strings"
	"testing"
)

// TestWebAPIBoot reads and sets the boot override through the JSON API
// (the same service call as the SSH boot command), and shows that virtual
// media on an IPMI BMC is refused with a plain reason.
func TestWebAPIBoot(t *testing.T) {
	w := startWeb(t, webOptions{extraWeb: providerTokenTypes})
	tok, _ := opTokens(t, w, "alice", "alice-password-1")
	c := w.client(t)
	code, out := w.api(t, c, "PUT", "/api/v1/bmcs/node01/boot", tok, `{"target":"cdrom","enabled":"persistent","mode":"uefi"}`, nil)
	boot, _ := out["boot"].(map[string]any)
	if code != 200 || boot["target"] != "cdrom" || boot["enabled"] != "persistent" || boot["mode"] != "uefi" || boot["protocol"] != "ipmi" {
		t.Fatalf("set boot: %d %v", code, out)
	}
	code, out = w.api(t, c, "GET", "/api/v1/bmcs/node01/boot", tok, "", nil)
	if boot, _ := out["boot"].(map[string]any); code != 200 || boot["target"] != "cdrom" {
		t.Fatalf("read boot: %d %v", code, out)
	}
	for _, bad := range []string{`{"target":"floppy"}`, `{"target":"pxe","extra":1}`, `{}`, strings.Repeat("x", 5000)} {
		if code, out := w.api(t, c, "PUT", "/api/v1/bmcs/node01/boot", tok, bad, nil); code == 200 {
			t.Errorf("bad body %.40q accepted: %v", bad, out)
		}
	}
	code, out = w.api(t, c, "POST", "/api/v1/bmcs/node01/media", tok, `{"action":"insert","image":"debian-12"}`, nil)
	if code == 200 || !strings.Contains(strings.ToLower(errMessage(out)), "redfish") {
		t.Errorf("media on an IPMI BMC: %d %v", code, out)
	}
	if code, out := w.api(t, c, "POST", "/api/v1/bmcs/node01/media", tok, `{"action":"insert","image":"https://evil.example/x.iso"}`, nil); code == 200 {
		t.Errorf("URL as an image: %v", out)
	}
}

// errMessage is the message of an API error answer.
func errMessage(out map[string]any) string {
	if e, ok := out["error"].(map[string]any); ok {
		m, _ := e["message"].(string)
		return m
	}
	m, _ := out["message"].(string)
	return m
}
