package webui

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func TestBodyRewrite(t *testing.T) {
	var bmc *fakeBMC
	page := func() string {
		a := bmc.hostPort()
		return `<a href="https://` + a + `/x">x</a> <script src="//` + a + `/app.js"></script>` +
			`<img src="https://127.0.0.1/logo.png"> var u = "https:\/\/` + a + `\/api"; ws = "wss://` + a + `/kvm";` +
			`<a href="https://127.0.0.10/other">not the BMC</a> <a href="https://vendor.example/">v</a>`
	}
	want := func() string {
		p := publicHost
		return `<a href="https://` + p + `/x">x</a> <script src="//` + p + `/app.js"></script>` +
			`<img src="https://` + p + `/logo.png"> var u = "https:\/\/` + p + `\/api"; ws = "wss://` + p + `/kvm";` +
			`<a href="https://127.0.0.10/other">not the BMC</a> <a href="https://vendor.example/">v</a>`
	}
	bmc = newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page())
		case "/gz.js":
			w.Header().Set("Content-Type", "application/javascript")
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				fmt.Fprint(w, page())
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			fmt.Fprint(gz, page())
			gz.Close()
		case "/headers":
			a := bmc.hostPort()
			w.Header().Set("Refresh", "0; url=https://"+a+"/login.html")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' wss://"+a+" https://"+a)
		case "/data.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			fmt.Fprint(w, page())
		}
	}))
	cfg := pinnedConfig(bmc)
	cfg.RewriteBody = true
	fr := newFront(t, mustNew(t, cfg), Request{})
	for _, path := range []string{"/page.html", "/gz.js"} {
		resp, body := fr.do(t, "GET", path, nil, map[string]string{"Accept-Encoding": "gzip, br"})
		if resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: still encoded", path)
		}
		if body != want() {
			t.Errorf("%s:\n got %s\nwant %s", path, body, want())
		}
	}
	resp, _ := fr.do(t, "GET", "/headers", nil, nil)
	if got := resp.Header.Get("Refresh"); got != "0; url=https://"+publicHost+"/login.html" {
		t.Errorf("Refresh %q", got)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'self'; connect-src 'self' wss://"+publicHost+" https://"+publicHost {
		t.Errorf("CSP %q", got)
	}
	if _, body := fr.do(t, "GET", "/data.bin", nil, nil); body != page() {
		t.Errorf("binary body changed")
	}

	cfg.RewriteBody = false
	fr = newFront(t, mustNew(t, cfg), Request{})
	if _, body := fr.do(t, "GET", "/page.html", nil, nil); body != page() {
		t.Errorf("body rewritten with rewrite_body off")
	}
}

// TestLinkRewriterStreaming feeds the rewriter one byte at a time and in
// chunks that split every pattern, against a one-shot replacement.
func TestLinkRewriterStreaming(t *testing.T) {
	tg := &target{host: "10.0.0.5", port: 443, extra: map[int]bool{5900: true}}
	reps := linkReplacements(tg, "n1.bmc.example.com", func(p int) string { return fmt.Sprintf("n1-p%d.bmc.example.com", p) })
	in := strings.Repeat(`x https://10.0.0.5/a //10.0.0.5:443/b 10.0.0.5 https://10.0.0.50/c ws://10.0.0.5:5900/kvm http://10.0.0.5:8080/ `, 3000)
	want := strings.Repeat(`x https://n1.bmc.example.com/a //n1.bmc.example.com/b 10.0.0.5 https://10.0.0.50/c wss://n1-p5900.bmc.example.com/kvm http://10.0.0.5:8080/ `, 3000)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
		"half":     iotest.HalfReader(strings.NewReader(in)),
		"whole":    strings.NewReader(in),
	} {
		got, err := io.ReadAll(newLinkRewriter(io.NopCloser(r), reps))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(want)) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: differs at %d: %q", name, i, got[i:min(len(got), i+60)])
		}
	}
}

// FuzzLinkRewriter: reading byte by byte gives what reading at once gives.
func FuzzLinkRewriter(f *testing.F) {
	f.Add([]byte("a https://10.0.0.5/x //10.0.0.5:443 10.0.0.50"))
	f.Add([]byte(`https:\/\/10.0.0.5\/y ws://10.0.0.5:5900/`))
	tg := &target{host: "10.0.0.5", port: 443, extra: map[int]bool{5900: true}}
	reps := linkReplacements(tg, "n1.example", func(int) string { return "n1-kvm.example" })
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, err := io.ReadAll(newLinkRewriter(io.NopCloser(bytes.NewReader(data)), reps))
		if err != nil {
			t.Fatal(err)
		}
		bytewise, err := io.ReadAll(newLinkRewriter(io.NopCloser(iotest.OneByteReader(bytes.NewReader(data))), reps))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole, bytewise) {
			t.Fatalf("whole %q\nbytewise %q", whole, bytewise)
		}
	})
}
