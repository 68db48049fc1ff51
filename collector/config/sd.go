package config

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

// FileSDConfig is a Prometheus file_sd_config: files (globs, relative to
// the main file) holding lists of {targets, labels} in JSON or YAML.
type FileSDConfig struct {
	Files []string `yaml:"files"`
	// RefreshInterval re-reads the files even when they look unchanged;
	// changes are seen at --config.watch-interval.
	RefreshInterval model.Duration `yaml:"refresh_interval"`
}

// HTTPSDConfig is a Prometheus http_sd_config: a URL answering a JSON list
// of {targets, labels}, with the HTTP client settings of prometheus/common.
type HTTPSDConfig struct {
	URL             string         `yaml:"url"`
	RefreshInterval model.Duration `yaml:"refresh_interval"`
	// Timeout bounds one refresh (Prometheus uses the refresh interval).
	Timeout model.Duration `yaml:"timeout"`
	// BodySizeLimit bounds the answer; a larger one is a failed refresh.
	BodySizeLimit    ByteSize                `yaml:"body_size_limit"`
	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

// The defaults of the discovery configs. The refresh intervals are
// Prometheus'; the timeout and body limit bound what a broken or hostile
// inventory can hold.
const (
	DefaultFileSDRefreshInterval = model.Duration(5 * time.Minute)
	DefaultHTTPSDRefreshInterval = model.Duration(time.Minute)
	DefaultHTTPSDTimeout         = model.Duration(10 * time.Second)
	DefaultHTTPSDBodySizeLimit   = ByteSize(16 << 20)
)

// RelabelConfigs are Prometheus relabel_configs, applied to every
// discovered target (see collector/discovery for the labels they see and
// set).
type RelabelConfigs = []*relabel.Config

// applySDDefaults fills what the discovery configs left out; file paths
// are relative to the main file, as target_files are.
func (l *loader) applySDDefaults(cfg *Config, mainPath string) {
	dir := filepath.Dir(mainPath)
	for i := range cfg.FileSDConfigs {
		c, p := &cfg.FileSDConfigs[i], indexPath("file_sd_configs", i)
		if !l.main.has(p + ".refresh_interval") {
			c.RefreshInterval = DefaultFileSDRefreshInterval
		}
		for j, f := range c.Files {
			if f != "" && !filepath.IsAbs(f) {
				c.Files[j] = filepath.Join(dir, f)
			}
		}
	}
	for i := range cfg.HTTPSDConfigs {
		c, p := &cfg.HTTPSDConfigs[i], indexPath("http_sd_configs", i)
		if !l.main.has(p + ".refresh_interval") {
			c.RefreshInterval = DefaultHTTPSDRefreshInterval
		}
		if !l.main.has(p + ".timeout") {
			c.Timeout = min(DefaultHTTPSDTimeout, c.RefreshInterval)
		}
		if !l.main.has(p + ".body_size_limit") {
			c.BodySizeLimit = DefaultHTTPSDBodySizeLimit
		}
		if !l.main.has(p + ".follow_redirects") {
			c.HTTPClientConfig.FollowRedirects = true
		}
		if !l.main.has(p + ".enable_http2") {
			c.HTTPClientConfig.EnableHTTP2 = true
		}
		c.HTTPClientConfig.SetDirectory(dir)
	}
}

// validateSD checks the discovery configs and relabel_configs.
func (r report) validateSD(cfg *Config) {
	for i, c := range cfg.FileSDConfigs {
		p := indexPath("file_sd_configs", i)
		if len(c.Files) == 0 {
			r.errorf(p+".files", "must list at least one file or glob")
		}
		for j, f := range c.Files {
			if _, err := filepath.Match(f, ""); err != nil || f == "" {
				r.errorf(indexPath(p+".files", j), "%q is not a valid glob pattern", f)
			}
		}
		r.checkRefresh(p, c.RefreshInterval)
	}
	for i := range cfg.HTTPSDConfigs {
		c, p := &cfg.HTTPSDConfigs[i], indexPath("http_sd_configs", i)
		if c.URL == "" {
			r.errorf(p+".url", "must be set")
		} else {
			r.checkURL(p+".url", c.URL, "http", "https")
		}
		r.checkRefresh(p, c.RefreshInterval)
		if c.Timeout <= 0 {
			r.errorf(p+".timeout", "must be positive")
		} else if c.Timeout > c.RefreshInterval {
			r.errorf(p+".timeout", "%s is longer than refresh_interval %s", c.Timeout, c.RefreshInterval)
		}
		r.checkPositiveSize(p+".body_size_limit", c.BodySizeLimit)
		if err := c.HTTPClientConfig.Validate(); err != nil {
			r.errorf(p, "%v", err)
		}
	}
	for i, c := range cfg.RelabelConfigs {
		if c == nil {
			r.errorf(indexPath("relabel_configs", i), "must be a relabel config, not empty")
			continue
		}
		// Validate also sets the label name scheme relabelling checks
		// names with: UTF-8, as in Prometheus 3.
		if err := c.Validate(model.UTF8Validation); err != nil {
			r.errorf(indexPath("relabel_configs", i), "%v", err)
		}
	}
}

func (r report) checkRefresh(p string, d model.Duration) {
	if d < minInterval {
		r.errorf(p+".refresh_interval", "%s is shorter than %s", d, minInterval)
	}
}

// String names a discovery config in messages and logs, without secrets.
func (c *FileSDConfig) String() string { return fmt.Sprintf("file_sd %v", c.Files) }

// String names a discovery config in messages and logs, without secrets.
func (c *HTTPSDConfig) String() string { return "http_sd " + RedactURL(c.URL, nil) }
