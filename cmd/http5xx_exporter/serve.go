package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/deploy"
	"github.com/http5xx/http5xx_exporter/collector/saturation"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

// serveCommand is the default command: load the config, probe, serve.
type serveCommand struct {
	cmd           *kingpin.CmdClause
	web           *web.FlagConfig
	configFile    string
	configCheck   bool
	watchInterval time.Duration
	location      string
	maxConcurrent int
	metricsPath   string

	storagePath         string
	deployTokenFile     string
	deployAllowUnauth   bool
	deployMaxServices   int
	deployMaxPerService int

	statusHistory int
	adhoc         adhoc.Options
}

func newServeCommand(app *kingpin.Application) *serveCommand {
	c := &serveCommand{}
	c.cmd = app.Command("serve", "Run the exporter (the default command).").Default()
	c.cmd.Flag("config.file", "Configuration file.").Default("http5xx.yml").StringVar(&c.configFile)
	c.cmd.Flag("config.check", "Check the configuration file and exit (0 valid, 2 invalid).").BoolVar(&c.configCheck)
	c.cmd.Flag("config.watch-interval", "How often to look for changes of the config and target files; 0 disables.").Default("5s").DurationVar(&c.watchInterval)
	c.cmd.Flag("location", "Name of the place this exporter probes from (label location); wins over global.location.").StringVar(&c.location)
	c.cmd.Flag("probe.max-concurrent", "Most probes running at once; further slots wait up to half their interval, then are skipped.").Default("64").IntVar(&c.maxConcurrent)
	c.cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&c.metricsPath)
	c.cmd.Flag("storage.path", "Directory of the durable deploy log.").Default("data").StringVar(&c.storagePath)
	c.cmd.Flag("deploy.token-file", "File of bearer tokens (one per line, reloaded with the config) that may POST /api/v1/deploys.").StringVar(&c.deployTokenFile)
	c.cmd.Flag("deploy.allow-unauthenticated", "Accept deploy POSTs without credentials when neither --deploy.token-file nor basic auth in --web.config.file is set.").BoolVar(&c.deployAllowUnauth)
	c.cmd.Flag("deploy.max-services", "Most services the deploy API may create (cardinality guard); services of configured targets are always admitted.").Default("500").IntVar(&c.deployMaxServices)
	c.cmd.Flag("status.history", "Probes kept per target for the status page and /api/v1/status.").Default("120").IntVar(&c.statusHistory)
	c.cmd.Flag("adhoc.enable", "Serve /api/v1/check: one-off checks of URLs that are not targets, for `check URL --from` on other machines. Needs --adhoc.allow.").BoolVar(&c.adhoc.Enabled)
	c.cmd.Flag("adhoc.allow", "What ad-hoc checks may reach (repeatable): a host name, *.domain, an IP address or network, or * for any public host. Loopback, private and link-local addresses need a network entry; cloud metadata addresses are always refused.").PlaceHolder("PATTERN").StringsVar(&c.adhoc.Allow)
	c.cmd.Flag("deploy.max-events-per-service", "Deploy history kept per service.").Default("100").IntVar(&c.deployMaxPerService)
	return c
}

