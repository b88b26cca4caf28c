package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/request"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	cfg, code := parseConfig(flag.NewFlagSet("serve", flag.ContinueOnError), args, stderr)
	if cfg == nil {
		return code
	}
	for _, check := range []func() error{cfg.CheckTransport, cfg.CheckDevDrivers} {
		if err := check(); err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 2
		}
	}
	log := newLogger(cfg, stderr)
	app.TuneMemory(cfg.Int("argon2.workers"), cfg.Int("argon2.memory_kib"))
	resumeGC := app.HoldCollection()
	defer resumeGC() // a start that fails
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", cfg.String("listen"))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	if cfg.String("public_url") == "" {
		// Listening on port 0 picks a free port; messages must name it.
		cfg.Set("listen", ln.Addr().String())
	}
	// The metrics listener is opened before anything starts, like the
	// main one: a taken address stops the start with its name.
	var metricsLn net.Listener
	if addr := cfg.String("metrics.listen"); addr != "" {
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			fmt.Fprintf(stderr, "gatehouse: metrics.listen: %v\n", err)
			return 1
		}
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer a.Close()
	a.Start()
	if a.SecretsCreated {
		log.Info("generated a new secrets file; back it up with the database", "path", cfg.SecretsPath())
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}

	// The outbox worker gets its own context: on a stop it is cancelled
	// only after the HTTP server has drained, so messages queued by the
	// last requests are still picked up, and the one in hand is finished.
	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Outbox.Run(workCtx) })
	wg.Go(func() { a.Deliveries.Run(workCtx) })

	serveErr := make(chan error, 2) // the main server and the metrics one
	go func() {
		if cfg.TLS() {
			serveErr <- srv.ServeTLS(ln, cfg.String("tls.cert"), cfg.String("tls.key"))
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	// Metrics have a server of their own on their own address: /metrics is
	// not a route of the holders' table, and a scraper is no browser (no
	// host check, no cookies). Only the metrics handler answers there.
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = &http.Server{
			Handler:           a.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    16 << 10,
		}
		go func() {
			if err := metricsSrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
		log.Info("metrics served", "listen", metricsLn.Addr().String(), "path", "/metrics")
		fmt.Fprintf(stdout, "Metrics are served at http://%s/metrics\n", metricsLn.Addr())
	}
	// The start's last allocations are the pages' assets, built in the
	// background (which waits for the message catalog): collect from then.
	go func() {
		a.Web.WaitAssets()
		resumeGC()
	}()
	log.Info("gatehouse started", "listen", ln.Addr().String(), "public_url", cfg.PublicURL(), "database", databaseName(cfg), "mail", a.Outbox.Drivers[request.Email].Name())
	fmt.Fprintf(stdout, "Gatehouse is running. Open %s/ in your browser.\n", cfg.PublicURL())
	if u := a.Web.PasskeyLocalURL; u != "" {
		fmt.Fprintf(stdout, "Passkeys work at %s/ (browsers do not offer them to an IP address).\n", u)
	}
	if a.Web.DevMessages && cfg.PublicURLOnThisMachine() {
		// Only ever a URL on this machine: the mailbox answers no one else.
		fmt.Fprintf(stdout, "Mail is not sent (dev driver): read it at %s/dev/messages\n", cfg.PublicURL())
	} else if a.Web.DevMessages {
		fmt.Fprintf(stdout, "Mail is not sent (dev driver): read it at http://%s/dev/messages from this machine only\n", ln.Addr())
	}

	code = 0
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
			code = 1
		}
	case <-ctx.Done():
		log.Info("stopping: finishing in-flight requests and the message in hand")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Duration("shutdown_timeout"))
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
		code = 1
	}
	if metricsSrv != nil {
		// After the main server: the last requests' counts can still be
		// scraped while it drains.
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			log.Error("metrics shutdown", "err", err)
			code = 1
		}
	}
	stopWork()
	wg.Wait()
	log.Info("stopped")
	_ = os.Stdout.Sync()
	return code
}
