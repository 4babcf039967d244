package assemble

import (
	"log/slog"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/console"
	"github.com/bmcgate/bmcgate/proxy/sol"
)

// ConsoleConfig is the console hub's configuration.
func ConsoleConfig(cfg *configs.Config, log *slog.Logger) console.Config {
	c := cfg.Console
	return console.Config{
		EscapeChar:    c.EscapeChar[0],
		Scrollback:    c.ScrollbackKiB << 10,
		IdleTimeout:   c.IdleTimeout.Duration,
		AllowTakeover: c.AllowTakeover,
		MaxViewers:    c.MaxViewersPerConsole,
		Line: sol.Options{
			KeepAlive:    c.KeepAlive.Duration,
			ReconnectMin: c.ReconnectMin.Duration,
			ReconnectMax: c.ReconnectMax.Duration,
			IPMI:         IPMIOptions(cfg, log),
		},
		Logger: log,
	}
}
