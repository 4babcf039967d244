package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bmcgate/bmcgate/gateway"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/demo"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "serve --config FILE [--log-format text|json] [--log-level info]", stdout)
	cfgPath := fs.String("config", "", "config file (YAML)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "bmcgate serve: --config is required")
		return exitUsage
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate serve: %v\n", err)
		return exitUsage
	}
	cfg, err := assemble.LoadConfig(*cfgPath, false)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate: refusing to start: %v\n", err)
		return exitFailed
	}
	g, err := gateway.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate: refusing to start: %v\n", err)
		return exitFailed
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = g.Reload(ctx) // logged and audited inside
			}
		}
	}()
	if err := g.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "bmcgate: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", "demo [--ssh-addr 127.0.0.1:2222] [--https-addr 127.0.0.1:8443] [--no-web] [--bmcs 8] [--data-dir DIR]", stdout)
	addr := fs.String("ssh-addr", "127.0.0.1:2222", "SSH listen address (a free port is used if it is taken)")
	httpsAddr := fs.String("https-addr", "127.0.0.1:8443", "HTTPS listen address of the web door (a free port is used if it is taken)")
	noWeb := fs.Bool("no-web", false, "start the SSH door only (no web door, no OpenID provider)")
	n := fs.Int("bmcs", 8, "number of simulated BMCs (1-500)")
	dir := fs.String("data-dir", "", "keep the demo's data here instead of a temporary directory")
	logLevel := fs.String("log-level", "warn", "log level")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *n < 1 || *n > 500 {
		fmt.Fprintln(stderr, "bmcgate demo: --bmcs must be from 1 to 500")
		return exitUsage
	}
	log, err := newLogger(stderr, "text", *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate demo: %v\n", err)
		return exitUsage
	}
	if err := demo.Run(ctx, demo.Options{DataDir: *dir, SSHAddr: *addr, HTTPSAddr: *httpsAddr, NoWeb: *noWeb, BMCs: *n, Out: stdout, Logger: log}); err != nil {
		fmt.Fprintf(stderr, "bmcgate demo: %v\n", err)
		return exitFailed
	}
	return exitOK
}
