package examples

import (
	"fmt"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/discovery"
)

// TestDiscoveryExample: the service discovery example yields the targets
// its comments promise.
func TestDiscoveryExample(t *testing.T) {
	cfg, err := config.Load("discovery/http5xx.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := discovery.New(discovery.Options{})
	defer m.Close()
	got, err := m.Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, tg := range got.Targets {
		lines = append(lines, fmt.Sprintf("%s %s service=%s owner=%s teams=%v labels=%v", tg.Name, tg.URL, tg.Service, tg.Owner, tg.Teams, tg.Labels))
	}
	want := []string{
		"api.api.example.com https://api.example.com/ service=api owner=api-team teams=[{app api-team app-team}] labels=map[tier:silver]",
		"shop.web-1.shop.example.com http://web-1.shop.example.com:8080/healthz service=shop owner=web-team teams=[] labels=map[tier:gold]",
		"shop.web-2.shop.example.com http://web-2.shop.example.com:8080/healthz service=shop owner=web-team teams=[] labels=map[tier:gold]",
	}
	if g, w := strings.Join(lines, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("targets:\n%s\nwant:\n%s", g, w)
	}
}
