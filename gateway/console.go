package gateway

import (
	"context"

	"github.com/bmcgate/bmcgate/configs"
)

// openConsole starts the console subsystem when the config enables it.
func openConsole(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	return nil, nil
}
