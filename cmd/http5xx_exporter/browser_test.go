package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "save the browser test's screenshot as docs/status-page.png")

// screenshotPath is where the README's picture of the status page lives,
// relative to this package.
const screenshotPath = "../../docs/status-page.png"

// findChromium returns the Chromium binary, or "" when there is none. The
// CHROMIUM environment variable names another one (a Chrome elsewhere).
func findChromium() string {
	names := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if env := os.Getenv("CHROMIUM"); env != "" {
		names = []string{env}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserScenario is what the browser test makes the demo origin do, and
// the state the status page must then show for each target.
var browserScenario = []struct {
	name, path, extra string
	state, text       string // data-state, and a cell text of the row
}{
	{name: "shop", path: "/", state: status.StateUp, text: "1.4.2", extra: "    version_header: X-App-Version\n"},
	{name: "checkout", path: "/status/500", state: status.StateDown, text: "app-team"},
	{name: "payments", path: "/status/502?as=nginx", state: status.StateDown, text: "proxy (nginx)"},
	{name: "search", path: "/status/503?retry_after=120", state: status.StateDown, text: "2 min",
		extra: "    saturation: {type: json, url: ORIGIN/saturation.json, field: workers.busy, max: 100, interval: 3s, timeout: 3s}\n"},
	{name: "reports", path: "/status/504?as=envoy", state: status.StateDown, text: "db-api-owners"},
	{name: "slow-api", path: "/delay/10s", state: status.StateDown, text: "no answer: timeout", extra: "    timeout: 500ms\n"},
	{name: "storefront", path: "/t/storefront", state: status.StateDegraded, text: "200"},
}

// TestStatusPageInChromium loads the status page of a real exporter probing
// the real demo origin in headless Chromium, checks what a person sees, and
// takes the README's screenshot (saved with -update-screenshot or
// UPDATE_SCREENSHOT=1).
func TestStatusPageInChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		msg := "\n" + strings.Repeat("*", 72) + "\n" +
			"*  Chromium is not installed: the status page browser test cannot run.\n" +
			"*  Install Debian's package to run it: apt-get install -y chromium\n" +
			strings.Repeat("*", 72)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "\nCI=true: the browser test must run in CI (.ci/run installs chromium)")
		}
		t.Log(msg)
		t.Skip("SKIPPED: chromium is not installed")
	}
	if testing.Short() {
		t.Skip("builds the demo origin and starts a browser")
	}

	origin := startDemoOrigin(t)
	var yml strings.Builder
	// Only slow-api may time out: on a loaded machine a loopback answer can
	// take longer than half a second, and one timeout of a healthy target
	// makes it degraded (or changes a failing one's class).
	yml.WriteString("global:\n  interval: 3s\n  timeout: 3s\ntargets:\n")
	for _, s := range browserScenario {
		fmt.Fprintf(&yml, "  - name: %s\n    url: %s%s\n%s", s.name, origin, s.path, strings.ReplaceAll(s.extra, "ORIGIN", origin))
	}
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, yml.String())
	put(t, origin+"/-/saturation", `{"active":87,"max":100}`)
	// storefront fails first, then recovers: degraded for five minutes.
	put(t, origin+"/-/control/storefront", `{"status":502,"as":"cloudflare"}`)
	e := startExporter(t, "--config.file="+cfg, "--location=eu", "--storage.path="+t.TempDir())
	e.waitFor("storefront to fail once", func() bool { return lastCode(e, "storefront") == 502 })
	put(t, origin+"/-/control/storefront", `{"status":200}`)
	// A deploy of shop, detected from X-App-Version once the first version
	// is the baseline.
	e.waitFor("shop's first version", func() bool { return lastCode(e, "shop") == 200 })
	put(t, origin+"/-/version", `{"version":"1.4.2"}`)
	e.waitFor("every target to reach its state", func() bool {
		d := e.status()
		if len(d.Targets) != len(browserScenario) {
			return false
		}
		for i, s := range browserScenario {
			ts := d.Targets[i]
			if ts.State != s.state || s.name == "search" && ts.Saturation == nil || s.name == "shop" && ts.LastDeploy == nil {
				return false
			}
		}
		return true
	})

	home := "http://" + e.addr + "/"
	dom := chromium(t, browser, "--dump-dom", home)
	for _, want := range []string{
		"<caption>", `<th scope="col">Last code</th>`, "5 of 7 targets down", "1 degraded", "87% (json)",
		`href="./metrics"`, `href="./api/v1/status"`, `href="./-/healthy"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered status page lacks %q", want)
		}
	}
	rows := regexp.MustCompile(`(?s)<tr class="state-[a-z]+" data-target="([^"]+)" data-state="([a-z]+)">(.*?)</tr>`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(browserScenario) {
		t.Fatalf("the rendered page has %d target rows, want %d:\n%s", len(rows), len(browserScenario), dom)
	}
	for i, s := range browserScenario {
		name, state, cells := rows[i][1], rows[i][2], rows[i][3]
		if name != s.name || state != s.state || !strings.Contains(cells, s.text) ||
			!strings.Contains(cells, ">"+strings.ToUpper(s.state)+"<") {
			t.Errorf("row %d: %s %s, want %s %s with text %q and the state written out:\n%s", i, name, state, s.name, s.state, s.text, cells)
		}
	}

	page := chromium(t, browser, "--dump-dom", home+"targets/payments")
	for _, want := range []string{"<h1>payments", "FAILED", "proxy (nginx)", `<th scope="col">Processing</th>`, "← All targets"} {
		if !strings.Contains(page, want) {
			t.Errorf("the rendered target page lacks %q", want)
		}
	}

}

