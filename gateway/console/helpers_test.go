package console

import (
	"github.com/bmcgate/bmcgate/gateway/core"
)

func callerFor(name string) core.Caller {
	return core.Caller{Identity: core.Identity{Name: name, Source: core.SourceUser}, Door: "ssh", Source: "127.0.0.1:1", Session: "s-" + name}
}
