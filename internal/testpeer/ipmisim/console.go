package ipmisim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// consoleTimeout bounds one emulator command.
const consoleTimeout = 10 * time.Second

// Command runs one emulator command (ipmi_sim_cmd(5), for example
// "main_sdr_add 0x20 …" or "sensor_set_value 0x20 0 1 50 0") on the
// simulator's console. The simulator must have been started with Console.
func (s *Sim) Command(ctx context.Context, line string) error {
	if s.consoleAddr == "" {
		return errors.New("ipmisim: started without Console")
	}
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("ipmisim: an emulator command is one line")
	}
	ctx, cancel := context.WithTimeout(ctx, consoleTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.consoleAddr)
	if err != nil {
		return fmt.Errorf("ipmisim: console: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	r := bufio.NewReader(c)
	if _, err := readPrompt(r); err != nil {
		return fmt.Errorf("ipmisim: console: %w", err)
	}
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return fmt.Errorf("ipmisim: console: %w", err)
	}
	out, err := readPrompt(r)
	if err != nil {
		return fmt.Errorf("ipmisim: console: %w", err)
	}
	if i := bytes.Index(out, []byte("**")); i >= 0 {
		return fmt.Errorf("ipmisim: %q: %s", line, bytes.TrimSpace(out[i+2:]))
	}
	return nil
}

// readPrompt reads up to and including the console prompt "> ".
func readPrompt(r *bufio.Reader) ([]byte, error) {
	var out []byte
	for !bytes.HasSuffix(out, []byte("> ")) {
		b, err := r.ReadByte()
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

// freeTCPPort returns a TCP port that was free a moment ago on 127.0.0.1.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("ipmisim: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
