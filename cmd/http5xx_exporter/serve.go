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
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/deploy"
	"github.com/http5xx/http5xx_exporter/collector/discovery"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
	"github.com/http5xx/http5xx_exporter/collector/reload"
	"github.com/http5xx/http5xx_exporter/collector/saturation"
	"github.com/http5xx/http5xx_exporter/collector/shard"
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

	statusHistory   int
	phaseHistograms bool
	prefillHistory  bool
	adhoc           adhoc.Options
	adhocPeers      fanout.Spec

	shardCount int
	shardIndex string // a number or a StatefulSet pod name (shard.ParseIndex)

	limits webLimits
	rt     runtimeSettings
}

// webLimits bound what a client can hold of the web server: time and
// connections (so file descriptors, which the probes need too).
type webLimits struct {
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxConnections    int
}

// adhocTimeout bounds one ad-hoc check (/api/v1/check); routes extend the
// write deadline of that endpoint by it.
const adhocTimeout = 10 * time.Second

func newServeCommand(app *kingpin.Application) *serveCommand {
	c := &serveCommand{rt: defaultRuntimeSettings()}
	c.cmd = app.Command("serve", "Run the exporter (the default command).").Default()
	c.cmd.Flag("config.file", "Configuration file.").Default("http5xx.yml").StringVar(&c.configFile)
	c.cmd.Flag("config.check", "Check the configuration file and exit (0 valid, 2 invalid).").BoolVar(&c.configCheck)
	c.cmd.Flag("config.watch-interval", "How often to poll the config and target files for changes where file events cannot watch them; with events a safety poll runs at 12 times this. 0 disables watching.").Default("5s").DurationVar(&c.watchInterval)
	c.cmd.Flag("location", "Name of the place this exporter probes from (label location); wins over global.location.").StringVar(&c.location)
	c.cmd.Flag("probe.max-concurrent", "Most probes running at once; further slots wait up to half their interval, then are skipped. 0 derives it from the schedule on every reload: twice the sum over targets of timeout/interval, at least 64.").Default("0").IntVar(&c.maxConcurrent)
	c.cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&c.metricsPath)
	c.web = kingpinflag.AddFlags(c.cmd, defaultListen)
	c.cmd.Flag("web.read-header-timeout", "Longest time to read a request's headers; slower clients are disconnected.").Default("10s").DurationVar(&c.limits.readHeaderTimeout)
	c.cmd.Flag("web.read-timeout", "Longest time to read a whole request, body included; slower clients are disconnected.").Default("30s").DurationVar(&c.limits.readTimeout)
	c.cmd.Flag("web.write-timeout", "Longest time to write an answer; /probe and /api/v1/check get their probe's timeout on top.").Default("60s").DurationVar(&c.limits.writeTimeout)
	c.cmd.Flag("web.idle-timeout", "How long an idle keep-alive connection stays open.").Default("2m").DurationVar(&c.limits.idleTimeout)
	c.cmd.Flag("web.max-connections", "Most connections open at once across all listen addresses; further ones wait in the kernel's backlog. 0 means no limit.").Default("512").IntVar(&c.limits.maxConnections)
	c.cmd.Flag("storage.path", "Directory of the durable deploy log.").Default("data").StringVar(&c.storagePath)
	c.cmd.Flag("deploy.token-file", "File of bearer tokens (one per line) that may POST /api/v1/deploys; read again for every POST, and while it cannot be read every POST is refused.").StringVar(&c.deployTokenFile)
	c.cmd.Flag("deploy.allow-unauthenticated", "Accept deploy POSTs without credentials when neither --deploy.token-file nor basic auth in --web.config.file is set.").BoolVar(&c.deployAllowUnauth)
	c.cmd.Flag("deploy.max-services", "Most services the deploy API may create (cardinality guard); services of configured targets are always admitted.").Default("500").IntVar(&c.deployMaxServices)
	c.cmd.Flag("metrics.phase-histograms", "Export http5xx_phase_duration_seconds (5 histograms per target); --no-metrics.phase-histograms drops them for very large fleets (README: Performance).").Default("true").BoolVar(&c.phaseHistograms)
	c.cmd.Flag("status.prefill-history", "For benchmarks: a target's first probe fills its whole status history.").Hidden().BoolVar(&c.prefillHistory)
	c.cmd.Flag("status.history", "Probes kept per target for the status page and /api/v1/status.").Default("120").IntVar(&c.statusHistory)
	c.cmd.Flag("adhoc.enable", "Serve /api/v1/check: one-off checks of URLs that are not targets, for `check URL --from` on other machines. Needs --adhoc.allow.").BoolVar(&c.adhoc.Enabled)
	c.cmd.Flag("adhoc.allow", "What ad-hoc checks may reach (repeatable): a host name, *.domain, an IP address or network, or * for any public host. Loopback, private and link-local addresses need a network entry; cloud metadata addresses are always refused.").PlaceHolder("PATTERN").StringsVar(&c.adhoc.Allow)
	c.cmd.Flag("adhoc.peer", "Another location's exporter, NAME=URL (repeatable): the status page's global checker (/check) asks its /api/v1/check. Needs --adhoc.enable.").PlaceHolder("NAME=URL").StringsVar(&c.adhocPeers.From)
	c.cmd.Flag("adhoc.peers.file", "File of other locations' exporters for the global checker: NAME=URL lines (user:password@ in a URL sets basic auth), or a YAML mapping of NAME: URL.").PlaceHolder("FILE").StringVar(&c.adhocPeers.File)
	c.cmd.Flag("deploy.max-events-per-service", "Deploy history kept per service.").Default("100").IntVar(&c.deployMaxPerService)
	c.cmd.Flag("shard.count", "Number of shards the configured targets are split into; every shard loads the same configuration and probes the targets a rendezvous hash of their name gives it.").Default("1").IntVar(&c.shardCount)
	c.cmd.Flag("shard.index", "This exporter's shard, 0 to --shard.count-1; a StatefulSet pod name such as http5xx-2 gives its ordinal, so --shard.index=$(POD_NAME) works.").Default("0").StringVar(&c.shardIndex)
	c.cmd.Flag("runtime.gogc", "The Go garbage collector's GOGC: lower keeps RSS closer to the live heap for some CPU (README: Performance); the GOGC environment variable wins; 0 keeps Go's default.").Default("50").IntVar(&c.rt.gogc)
	c.cmd.Flag("auto-gomemlimit", "Set GOMEMLIMIT to --auto-gomemlimit.ratio of the container's (cgroup's) memory limit, when there is one and the GOMEMLIMIT environment variable is unset.").Default("true").BoolVar(&c.rt.autoMemLimit)
	c.cmd.Flag("auto-gomemlimit.ratio", "Share of the container's memory limit GOMEMLIMIT is set to, in (0, 1].").Default("0.9").Float64Var(&c.rt.memLimitRatio)
	return c
}

