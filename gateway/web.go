package gateway

import (
	"context"

	"github.com/bmcgate/bmcgate/configs"
)

// openWeb starts the web subsystem when the config enables it.
func openWeb(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	return nil, nil
}
