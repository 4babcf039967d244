package configs

import (
	"net"
	"strconv"
)

// Some BMC web UIs open their KVM or virtual-media websocket on a port of
// their own (iDRAC's 5900, for one). Cookies are scoped to a host, not a
// port, so the BMC host's session cookie also reaches
// <bmc>.<proxy_domain>:<other port>. Each web.proxy_ports entry opens one
// more listener of the web door that serves only BMC hosts, forwarding to
// bmc_port of whichever BMC the Host names (when that BMC lists the port in
// bmcs[i].web.extra_ports). Listeners are opened at start; a reload does not
// open or close them.

// ProxyPort maps one BMC port to a listener of the gateway.
type ProxyPort struct {
	// BMCPort is the BMC's port, like 5900.
	BMCPort int `yaml:"bmc_port"`
	// Listen is the gateway's listen address for it, like 0.0.0.0:15900.
	Listen string `yaml:"listen"`
	// PublicPort is the port browsers use to reach Listen (default its
	// port; set it when a port forward sits in front of bmcgate).
	PublicPort int `yaml:"public_port"`
}

// webProxyPorts checks web.proxy_ports and that every extra port a BMC with
// a web UI lists is mapped.
func (v *validator) webProxyPorts() {
	w := &v.c.Web
	const field = "web.proxy_ports"
	if len(w.ProxyPorts) > 0 && w.ProxyDomain == "" {
		v.probs.add(field, "needs web.proxy_domain")
		return
	}
	mapped := map[int]bool{}
	addrs := map[string]bool{}
	public := map[int]bool{}
	for i := range w.ProxyPorts {
		p := &w.ProxyPorts[i]
		f := indexPath(field, i)
		switch {
		case p.BMCPort < 1 || p.BMCPort > 65535:
			v.probs.add(fieldPath(f, "bmc_port"), "port %d is out of range 1-65535", p.BMCPort)
		case mapped[p.BMCPort]:
			v.probs.add(fieldPath(f, "bmc_port"), "port %d is mapped twice", p.BMCPort)
		}
		mapped[p.BMCPort] = true
		lf := fieldPath(f, "listen")
		if p.Listen == "" {
			v.probs.add(lf, "required: the gateway address for this port, like 0.0.0.0:15900")
			continue
		}
		if err := checkListenAddr(p.Listen); err != nil {
			v.probs.add(lf, "%v", err)
			continue
		}
		for _, other := range []struct{ name, addr string }{{"listen.https", v.c.Listen.HTTPS}, {"listen.ssh", v.c.Listen.SSH}} {
			if samePort(p.Listen, other.addr) {
				v.probs.add(lf, "%s uses the port of %s (%s)", p.Listen, other.name, other.addr)
			}
		}
		clash := false
		for a := range addrs {
			if samePort(p.Listen, a) {
				v.probs.add(lf, "%s uses the port of another proxy_ports entry (%s)", p.Listen, a)
				clash = true
			}
		}
		addrs[p.Listen] = true
		if clash {
			continue
		}
		_, port, _ := net.SplitHostPort(p.Listen)
		pf := fieldPath(f, "public_port")
		switch {
		case !v.present(pf):
			p.PublicPort, _ = strconv.Atoi(port)
		case p.PublicPort < 1 || p.PublicPort > 65535:
			v.probs.add(pf, "port %d is out of range 1-65535", p.PublicPort)
		}
		if public[p.PublicPort] {
			v.probs.add(pf, "public port %d is used by another proxy_ports entry", p.PublicPort)
		}
		public[p.PublicPort] = true
	}
	if w.ProxyDomain == "" {
		return
	}
	for i, b := range v.c.BMCs {
		if !b.WebUI.Enabled() {
			continue
		}
		for j, p := range b.WebUI.ExtraPorts {
			if p >= 1 && p <= 65535 && !mapped[p] {
				v.probs.add(indexPath(fieldPath(indexPath("bmcs", i), "web.extra_ports"), j),
					"port %d has no listener: add {bmc_port: %d, listen: \"0.0.0.0:PORT\"} to web.proxy_ports", p, p)
			}
		}
	}
}

// samePort reports whether two listen addresses would collide: the same
// port on the same host, or on any host when either listens on every
// interface.
func samePort(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || pa != pb {
		return false
	}
	return ha == hb || anyHost(ha) || anyHost(hb)
}

// anyHost reports whether a listen host means every interface.
func anyHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "" || ip != nil && ip.IsUnspecified()
}

// BMCPortHost returns the public host:port of a BMC's web UI for a
// proxy_ports public port ("node01.bmc.example.com:15900"; no port for
// 443), or "" when the BMC has no web UI host.
func (w Web) BMCPortHost(name string, publicPort int) string {
	if w.ProxyDomain == "" || !dnsLabel(name) {
		return ""
	}
	h := name + "." + w.ProxyDomain
	if publicPort == 443 {
		return h
	}
	return net.JoinHostPort(h, strconv.Itoa(publicPort))
}
