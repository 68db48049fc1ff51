// Command demo-origin is a scriptable HTTP origin for demos and end-to-end
// tests of http5xx_exporter. Every answer carries X-App-Version.
//
// Fixed paths:
//
//	/, /ok                   200
//	/status/{code}           that code (100-999); 503 and 429 add Retry-After: 30;
//	                         other 1xx come as an interim answer before a 200,
//	                         101 closes the connection after its header
//	/retry-after/{value}     503 with that Retry-After, sent verbatim
//	/delay/{duration}        200 after the delay (at most 5m)
//	/hang                    no answer until the client leaves
//	/reset                   TCP RST instead of an answer
//	/garbage                 non-HTTP bytes, then close
//	/huge?bytes=64MiB        a large streamed body
//	/trickle?bytes=30        body bytes one per second
//	/redirect-loop           /redirect-loop/a <-> /redirect-loop/b forever
//	/flaky?p500=0.1&p503=..  random codes with those probabilities (--seed)
//
// ?as=nginx|envoy|cloudflare|haproxy makes a 5xx look like that product's
// error page; ?retry_after= sets or (empty) drops Retry-After.
//
// Scenario paths /t/{name} answer 200 until PUT /-/control/{name} sets their
// behaviour, optionally per probing location (X-Http5xx-Probe). PUT
// /-/version changes X-App-Version; PUT /-/saturation sets the readings served
// at /nginx_status, /fpm-status, /metrics-sat and /saturation.json.
//
// It is a test fixture: it has no authentication and should listen on
// loopback or a private network only.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
)

func main() {
	app := kingpin.New("demo-origin", "A scriptable HTTP origin that answers 5xx, delays, hangs and resets on demand.")
	app.HelpFlag.Short('h')
	listen := app.Flag("web.listen-address", "Address to listen on.").Default("127.0.0.1:10506").String()
	appVersion := app.Flag("version", "Value of the X-App-Version header until PUT /-/version changes it.").Default("1.0.0").String()
	seed := app.Flag("seed", "Seed of /flaky's random codes; 0 picks a random seed.").Default("0").Uint64()
	logConfig := &promslog.Config{}
	promslogflag.AddFlags(app, logConfig)
	kingpin.MustParse(app.Parse(os.Args[1:]))
	logger := promslog.New(logConfig)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen", "address", *listen, "err", err)
		os.Exit(1)
	}
	srv := newServer(options{Version: *appVersion, Seed: *seed, Logger: logger})
	logger.Info("demo-origin listening", "address", ln.Addr().String(), "version", *appVersion)
	if err := serve(ctx, ln, srv, logger); err != nil {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
	logger.Info("demo-origin stopped")
}

// serve runs h on ln until ctx ends. Requests derive their context from ctx,
// so hanging and delayed requests end with it and shutdown does not wait on
// them.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: /trickle, /huge and /delay write slowly on purpose.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
