package bmcsim

import (
	"context"
	"fmt"
	"net"
)

// StartFleet starts n simulated BMCs named prefix001 … prefixNNN (at least
// three digits), each on its own ephemeral port of opts.Addr's host
// (default 127.0.0.1). On error the already started ones are closed.
func StartFleet(ctx context.Context, n int, prefix string, opts Options) ([]*BMC, error) {
	host := "127.0.0.1"
	if opts.Addr != "" {
		h, _, err := net.SplitHostPort(opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("bmcsim fleet: address %q: %w", opts.Addr, err)
		}
		host = h
	}
	opts.Addr = net.JoinHostPort(host, "0")
	fleet := make([]*BMC, 0, n)
	for i := 1; i <= n; i++ {
		b, err := Start(ctx, fmt.Sprintf("%s%03d", prefix, i), opts)
		if err != nil {
			CloseAll(fleet)
			return nil, err
		}
		fleet = append(fleet, b)
	}
	return fleet, nil
}

// CloseAll closes every BMC of a fleet.
func CloseAll(fleet []*BMC) {
	for _, b := range fleet {
		_ = b.Close()
	}
}
