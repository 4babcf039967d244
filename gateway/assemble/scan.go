package assemble

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/redfish"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// Scans builds the posture scan from the config: scanner, report store
// and limits.
func Scans(cfg *configs.Config, log *slog.Logger, rf scan.RedfishSource) (*service.Scans, error) {
	sc, err := Scanner(cfg, log, rf)
	if err != nil {
		return nil, err
	}
	return &service.Scans{Scanner: sc, Store: scans.NewStore(cfg.DataDir), Concurrency: cfg.Scan.Concurrency,
		Timeout: ScanTimeout(cfg),
		Secrets: func(bmc string) scan.SecretSaver { return scans.SecretSaver(cfg.DataDir, bmc) }}, nil
}

// ScanTimeout bounds a whole fleet scan: the command timeout, but at
// least ten minutes.
func ScanTimeout(cfg *configs.Config) time.Duration {
	return max(cfg.Limits.CommandTimeout.Duration, 10*time.Minute)
}

// Scanner builds a scanner with the config's pacing and credential list;
// rf reads the Redfish side of BMCs that have one.
func Scanner(cfg *configs.Config, log *slog.Logger, rf scan.RedfishSource) (*scan.Scanner, error) {
	list, err := configs.LoadDefaultCredentials(cfg.Scan.Credentials)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	creds := make([]scan.Credential, len(list))
	for i, c := range list {
		creds[i] = scan.Credential{Vendor: c.Vendor, Username: c.Username, Password: c.Password}
	}
	return scan.New(scan.Options{
		Interval:    cfg.Scan.ProbeInterval.Duration,
		Timeout:     cfg.Scan.Timeout.Duration,
		Credentials: creds,
		IPMI:        IPMIOptions(cfg, log),
		Redfish:     rf,
		Logger:      log,
	}), nil
}

// OfflineRedfish is a Redfish broker for a scan without a running
// gateway; Close logs out of its sessions.
func OfflineRedfish(cfg *configs.Config, log *slog.Logger) *redfish.Broker {
	return redfish.NewBroker(RedfishOptions(cfg, log))
}