func (c *serveCommand) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	if c.configCheck {
		return checkConfigFile(c.configFile, stdout, stderr)
	}
	logger.Info("starting http5xx_exporter", "version", version.Info(), "build_context", version.BuildContext())
	if err := c.rt.apply(logger); err != nil {
		logger.Error("bad runtime settings", "err", err)
		return 2
	}

	// SIGHUP is caught from here on: one sent during start-up waits in the
	// channel and reloads once serving, instead of killing the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	p, err := c.start(logger)
	defer p.close() // also what start built before it failed
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	st := p.shard.Status()
	logger.Info("configuration loaded", "file", c.configFile, "targets", len(p.exporter.Config().Targets), "location", p.exporter.Location(),
		"shard", st.Index, "shards", st.Count, "configured", st.Configured)
	handler, err := newHandler(p, c.metricsPath, c.limits.writeTimeout, logger)
	if err != nil {
		logger.Error("cannot build the web handlers", "err", err)
		return 1
	}
	return c.serve(ctx, logger, handler, p.reloader, hup, p.discovery.Changed())
}

// parts are what a serving exporter is made of.
type parts struct {
	registry   *prometheus.Registry
	saturation *saturation.Manager
	deploys    *deploy.Manager
	store      *status.Store
	exporter   *collector.Exporter
	reloader   *reload.Reloader
	discovery  *discovery.Manager
	adhoc      *adhoc.Checker
	shard      *shard.Selection
	// peers are the other locations the global checker asks, local the
	// name of this one.
	peers []fanout.Checker
	local string
}

