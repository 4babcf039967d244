package bmchost

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
// main port (serve.go). The listeners are opened once, at Listen; a
// reload re-reads the BMCs but not the listeners.

// portListener is one web.proxy_ports listener.
type portListener struct {
	bmcPort    int
	publicPort int
	listen     string
	ln         net.Listener
	srv        *http.Server
}

// setupPorts builds the port listeners' servers (not yet listening) from
// the BMC hosts' TLS configuration and the main listener's limits. Called
// from New.
func (h *Hosts) setupPorts(w *configs.Web, bmcConf *tls.Config, main *http.Server) {
	for _, pp := range w.ProxyPorts {
		pl := &portListener{bmcPort: pp.BMCPort, publicPort: pp.PublicPort, listen: pp.Listen}
		pl.srv = &http.Server{
			Handler:           h.track(h.portHandler(pl, w.ProxyDomain)),
			TLSConfig:         bmcConf.Clone(),
			TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
			ReadHeaderTimeout: main.ReadHeaderTimeout,
			ReadTimeout:       main.ReadTimeout,
			WriteTimeout:      main.WriteTimeout,
			IdleTimeout:       main.IdleTimeout,
			MaxHeaderBytes:    main.MaxHeaderBytes,
			ErrorLog:          main.ErrorLog,
		}
		h.ports = append(h.ports, pl)
	}
}

// portHandler serves one port listener: BMC hosts on its public port only.
func (h *Hosts) portHandler(pl *portListener, domain string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h.front.URITooLong(rw, r) {
			return
		}
		host, port, ok := httpfront.HostPort(r.Host)
		if !ok || !httpfront.UnderDomain(host, domain) {
			h.front.Misdirected(rw, r, "only BMC hosts are served on this port")
			return
		}
		if !h.front.BMCHostRequest(rw, r, host, port, pl.publicPort) {
			return
		}
		h.ServeHost(rw, r, h.cfg().BMCFromHost(host), pl.bmcPort)
	})
}

// ListenPorts binds every port listener; on error none stays bound.
func (h *Hosts) ListenPorts() error {
	for i, pl := range h.ports {
		ln, err := net.Listen("tcp", pl.listen)
		if err != nil {
			for _, done := range h.ports[:i] {
				_ = done.ln.Close()
				done.ln = nil
			}
			return fmt.Errorf("web.proxy_ports listen %s (BMC port %d): %w", pl.listen, pl.bmcPort, err)
		}
		pl.ln = ln
		h.log.Info("BMC web UI port", "bmc_port", pl.bmcPort, "listen", ln.Addr().String(), "public_port", pl.publicPort)
	}
	return nil
}

// ServePorts serves every bound port listener until ShutdownPorts.
func (h *Hosts) ServePorts() {
	for _, pl := range h.ports {
		if pl.ln == nil {
			continue
		}
		go func() {
			if err := pl.srv.ServeTLS(pl.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.log.Error("BMC web UI port stopped", "bmc_port", pl.bmcPort, "listen", pl.listen, "err", err)
			}
		}()
	}
}

// ShutdownPorts stops the port listeners gracefully (the main door calls
// it at shutdown, before it waits for the requests still running).
func (h *Hosts) ShutdownPorts(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pl := range h.ports {
		wg.Go(func() { _ = pl.srv.Shutdown(ctx) })
	}
	wg.Wait()
}

// ClosePorts stops the port listeners.
func (h *Hosts) ClosePorts() {
	for _, pl := range h.ports {
		_ = pl.srv.Close()
		if pl.ln != nil {
			_ = pl.ln.Close()
		}
	}
}

// PortAddrs returns the bound address of each port listener by BMC port
// (for logs and tests).
func (h *Hosts) PortAddrs() map[int]string {
	out := map[int]string{}
	for _, pl := range h.ports {
		if pl.ln != nil {
			out[pl.bmcPort] = pl.ln.Addr().String()
		}
	}
	return out
}

// portHostFunc returns the proxy's PortHost for the BMC called name: the
// public host:port of each mapped BMC port, "" for others.
func (h *Hosts) portHostFunc(name string) func(int) string {
	return func(port int) string {
		for _, pl := range h.ports {
			if pl.bmcPort == port {
				return h.cfg().BMCPortHost(name, pl.publicPort)
			}
		}
		return ""
	}
}

// WarnPortsChanged logs when a reloaded config maps BMC ports
// differently from the listeners opened at start: those change only on
// restart.
func (h *Hosts) WarnPortsChanged(w configs.Web) {
	same := len(w.ProxyPorts) == len(h.ports)
	for i := 0; same && i < len(w.ProxyPorts); i++ {
		pp, pl := w.ProxyPorts[i], h.ports[i]
		same = pp.BMCPort == pl.bmcPort && pp.Listen == pl.listen && pp.PublicPort == pl.publicPort
	}
	if !same {
		h.log.Warn("web.proxy_ports changed: BMC port listeners change only on restart; the running ones stay as they are")
	}
}
