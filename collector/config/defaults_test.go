package config_test

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// The side channels' settings come out of Load complete: the saturation
// poller and the version poller apply no default of their own.
func TestSideChannelDefaults(t *testing.T) {
	d := func(x time.Duration) model.Duration { return model.Duration(x) }
	const sat = "saturation: {type: json, url: 'http://a/s', field: n, max: 1"
	for _, tc := range []struct {
		name, keys string
		wantSat    config.Saturation // Interval, Timeout, BodySizeLimit
		wantPoll   config.VersionPoll
	}{
		{
			name:     "nothing set",
			keys:     sat + "}",
			wantSat:  config.Saturation{Interval: config.DefaultInterval, Timeout: config.DefaultTimeout, BodySizeLimit: 256 << 10},
			wantPoll: config.VersionPoll{Interval: 30 * time.Second, Timeout: 10 * time.Second, BodySizeLimit: 256 << 10},
		},
		{
			name:     "the target's timing",
			keys:     "interval: 7s\n    timeout: 3s\n    " + sat + "}",
			wantSat:  config.Saturation{Interval: d(7 * time.Second), Timeout: d(3 * time.Second), BodySizeLimit: 256 << 10},
			wantPoll: config.VersionPoll{Interval: 7 * time.Second, Timeout: 3 * time.Second, BodySizeLimit: 256 << 10},
		},
		{
			name:     "a long probe timeout does not stretch a version poll",
			keys:     "interval: 1m\n    timeout: 45s\n    " + sat + ", interval: 20s, timeout: 2s, body_size_limit: 1KiB}",
			wantSat:  config.Saturation{Interval: d(20 * time.Second), Timeout: d(2 * time.Second), BodySizeLimit: 1 << 10},
			wantPoll: config.VersionPoll{Interval: time.Minute, Timeout: 10 * time.Second, BodySizeLimit: 256 << 10},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadTarget(t, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			tg := &cfg.Targets[0]
			s := tg.Saturation
			if got := (config.Saturation{Interval: s.Interval, Timeout: s.Timeout, BodySizeLimit: s.BodySizeLimit}); got != tc.wantSat {
				t.Errorf("saturation %+v, want %+v", got, tc.wantSat)
			}
			if got := tg.VersionPoll(); got != tc.wantPoll {
				t.Errorf("version poll %+v, want %+v", got, tc.wantPoll)
			}
		})
	}
}