// TestMakeRunScreenshot takes the README's picture of the status page from
// what `make run` shows: the example config against the demo origin, with
// the flags make run passes. -update-screenshot (or UPDATE_SCREENSHOT=1)
// saves it as docs/status-page.png.
func TestMakeRunScreenshot(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: the browser test must run in CI (.ci/run installs chromium)")
		}
		t.Skip("SKIPPED: chromium is not installed")
	}
	if testing.Short() {
		t.Skip("builds the demo origin and starts a browser")
	}
	origin := startDemoOrigin(t)
	example, err := os.ReadFile("../../examples/http5xx.yml")
	if err != nil {
		t.Fatal(err)
	}
	// What make run does: the example config pointed at the origin's port.
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, strings.ReplaceAll(string(example), "http://127.0.0.1:10506", origin))
	e := startExporter(t, "--config.file="+cfg, "--storage.path="+t.TempDir(), "--deploy.allow-unauthenticated")
	e.waitFor("every example target probed", func() bool {
		d := e.status()
		if len(d.Targets) == 0 {
			return false
		}
		for _, ts := range d.Targets {
			if ts.LastProbe == nil {
				return false
			}
		}
		return true
	})

	shot := filepath.Join(t.TempDir(), "status-page.png")
	if *updateScreenshot || os.Getenv("UPDATE_SCREENSHOT") == "1" {
		if err := os.MkdirAll(filepath.Dir(screenshotPath), 0o755); err != nil {
			t.Fatal(err)
		}
		shot = screenshotPath
	}
	chromium(t, browser, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars", "http://"+e.addr+"/")
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("screenshot %s: %d bytes, %v; want a PNG of the page", shot, len(png), err)
	}
	t.Logf("screenshot: %s", shot)
}

// chromium runs headless Chromium with args and returns its standard output.
func chromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// startDemoOrigin builds and starts cmd/demo-origin on loopback and returns
// its base URL.
func startDemoOrigin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo-origin")
	// go test puts its own toolchain first on PATH.
	build := exec.Command("go", "build", "-o", bin, "github.com/http5xx/http5xx_exporter/cmd/demo-origin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the demo origin: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--web.listen-address="+addr, "--log.level=warn")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("demo origin log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/ok")
		if err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo origin did not come up on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func put(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s = %d", url, resp.StatusCode)
	}
}

// status fetches the exporter's /api/v1/status.
func (e *exporterUnderTest) status() status.Document {
	var d status.Document
	code, body := e.get(status.APIPath)
	if _, err := api.Decode(code, []byte(body), &d); err != nil {
		e.t.Logf("%s: %v", status.APIPath, err)
	}
	return d
}

func lastCode(e *exporterUnderTest, target string) int {
	for _, ts := range e.status().Targets {
		if ts.Name == target && ts.LastProbe != nil {
			return ts.LastProbe.Code
		}
	}
	return -1
}