func (c *serveCommand) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	if c.configCheck {
		return checkConfigFile(c.configFile, stdout, stderr)
	}
	logger.Info("starting http5xx_exporter", "version", version.Info(), "build_context", version.BuildContext())

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("http5xx_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	// SIGHUP is caught from here on: one sent during start-up waits in the
	// channel and reloads once serving, instead of killing the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	// The digest is taken before the load: a change in between is then seen
	// by the watcher, not taken for what was loaded.
	digest, _ := config.Digest(c.configFile)
	cfg, err := config.Load(c.configFile)
	if err != nil {
		logger.Error("cannot load configuration", "file", c.configFile, "err", err)
		return 1
	}
	sat := saturation.NewManager(saturation.Options{Location: collector.EffectiveLocation(c.location, cfg), Logger: logger.With("component", "saturation")})
	defer sat.Close() // after exp.Stop (defers run last-in first-out)
	reg.MustRegister(sat.Collector())

	// The deploy API re-reads the web config on every POST, as exporter-toolkit
	// does, so removing basic auth there never leaves POST open; an unreadable
	// file is still refused at start.
	webConfig := ""
	if f := c.web.WebConfigFile; f != nil && *f != "" {
		webConfig = *f
		if _, err := deploy.WebConfigHasBasicAuth(webConfig); err != nil {
			logger.Error("cannot read web config", "file", webConfig, "err", err)
			return 1
		}
	}
	deploys, err := deploy.NewManager(deploy.Options{
		StoragePath:          c.storagePath,
		TokenFile:            c.deployTokenFile,
		AllowUnauthenticated: c.deployAllowUnauth,
		WebConfigFile:        webConfig,
		MaxServices:          c.deployMaxServices,
		MaxEventsPerService:  c.deployMaxPerService,
		Logger:               logger.With("component", "deploy"),
	})
	if err != nil {
		logger.Error("cannot open the deploy store", "path", c.storagePath, "err", err)
		return 1
	}
	defer deploys.Close()
	reg.MustRegister(deploys.Collector())

	store := status.NewStore(c.statusHistory)
	exp, err := collector.New(collector.Options{
		Location:      c.location,
		Version:       version.Version,
		MaxConcurrent: c.maxConcurrent,
		Logger:        logger,
		Registerer:    reg,
		Sinks:         []collector.Sink{deploys, store},
		Followers:     []collector.TargetSetter{sat, deploys, store},
	}, cfg)
	if err != nil {
		logger.Error("cannot start probing", "file", c.configFile, "err", err)
		return 1
	}
	defer exp.Stop()
	logger.Info("configuration loaded", "file", c.configFile, "targets", len(cfg.Targets), "location", exp.Location())

	rl := &reloader{path: c.configFile, exp: exp, logger: logger, tokens: deploys.ReloadTokens, digest: digest}
	mux := http.NewServeMux()
	mux.Handle(c.metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
		Registry:          reg,
	}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	// The server starts only once the first configuration is loaded and
	// probing, so whenever it answers, the exporter is ready.
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready.") })
	mux.HandleFunc("/-/reload", rl.handle)
	mux.Handle("/api/v1/deploys", deploys.Handler())
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "http5xx_exporter",
		Description: "Probes HTTP targets and tells which 5xx, whose problem, and what changed.",
		Version:     version.Info(),
		Profiling:   "false",
		Links: []web.LandingLinks{
			{Address: "/", Text: "Status page"},
			{Address: status.APIPath, Text: "Status API (JSON)"},
			{Address: c.metricsPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
	})
	if err != nil {
		logger.Error("cannot build landing page", "err", err)
		return 1
	}
	// The status page owns /; the toolkit's landing page moves to /about
	// (it only answers its own route prefix, "/").
	mux.HandleFunc("GET /about", func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = "/"
		landing.ServeHTTP(w, r)
	})
	pages, err := status.NewHandler(status.Options{
		Store: store, Exporter: exp, Saturation: sat,
		Deploys: status.DeployLookupFunc(func(service string) (string, time.Time, bool) {
			ev, ok := deploys.Latest(service)
			return ev.Version, ev.Timestamp, ok
		}),
		Version: version.Version,
		Links: []status.Link{
			{Path: c.metricsPath, Text: "Metrics"},
			{Path: status.APIPath, Text: "Status API (JSON)"},
			{Path: "/-/healthy", Text: "Health"},
			{Path: "/about", Text: "About"},
		},
	})
	if err != nil {
		logger.Error("cannot build the status page", "err", err)
		return 1
	}
	pages.Register(mux) // GET /{$}, GET /targets/{name}, GET /api/v1/status, GET /probe
	c.adhoc.Location, c.adhoc.Version, c.adhoc.Config = exp.Location(), version.Version, exp.Config
	c.adhoc.Logger = logger.With("component", "adhoc")
	checker, err := adhoc.New(c.adhoc)
	if err != nil {
		logger.Error("cannot serve ad-hoc checks", "err", err)
		return 1
	}
	mux.Handle(adhoc.Path, checker) // always registered; 404 while disabled

	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, c.web, logger) }()
	var watch <-chan time.Time
	if c.watchInterval > 0 {
		t := time.NewTicker(c.watchInterval)
		defer t.Stop()
		watch = t.C
	}
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = server.Shutdown(sctx)
			return 0
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				return 0
			}
			logger.Error("web server failed", "err", err)
			return 1
		case <-hup:
			_ = rl.reload("SIGHUP")
		case <-watch:
			rl.reloadIfChanged()
		}
	}
}

// reloader serializes reloads from SIGHUP, POST /-/reload and file changes.
type reloader struct {
	path   string
	exp    *collector.Exporter
	logger *slog.Logger
	// tokens reloads the deploy API's token file alongside the config.
	tokens func() error

	mu     sync.Mutex
	digest string
}

func (r *reloader) reload(trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(trigger)
}

func (r *reloader) reloadLocked(trigger string) error {
	if d, err := config.Digest(r.path); err == nil {
		r.digest = d
	}
	if r.tokens != nil {
		if err := r.tokens(); err != nil {
			r.logger.Error("reloading the deploy token file failed; the previous tokens stay", "err", err)
		}
	}
	if err := r.exp.Reload(r.path); err != nil {
		r.logger.Error("reload failed; the running configuration stays", "trigger", trigger, "file", r.path, "err", err)
		return err
	}
	r.logger.Info("configuration reloaded", "trigger", trigger, "file", r.path, "targets", len(r.exp.Config().Targets))
	return nil
}

// reloadIfChanged reloads when the config or a target file changed.
func (r *reloader) reloadIfChanged() {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := config.Digest(r.path)
	if err != nil || d == r.digest {
		return // an unreadable file is reported by the reload it will trigger once readable
	}
	_ = r.reloadLocked("file change")
}

func (r *reloader) handle(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "Only POST or PUT requests allowed.", http.StatusMethodNotAllowed)
		return
	}
	if err := r.reload("web"); err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "Reloaded.")
}