// peerWait is how long the global checker waits for another location on
// top of the check's own timeout.
const peerWait = 5 * time.Second

// start builds the parts from the flags and the first configuration, which
// comes through the same pipeline as every reload. On error the parts hold
// what was built so far, for close.
func (c *serveCommand) start(logger *slog.Logger) (*parts, error) {
	p := &parts{registry: prometheus.NewRegistry()}
	p.registry.MustRegister(
		versioncollector.NewCollector("http5xx_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	sh, err := c.shard()
	if err != nil {
		return p, err
	}
	p.discovery = discovery.New(discovery.Options{
		Watch:     c.watchInterval,
		UserAgent: "http5xx_exporter/" + version.Version,
		Logger:    logger.With("component", "discovery"),
	})
	src := reload.Source{Path: c.configFile, Discover: p.discovery.Discover, Filter: sh.Filter}
	first, err := src.Load()
	if err != nil {
		return p, fmt.Errorf("loading the configuration: %w", err)
	}
	p.registry.MustRegister(p.discovery.Collector(collector.EffectiveLocation(c.location, first.Config)))
	p.shard = shard.NewSelection(sh, collector.EffectiveLocation(c.location, first.Config))
	p.registry.MustRegister(p.shard)
	p.saturation = saturation.NewManager(saturation.Options{
		Location: collector.EffectiveLocation(c.location, first.Config),
		Version:  version.Version,
		Logger:   logger.With("component", "saturation"),
	})
	p.registry.MustRegister(p.saturation.Collector())

	// The deploy API re-reads the web config on every POST, as exporter-toolkit
	// does, so removing basic auth there never leaves POST open; an unreadable
	// file is still refused at start.
	webConfig := ""
	if f := c.web.WebConfigFile; f != nil && *f != "" {
		webConfig = *f
		if _, err := deploy.WebConfigHasBasicAuth(webConfig); err != nil {
			return p, fmt.Errorf("web config %s: %w", webConfig, err)
		}
	}
	p.deploys, err = deploy.NewManager(deploy.Options{
		StoragePath:          c.storagePath,
		TokenFile:            c.deployTokenFile,
		AllowUnauthenticated: c.deployAllowUnauth,
		WebConfigFile:        webConfig,
		MaxServices:          c.deployMaxServices,
		MaxEventsPerService:  c.deployMaxPerService,
		Version:              version.Version,
		Logger:               logger.With("component", "deploy"),
	})
	if err != nil {
		return p, fmt.Errorf("opening the deploy store: %w", err)
	}
	p.registry.MustRegister(p.deploys.Collector())

	p.store = status.NewStore(c.statusHistory)
	if c.prefillHistory {
		p.store.Prefill()
	}
	p.exporter, err = collector.New(collector.Options{
		Location:          c.location,
		Version:           version.Version,
		MaxConcurrent:     c.maxConcurrent,
		NoPhaseHistograms: !c.phaseHistograms,
		Logger:            logger,
		Registerer:        p.registry,
		Sinks:             []collector.Sink{p.deploys, p.store, p.saturation},
		Followers:         []collector.TargetSetter{p.saturation, p.deploys, p.store},
	}, first.Config)
	if err != nil {
		return p, fmt.Errorf("starting to probe %s: %w", c.configFile, err)
	}
	p.reloader = reload.New(reload.Options{
		Source:  src,
		Engine:  p.exporter,
		Running: first,
		Hooks:   []reload.Hook{{Name: "deploy token file", Reload: p.deploys.ReloadTokens}},
		Applied: []func(reload.Loaded){func(l reload.Loaded) { p.shard.Record(l.Configured, len(l.Config.Targets)) }},
		Logger:  logger,
	})

	o := c.adhoc
	o.Timeout = adhocTimeout
	o.Location, o.Version, o.Config = p.exporter.Location(), version.Version, p.exporter.Config
	o.Logger = logger.With("component", "adhoc")
	if p.adhoc, err = adhoc.New(o); err != nil {
		return p, fmt.Errorf("ad-hoc checks: %w", err)
	}
	if p.peers, p.local, err = c.peers(p.exporter.Location()); err != nil {
		return p, fmt.Errorf("ad-hoc peers: %w", err)
	}
	return p, nil
}

// peers reads the other locations of the global checker; this one is
// named location, or "here" when the exporter has none.
func (c *serveCommand) peers(location string) ([]fanout.Checker, string, error) {
	local := location
	if local == "" {
		local = "here"
	}
	if !c.adhocPeers.Used() {
		return nil, local, nil
	}
	if !c.adhoc.Enabled {
		return nil, "", errors.New("--adhoc.peer and --adhoc.peers.file need --adhoc.enable: the global checker checks from here too")
	}
	locs, client, err := c.adhocPeers.Locations()
	if err != nil {
		return nil, "", err
	}
	peers := make([]fanout.Checker, len(locs))
	for i, l := range locs {
		if l.Name == local {
			return nil, "", fmt.Errorf("peer %q has this exporter's own location name", l.Name)
		}
		// One try: a person waits for the page, and a 429 is an answer.
		peers[i] = &fanout.Remote{Loc: l, Client: client, Wait: peerWait, Attempts: 1}
	}
	return peers, local, nil
}

// shard is this exporter's shard from --shard.index and --shard.count.
func (c *serveCommand) shard() (shard.Shard, error) {
	index, err := shard.ParseIndex(c.shardIndex)
	if err != nil {
		return shard.Shard{}, err
	}
	return shard.New(index, c.shardCount)
}

// close stops probing first, so nothing writes to the deploy log or the
// saturation pollers' state once they close.
func (p *parts) close() {
	if p.exporter != nil {
		p.exporter.Stop()
	}
	if p.deploys != nil {
		_ = p.deploys.Close()
	}
	if p.saturation != nil {
		p.saturation.Close()
	}
	if p.discovery != nil {
		p.discovery.Close()
	}
}

// serve runs the web server and the reload triggers (SIGHUP on hup, the
// file watcher, discovered changes) until ctx ends or the server fails.
func (c *serveCommand) serve(ctx context.Context, logger *slog.Logger, handler http.Handler, rl *reload.Reloader, hup <-chan os.Signal, discovered <-chan struct{}) int {
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: c.limits.readHeaderTimeout,
		ReadTimeout:       c.limits.readTimeout,
		WriteTimeout:      c.limits.writeTimeout,
		IdleTimeout:       c.limits.idleTimeout,
	}
	// Listening here rather than in web.ListenAndServe puts the connection
	// limit around the listeners; web.ServeMultiple still adds TLS and
	// basic auth from --web.config.file.
	listeners, err := listen(c.web, c.limits.maxConnections)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	logger.Info("web server limits", "read_header_timeout", c.limits.readHeaderTimeout, "read_timeout", c.limits.readTimeout,
		"write_timeout", c.limits.writeTimeout, "idle_timeout", c.limits.idleTimeout, "max_connections", c.limits.maxConnections)
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ServeMultiple(listeners, server, c.web, logger) }()
	if c.watchInterval > 0 {
		// Stopped and waited for on return, so the watcher never reloads
		// while the parts close.
		wctx, stop := context.WithCancel(ctx)
		watching := make(chan struct{})
		go func() {
			defer close(watching)
			rl.Watch(wctx, c.watchInterval)
		}()
		defer func() { stop(); <-watching }()
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
			_ = rl.Reload("SIGHUP")
		case <-discovered:
			_ = rl.Reload("discovery")
		}
	}
}
