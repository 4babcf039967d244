package gateway

import (
	"context"

	"github.com/bmcgate/bmcgate/configs"
)

// openScan starts the scan subsystem when the config enables it.
func openScan(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	return nil, nil
}
