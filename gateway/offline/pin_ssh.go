package offline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
)

// pinSSH fetches the host key the BMC's SSH console service presents,
// shows its type and fingerprint, asks for confirmation and prints the
// host_key line. Like Pin, it never edits the config.
func pinSSH(ctx context.Context, o PinOptions, b *configs.BMC, idx int) error {
	if b.Console.Via != configs.ConsoleViaSSH {
		return fmt.Errorf("BMC %s: its console does not go through SSH: set bmcs[%d].console.via: ssh first", b.Name, idx)
	}
	host, _, err := net.SplitHostPort(b.Address)
	if err != nil {
		return fmt.Errorf("BMC %s: address: %w", b.Name, err)
	}
	t, err := assemble.SSHConsoleTarget(o.Config, *b, host)
	if err != nil {
		return fmt.Errorf("BMC %s: %w", b.Name, err)
	}
	addr := t.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "22")
	}
	hk, err := bmcssh.FetchHostKey(ctx, addr, nil, 15*time.Second)
	if err != nil {
		return fmt.Errorf("BMC %s: %w", b.Name, err)
	}
	fmt.Fprintf(o.Out, "BMC %s, SSH console service at %s\n  key type:    %s\n  fingerprint: %s\n", b.Name, addr, hk.Type(), hk.Fingerprint())
	if k := b.Console.PinnedHostKey(); k != nil {
		if hk.Equal(k) {
			fmt.Fprintf(o.Out, "\nThis host key is already pinned for %s.\n", b.Name)
			return nil
		}
		fmt.Fprintf(o.Out, "\nWARNING: this is NOT the pinned host key.\nIf the BMC's SSH key was not changed on purpose, someone may be intercepting its traffic.\n")
	}
	fmt.Fprintf(o.Out, "\nCompare the fingerprint with the one the BMC shows on its console or local UI.\nPin this host key for %s? [y/N] ", b.Name)
	line, err := bufio.NewReader(o.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read answer: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fmt.Fprintln(o.Out)
		return ErrNotConfirmed
	}
	fmt.Fprintf(o.Out, "\nSet bmcs[%d].console.host_key in %s to:\n\n      host_key: %q\n\nthen reload bmcgate (SIGHUP).\n", idx, o.Config.Path, hk.String())
	return nil
}
