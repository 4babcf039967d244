package media

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/nginxpeer"
)

// benchImageSize is the image the serving benchmark reads: 8 BMCs at
// once, each the whole image in 1 MiB ranges, as BMCs read.
const benchImageSize = 64 << 20

// BenchmarkImageServe8 compares the gateway's image listener with nginx
// serving the same file over TLS on loopback, 8 clients at once reading
// the whole image in 1 MiB ranges over keep-alive connections. It reports
// MB/s for each (target: the listener at least 0.8× nginx). nginx runs
// only when installed.
func BenchmarkImageServe8(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "img.iso")
	data := make([]byte, benchImageSize)
	for i := range data {
		data[i] = byte(i ^ i>>9)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	lib, err := NewLibrary([]Image{{Name: "img", Path: path, SHA256: hex.EncodeToString(sum[:])}})
	if err != nil {
		b.Fatal(err)
	}
	if err := lib.VerifyAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	certPEM, keyPEM, cert := benchCert(b)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := NewServer(lib, ServerOptions{BaseURL: "https://" + ln.Addr().String(), MaxConcurrent: 16})
	if err != nil {
		b.Fatal(err)
	}
	hs := srv.HTTPServer(slogDiscard())
	hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	b.Cleanup(func() { _ = hs.Close() })
	g, err := srv.Grant(context.Background(), "bench", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, "img")
	if err != nil {
		b.Fatal(err)
	}
	mbps := map[string]float64{}
	b.Run("bmcgate", func(b *testing.B) { mbps["bmcgate"] = fetch8(b, g.URL) })

	if ng, err := exec.LookPath("nginx"); err == nil {
		port := startBenchNginx(b, ng, dir, certPEM, keyPEM)
		b.Run("nginx", func(b *testing.B) { mbps["nginx"] = fetch8(b, fmt.Sprintf("https://127.0.0.1:%d/img.iso", port)) })
	}
	if mbps["nginx"] > 0 {
		b.Logf("image serving, 8 clients, 1 MiB ranges: bmcgate %.0f MB/s, nginx %.0f MB/s: %.2f× (target ≥ 0.8×)",
			mbps["bmcgate"], mbps["nginx"], mbps["bmcgate"]/mbps["nginx"])
	}
}

// fetch8 reads the image at url with 8 clients at once, each all of it in
// 1 MiB ranges, b.N times, and returns the throughput in MB/s.
func fetch8(b *testing.B, url string) float64 {
	const clients, chunk = 8, 1 << 20
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: clients, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	buf := make([][]byte, clients)
	for i := range buf {
		buf[i] = make([]byte, chunk)
	}
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for off := 0; off < benchImageSize; off += chunk {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+chunk-1))
					resp, err := c.Do(req)
					if err != nil {
						errs <- err
						return
					}
					n, err := io.ReadFull(resp.Body, buf[i])
					resp.Body.Close()
					if err != nil || n != chunk || resp.StatusCode != http.StatusPartialContent {
						errs <- fmt.Errorf("range at %d: status %d, %d bytes, %v", off, resp.StatusCode, n, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	el := time.Since(start).Seconds()
	mb := float64(b.N) * clients * benchImageSize / 1e6
	b.ReportMetric(mb/el, "MB/s")
	b.SetBytes(clients * benchImageSize)
	return mb / el
}

// startBenchNginx serves dir over TLS with nginx (one worker, sendfile)
// and returns its port.
func startBenchNginx(b *testing.B, bin, dir string, certPEM, keyPEM []byte) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	nginxpeer.Start(b, nginxpeer.Config{Bin: bin, Dir: dir, Files: map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM},
		HTTP: fmt.Sprintf(`
  sendfile on;
  server {
    listen 127.0.0.1:%[2]d ssl;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    root %[3]s;
  }`, nginxpeer.Prefix(dir, ""), port, dir)})
	return port
}

func benchCert(b *testing.B) (certPEM, keyPEM []byte, cert tls.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	return certPEM, keyPEM, cert
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
