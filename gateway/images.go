package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/oserr"
	"github.com/bmcgate/bmcgate/proxy/media"
)

// imagesPart serves the image library to BMCs' virtual media on
// images.listen.
type imagesPart struct {
	srv *media.Server
	hs  *http.Server
	ln  net.Listener
}

// openImages verifies the image library and opens its listener when the
// config has one. An image whose SHA-256 does not match is logged and
// refused at every insert; the others are served.
func openImages(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	im := cfg.Images
	if !im.Enabled() {
		return nil, nil
	}
	imgs := make([]media.Image, len(im.Files))
	for i, f := range im.Files {
		imgs[i] = media.Image{Name: f.Name, Path: im.Path(f), SHA256: f.SHA256}
	}
	lib, err := media.NewLibrary(imgs)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if err := lib.VerifyAll(ctx); err != nil {
		g.log.Error("images: some images are refused until fixed", "err", err)
	}
	srv, err := media.NewServer(lib, media.ServerOptions{
		BaseURL:       im.URL,
		Lifetime:      im.URLLifetime.Duration,
		MaxConcurrent: im.MaxConcurrent,
		Logger:        g.log,
		OnFetch:       func(f media.Fetch) { g.auditFetch(f) },
	})
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	p := &imagesPart{srv: srv, hs: srv.HTTPServer(g.log)}
	if !im.PlainHTTPDangerous {
		cert, err := imagesCertificate(im)
		if err != nil {
			return nil, err
		}
		p.hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	} else {
		g.log.Warn("images: serving over plain HTTP (images.plain_http_dangerous): anyone on the management network can read the images and their URLs")
	}
	if p.ln, err = net.Listen("tcp", im.Listen); err != nil {
		return nil, fmt.Errorf("images.listen %s: %w", im.Listen, oserr.ListenCause(err))
	}
	g.svc.SetImages(srv)
	return p, nil
}

// auditFetch records one request to the image listener.
func (g *Gateway) auditFetch(f media.Fetch) {
	r := audit.Record{Code: audit.CodeMediaFetch, Door: audit.DoorSystem, Source: f.Client, Target: f.BMC,
		Outcome: audit.OutcomeOK, Duration: f.Duration,
		Fields: map[string]string{"image": f.Image, "method": f.Method, "status": strconv.Itoa(f.Status), "bytes": strconv.FormatInt(f.Bytes, 10)}}
	if f.Range != "" {
		r.Fields["range"] = f.Range
	}
	if f.Refused != "" {
		r.Outcome, r.Reason = audit.OutcomeDeny, f.Refused
	}
	_ = g.svc.Audit(context.Background(), r)
}

func (p *imagesPart) Run(ctx context.Context) error {
	var err error
	if p.hs.TLSConfig != nil {
		err = p.hs.ServeTLS(p.ln, "", "")
	} else {
		err = p.hs.Serve(p.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Reload keeps the library (images change on restart) and ends the URLs
// granted to BMCs that left the config.
func (p *imagesPart) Reload(_ context.Context, _ *configs.Config, st *service.State) {
	p.srv.RevokeIf(func(bmc string) bool {
		_, ok := st.Inventory.Lookup(bmc)
		return !ok
	})
}

func (p *imagesPart) Close() {
	_ = p.hs.Close()
	p.srv.Close()
}

// imagesCertificate is images.tls (web.tls by default), or a self-signed
// certificate for the listener's host, made at start.
func imagesCertificate(im configs.Images) (tls.Certificate, error) {
	if im.TLS.CertFile != "" {
		c, err := tls.LoadX509KeyPair(im.TLS.CertFile, im.TLS.KeyFile)
		if err != nil {
			return c, fmt.Errorf("images tls certificate: %w", err)
		}
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "bmcgate image listener"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if u, err := url.Parse(im.URL); err == nil {
		if a, err := netip.ParseAddr(u.Hostname()); err == nil {
			tmpl.IPAddresses = []net.IP{a.AsSlice()}
		} else {
			tmpl.DNSNames = []string{u.Hostname()}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
