package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
)

// Some BMC UIs open their KVM websocket on a port of their own (iDRAC's
// 5900). Each web.proxy_ports entry gets a TLS listener of its own, with the
// BMC hosts' wildcard certificate, HTTP/1.1 only, serving BMC hosts and
// nothing else: Host <bmc>.<proxy_domain>:<public port> goes to that port of
// that BMC, when the BMC lists it in its extra_ports. Cookies are scoped to
// a host, not a port, so the BMC host's cookie set on the main port
// authenticates here too, and every request is checked exactly as on the
// main port (bmchost_serve.go). The listeners are opened once, at Listen; a
// reload re-reads the BMCs but not the listeners.

// portListener is one web.proxy_ports listener.
type portListener struct {
	bmcPort    int
	publicPort int
	listen     string
	ln         net.Listener
	srv        *http.Server
}

// setupBMCPorts builds the port listeners' servers (not yet listening) from
// the BMC hosts' TLS configuration. Called from setupBMCHosts.
func (s *Server) setupBMCPorts(w *configs.Web, bmcConf *tls.Config) {
	for _, pp := range w.ProxyPorts {
		pl := &portListener{bmcPort: pp.BMCPort, publicPort: pp.PublicPort, listen: pp.Listen}
		pl.srv = &http.Server{
			Handler:           s.track(s.portHandler(pl, w.ProxyDomain)),
			TLSConfig:         bmcConf.Clone(),
			TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
			ReadHeaderTimeout: s.http.ReadHeaderTimeout,
			ReadTimeout:       s.http.ReadTimeout,
			WriteTimeout:      s.http.WriteTimeout,
			IdleTimeout:       s.http.IdleTimeout,
			MaxHeaderBytes:    s.http.MaxHeaderBytes,
			ErrorLog:          s.http.ErrorLog,
		}
		s.bmc.ports = append(s.bmc.ports, pl)
	}
}

// portHandler serves one port listener: BMC hosts on its public port only.
func (s *Server) portHandler(pl *portListener, domain string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if s.front.URITooLong(rw, r) {
			return
		}
		host, port, ok := httpfront.HostPort(r.Host)
		if !ok || !httpfront.UnderDomain(host, domain) {
			s.front.Misdirected(rw, r, "only BMC hosts are served on this port")
			return
		}
		if !s.front.BMCHostRequest(rw, r, host, port, pl.publicPort) {
			return
		}
		s.serveBMCHost(rw, r, s.cfg.Load().BMCFromHost(host), pl.bmcPort)
	})
}

// listenBMCPorts binds every port listener; on error none stays bound.
func (s *Server) listenBMCPorts() error {
	for i, pl := range s.bmc.ports {
		ln, err := net.Listen("tcp", pl.listen)
		if err != nil {
			for _, done := range s.bmc.ports[:i] {
				_ = done.ln.Close()
				done.ln = nil
			}
			return fmt.Errorf("web.proxy_ports listen %s (BMC port %d): %w", pl.listen, pl.bmcPort, err)
		}
		pl.ln = ln
		s.log.Info("BMC web UI port", "bmc_port", pl.bmcPort, "listen", ln.Addr().String(), "public_port", pl.publicPort)
	}
	return nil
}

// runBMCPorts serves every bound port listener until shutdownBMCPorts.
func (s *Server) runBMCPorts() {
	for _, pl := range s.bmc.ports {
		if pl.ln == nil {
			continue
		}
		go func() {
			if err := pl.srv.ServeTLS(pl.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("BMC web UI port stopped", "bmc_port", pl.bmcPort, "listen", pl.listen, "err", err)
			}
		}()
	}
}

// shutdownBMCPorts stops the port listeners gracefully (Run calls it at
// shutdown, before it waits for the requests still running).
func (s *Server) shutdownBMCPorts(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pl := range s.bmc.ports {
		wg.Go(func() { _ = pl.srv.Shutdown(ctx) })
	}
	wg.Wait()
}

// closeBMCPorts stops the port listeners.
func (s *Server) closeBMCPorts() {
	for _, pl := range s.bmc.ports {
		_ = pl.srv.Close()
		if pl.ln != nil {
			_ = pl.ln.Close()
		}
	}
}

// BMCPortAddrs returns the bound address of each port listener by BMC
// port (for logs and tests).
func (s *Server) BMCPortAddrs() map[int]string {
	out := map[int]string{}
	for _, pl := range s.bmc.ports {
		if pl.ln != nil {
			out[pl.bmcPort] = pl.ln.Addr().String()
		}
	}
	return out
}

// portHostFunc returns the proxy's PortHost for the BMC called name: the
// public host:port of each mapped BMC port, "" for others.
func (s *Server) portHostFunc(name string) func(int) string {
	return func(port int) string {
		for _, pl := range s.bmc.ports {
			if pl.bmcPort == port {
				return s.cfg.Load().BMCPortHost(name, pl.publicPort)
			}
		}
		return ""
	}
}

// warnBMCPortsChanged logs when a reloaded config maps BMC ports
// differently from the listeners opened at start: those change only on
// restart.
func (s *Server) warnBMCPortsChanged(w configs.Web) {
	same := len(w.ProxyPorts) == len(s.bmc.ports)
	for i := 0; same && i < len(w.ProxyPorts); i++ {
		pp, pl := w.ProxyPorts[i], s.bmc.ports[i]
		same = pp.BMCPort == pl.bmcPort && pp.Listen == pl.listen && pp.PublicPort == pl.publicPort
	}
	if !same {
		s.log.Warn("web.proxy_ports changed: BMC port listeners change only on restart; the running ones stay as they are")
	}
}
