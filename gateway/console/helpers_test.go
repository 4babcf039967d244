package console

import (
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/core"
)

func callerFor(name string) core.Caller {
	return core.Caller{Principal: authz.Principal{Name: name, Roles: []string{"r"}, Door: "ssh"}, Door: "ssh", Source: "127.0.0.1:1", Session: "s-" + name}
}
