package console

import (
	"github.com/bmcgate/bmcgate/gateway/service"
)

func callerFor(name string) service.Caller {
	return service.Caller{Identity: service.Identity{Name: name, Source: service.SourceUser}, Door: "ssh", Source: "127.0.0.1:1", Session: "s-" + name}
}
