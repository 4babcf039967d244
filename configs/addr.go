package configs

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// checkListenAddr checks a host:port to listen on. The host may be empty
// (every interface), an IP address or a host name; the port must be a
// number from 1 to 65535.
func checkListenAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port, like 127.0.0.1:2222", s)
	}
	if err := checkPort(port); err != nil {
		return fmt.Errorf("invalid address %q: %w", s, err)
	}
	if host == "" {
		return nil
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("invalid address %q: %w", s, err)
	}
	return nil
}

// normalizeBMCAddress checks a BMC address and returns it as host:port,
// adding the IPMI port 623 when none is given. Bare IPv6 addresses are
// accepted with or without brackets.
func normalizeBMCAddress(s string) (string, error) {
	if s == "" {
		return "", errors.New("required: the BMC's host or host:port")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: a host name, an IPv4 address or an IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), DefaultIPMIPort
		if strings.Contains(host, ":") {
			if _, perr := netip.ParseAddr(host); perr != nil {
				return "", fmt.Errorf("invalid address %q: want host or host:port", s)
			}
		}
	}
	if host == "" {
		return "", fmt.Errorf("invalid address %q: the host is missing", s)
	}
	if err := checkPort(port); err != nil {
		return "", fmt.Errorf("invalid address %q: %w", s, err)
	}
	if err := checkHost(host); err != nil {
		return "", fmt.Errorf("invalid address %q: %w", s, err)
	}
	return net.JoinHostPort(host, port), nil
}

// checkPort checks a decimal port number from 1 to 65535.
func checkPort(port string) error {
	if port == "" {
		return errors.New("the port is missing")
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return fmt.Errorf("port %q is not a number", port)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %s is out of range 1-65535", port)
	}
	return nil
}

// checkHost accepts an IP address (IPv6 with an optional zone) or a DNS
// host name.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if len(host) > 253 {
		return errors.New("the host name is too long")
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 {
			return errors.New("the host is not a valid IP address or host name")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(label)-1
			if !ok {
				return errors.New("the host is not a valid IP address or host name")
			}
		}
	}
	return nil
}
