package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "save the README's screenshots of the status page in docs/")

// screenshots are the README's pictures of the status page (paths relative
// to this package): a desktop and a phone.
var screenshots = []struct {
	path          string
	width, height int
}{
	{"../../docs/status-page.png", 1280, 900},
	{"../../docs/status-page-phone.png", 420, 900},
}

// checkScreenshot is the README's picture of the global checker, taken by
// TestGlobalCheckerInChromium.
const checkScreenshot = "../../docs/status-page-check.png"

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
type browserTarget struct {
	name, path, extra string
	state, text       string // data-state, and a cell text of the row
}

var browserScenario = []browserTarget{
	{name: "shop", path: "/", state: status.StateUp, text: "1.4.2", extra: "    version_header: X-App-Version\n"},
	{name: "checkout", path: "/status/500", state: status.StateDown, text: "checkout-team <span class=\"note default\">class default: app-team</span>", extra: "    owner: checkout-team\n    owners: {app: checkout-team}\n"},
	{name: "payments", path: "/status/502?as=nginx", state: status.StateDown, text: "proxy (nginx)"},
	{name: "search", path: "/status/503?retry_after=120", state: status.StateDown, text: "2 min",
		extra: "    saturation: {type: json, url: ORIGIN/saturation.json, field: workers.busy, max: 100, interval: 3s, timeout: 3s}\n"},
	{name: "reports", path: "/status/504?as=envoy", state: status.StateDown, text: "db-api-owners"},
	{name: "slow-api", path: "/delay/10s", state: status.StateDown, text: "no answer: timeout", extra: "    timeout: 500ms\n"},
	{name: "storefront", path: "/t/storefront", state: status.StateDegraded, text: "200", extra: "    service: shop\n"},
}

// TestStatusPageInChromium loads the status page of a real exporter probing
// the real demo origin in headless Chromium and checks what a person sees:
// the order, the filters with and without the script, no sideways scroll
// on a phone or a laptop, times in the reader's zone, the reload banner.
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
	dom := chromium(t, browser, nil, "--dump-dom", home)
	for _, want := range []string{
		"<caption>", `<th scope="col">Last code</th>`, "5 of 7 targets down", "1 degraded", "87% (json)",
		`href="./metrics"`, `href="./api/v1/status"`, `href="./-/healthy"`, `<p class="where">Location <strong>eu</strong></p>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered status page lacks %q", want)
		}
	}
	// Failing first, then degraded, then healthy; the configured order
	// within a state.
	var order []string
	for _, want := range []string{status.StateDown, status.StateDegraded, status.StateUp} {
		for _, s := range browserScenario {
			if s.state == want {
				order = append(order, s.name)
			}
		}
	}
	rows := regexp.MustCompile(`(?s)<tr class="state-[a-z]+" data-target="([^"]+)" data-state="([a-z]+)"[^>]*>(.*?)</tr>`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(browserScenario) {
		t.Fatalf("the rendered page has %d target rows, want %d:\n%s", len(rows), len(browserScenario), dom)
	}
	for i, name := range order {
		s := browserScenario[slices.IndexFunc(browserScenario, func(s browserTarget) bool { return s.name == name })]
		got, state, cells := rows[i][1], rows[i][2], rows[i][3]
		if got != s.name || state != s.state || !strings.Contains(cells, s.text) ||
			!strings.Contains(cells, ">"+strings.ToUpper(s.state)+"<") || !strings.Contains(cells, `<td data-label="Location">eu</td>`) {
			t.Errorf("row %d: %s %s, want %s %s with text %q, the state written out and the location:\n%s", i, got, state, s.name, s.state, s.text, cells)
		}
	}

	page := chromium(t, browser, nil, "--dump-dom", home+"targets/payments")
	for _, want := range []string{"<h1>payments", "FAILED", "proxy (nginx)", `<th scope="col">Processing</th>`, "← All targets"} {
		if !strings.Contains(page, want) {
			t.Errorf("the rendered target page lacks %q", want)
		}
	}

	h := newHarness(t, browser, e.addr)
	// Without JavaScript: the filter from the address, times in UTC.
	nojs := chromium(t, browser, nil, "--dump-dom", h.base+noScript+"?refresh=0&state=degraded")
	shownRows := regexp.MustCompile(`<tr class="state-[a-z]+" data-target="([^"]+)"[^>]*?( hidden="")?>`).FindAllStringSubmatch(nojs, -1)
	var visible []string
	for _, m := range shownRows {
		if m[2] == "" {
			visible = append(visible, m[1])
		}
	}
	if len(shownRows) != len(browserScenario) || !slices.Equal(visible, []string{"storefront"}) ||
		!strings.Contains(nojs, "<option selected=\"\">degraded</option>") || !regexp.MustCompile(`<time datetime="[^"]+Z" title="[^"]+ UTC">\d\d:\d\d:\d\d UTC</time>`).MatchString(nojs) {
		t.Errorf("without JavaScript, ?state=degraded: rows %v of %d, want storefront alone, the choice selected and times in UTC:\n%s", visible, len(shownRows), nojs)
	}

	t.Run("filter", func(t *testing.T) {
		// Each dimension, chosen in the form: the script filters at once
		// and the address keeps the filter.
		tests := []struct {
			key, value string
			want       []string
		}{
			{"state", "down", order[:5]},
			{"state", "degraded", []string{"storefront"}},
			{"class", "gateway", []string{"payments"}},
			{"class", "timeout", []string{"reports", "slow-api"}},
			{"team", "checkout-team", []string{"checkout"}},
			{"team", "db-api-owners", []string{"reports", "slow-api"}},
			{"service", "shop", []string{"storefront", "shop"}},
			{"location", "eu", order},
		}
		for _, tt := range tests {
			var got struct {
				Shown  []string
				Search string
				Count  string
			}
			h.run(t, "/?refresh=0", 1280, nil, `
				var s = d.querySelector('select[name="`+tt.key+`"]');
				s.value = `+strconv.Quote(tt.value)+`;
				s.dispatchEvent(new Event("change", {bubbles: true}));
				done({shown: visibleRows(d), search: w.location.search, count: d.getElementById("shown").textContent});`, &got)
			wantSearch := "?refresh=0&" + url.Values{tt.key: {tt.value}}.Encode()
			if !slices.Equal(got.Shown, tt.want) || got.Search != wantSearch {
				t.Errorf("%s=%s: rows %v at %s, want %v at %s", tt.key, tt.value, got.Shown, got.Search, tt.want, wantSearch)
			}
			if len(tt.want) < len(order) && got.Count != fmt.Sprintf("Showing %d of %d targets.", len(tt.want), len(order)) {
				t.Errorf("%s=%s: count %q", tt.key, tt.value, got.Count)
			}
			// The same filter from the address alone, as a link on a
			// pager opens it: the server hides the other rows.
			var linked struct{ Shown []string }
			h.run(t, "/"+wantSearch, 1280, nil, `done({shown: visibleRows(d)});`, &linked)
			if !slices.Equal(linked.Shown, tt.want) {
				t.Errorf("%s: rows %v, want %v", wantSearch, linked.Shown, tt.want)
			}
		}
	})

	t.Run("no sideways scroll", func(t *testing.T) {
		for _, path := range []string{"/?refresh=0", "/targets/payments?refresh=0"} {
			for _, width := range []int{420, 1280} {
				var got struct{ ScrollWidth, ClientWidth int }
				h.run(t, path, width, nil, `var e = d.scrollingElement; done({scrollWidth: e.scrollWidth, clientWidth: e.clientWidth});`, &got)
				t.Logf("%s at %d px: scrollWidth %d, clientWidth %d", path, width, got.ScrollWidth, got.ClientWidth)
				if got.ClientWidth == 0 || got.ScrollWidth > got.ClientWidth {
					t.Errorf("%s at %d px: scrollWidth %d > clientWidth %d", path, width, got.ScrollWidth, got.ClientWidth)
				}
			}
		}
	})

	t.Run("local time with UTC on hover", func(t *testing.T) {
		for _, zone := range []string{"Asia/Kolkata", "America/St_Johns"} {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			var got []struct{ DateTime, Text, Title string }
			h.run(t, "/targets/payments?refresh=0", 1280, []string{"TZ=" + zone}, `
				done(Array.from(d.querySelectorAll("time[datetime]")).map(function (e) {
					return {dateTime: e.dateTime, text: e.textContent, title: e.title};
				}));`, &got)
			if len(got) < 3 {
				t.Fatalf("%s: %d times on the target page", zone, len(got))
			}
			for _, tm := range got {
				at, err := time.Parse(time.RFC3339Nano, tm.DateTime)
				if err != nil {
					t.Fatal(err)
				}
				local := at.In(loc)
				if (tm.Text != local.Format("15:04:05") && tm.Text != local.Format("2006-01-02 15:04:05")) || tm.Title != at.UTC().Format("2006-01-02 15:04:05 UTC") {
					t.Errorf("%s: <time datetime=%s title=%q>%s</time>, want %s local and UTC in the title", zone, tm.DateTime, tm.Title, tm.Text, local.Format("15:04:05"))
				}
			}
		}
	})

	// Last: a reload that fails leaves the running targets and puts up the
	// banner.
	t.Run("banner after a failed reload", func(t *testing.T) {
		writeConfig(t, cfg, "global:\n  interval: 1s\ntargets:\n  - name: broken\n    url: not a url\n")
		if code, body := e.post("/-/reload"); code != http.StatusInternalServerError {
			t.Fatalf("POST /-/reload of a broken file = %d %s", code, body)
		}
		var got struct {
			Banner string
			Rows   int
		}
		h.run(t, "/?refresh=0", 420, nil, `var b = d.querySelector(".banner");
			done({banner: b ? b.innerText : "", rows: visibleRows(d).length});`, &got)
		if !strings.Contains(got.Banner, "The last configuration reload failed") || !strings.Contains(got.Banner, "http5xx.yml:5") ||
			got.Rows != len(browserScenario) {
			t.Errorf("after a failed reload: banner %q, %d rows", got.Banner, got.Rows)
		}
	})
}

// TestGlobalCheckerInChromium fills in the status page's global checker in
// headless Chromium on an exporter (eu) whose peers (us, ap) are real
// exporters on loopback: a URL that only us sees fail is LOCAL, with the raw
// code of every location; a refused URL is refused before any location is
// asked, as /api/v1/check refuses it.
func TestGlobalCheckerInChromium(t *testing.T) {
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
	put(t, origin+"/-/control/checkme", `{"status":200,"locations":{"us":{"status":502,"as":"nginx"}}}`)
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, "targets:\n  - name: shop\n    url: "+origin+"/\n")
	adhocFlags := []string{"--config.file=" + cfg, "--adhoc.enable", "--adhoc.allow=127.0.0.1"}
	us := startExporter(t, append(adhocFlags, "--location=us")...)
	ap := startExporter(t, append(adhocFlags, "--location=ap")...)
	e := startExporter(t, append(adhocFlags, "--location=eu", "--adhoc.peer=us=http://"+us.addr, "--adhoc.peer=ap=http://"+ap.addr)...)
	h := newHarness(t, browser, e.addr)

	type cell struct{ Location, Code, Outcome string }
	var got struct {
		Verdict string
		Cells   []cell
		Search  string
	}
	target := origin + "/t/checkme"
	h.run(t, "/check", 420, nil, `
		d.getElementById("url").value = `+strconv.Quote(target)+`;
		frame.addEventListener("load", function () {
			var d = frame.contentDocument;
			done({
				verdict: d.querySelector(".verdict").innerText,
				search: frame.contentWindow.location.search,
				cells: Array.from(d.querySelectorAll("tr[data-location]")).map(function (r) {
					return {location: r.getAttribute("data-location"), code: r.querySelector(".code").innerText,
						outcome: r.querySelector(".badge").innerText};
				}),
			});
		}, {once: true});
		d.querySelector("form.check button").click();`, &got)
	want := []cell{{"eu", "200", "OK"}, {"us", "502", "FAILED"}, {"ap", "200", "OK"}}
	if !slices.Equal(got.Cells, want) || !strings.HasPrefix(got.Verdict, "LOCAL fails only from us") {
		t.Errorf("checked %s: %q, %+v; want LOCAL and %+v", target, got.Verdict, got.Cells, want)
	}
	if wantSearch := "?" + (url.Values{"url": {target}, "valid_status_codes": {""}}).Encode(); got.Search != wantSearch {
		t.Errorf("the result's address %q is not a link to the same check", got.Search)
	}
	for _, width := range []int{420, 1280} {
		var sw struct{ ScrollWidth, ClientWidth int }
		h.run(t, "/check?url="+url.QueryEscape(target), width, nil, `var e = d.scrollingElement; done({scrollWidth: e.scrollWidth, clientWidth: e.clientWidth});`, &sw)
		t.Logf("/check with results at %d px: scrollWidth %d, clientWidth %d", width, sw.ScrollWidth, sw.ClientWidth)
		if sw.ClientWidth == 0 || sw.ScrollWidth > sw.ClientWidth {
			t.Errorf("/check at %d px: scrollWidth %d > clientWidth %d", width, sw.ScrollWidth, sw.ClientWidth)
		}
	}

	// The README's picture of the checker (saved with -update-screenshot).
	shot := filepath.Join(t.TempDir(), "status-page-check.png")
	if *updateScreenshot || os.Getenv("UPDATE_SCREENSHOT") == "1" {
		shot = checkScreenshot
	}
	chromium(t, browser, nil, "--screenshot="+shot, "--window-size=1280,560", "--hide-scrollbars", "http://"+e.addr+"/check?url="+url.QueryEscape(target))
	if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s: %v", shot, err)
	}

	// Refused here, by the same allow-list as /api/v1/check: no location
	// is asked.
	code, body := e.get("/check?url=" + url.QueryEscape("http://169.254.169.254/latest/meta-data/"))
	if code != http.StatusForbidden || !strings.Contains(body, "cloud metadata address") || strings.Contains(body, `data-location="us"`) {
		t.Errorf("a metadata URL: %d\n%s", code, body)
	}
	if strings.Contains(us.logs.String(), "169.254.169.254") || strings.Contains(ap.logs.String(), "169.254.169.254") {
		t.Error("a peer was asked to check a URL this exporter refuses")
	}
}

// TestMakeRunScreenshot takes the README's picture of the status page from
// what `make run` shows: the example config against the demo origin, with
// the flags make run passes, at a desktop's and a phone's width.
// -update-screenshot (or UPDATE_SCREENSHOT=1) saves them in docs/.
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

	for _, shot := range screenshots {
		path := filepath.Join(t.TempDir(), filepath.Base(shot.path))
		if *updateScreenshot || os.Getenv("UPDATE_SCREENSHOT") == "1" {
			if err := os.MkdirAll(filepath.Dir(shot.path), 0o755); err != nil {
				t.Fatal(err)
			}
			path = shot.path
		}
		chromium(t, browser, nil, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", shot.width, shot.height), "--hide-scrollbars", "http://"+e.addr+"/")
		png, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
			t.Errorf("screenshot %s: %d bytes, %v; want a PNG of the page", path, len(png), err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// chromium runs headless Chromium with args (and env on top of the test's
// environment) and returns its standard output.
func chromium(t *testing.T, browser string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	cmd.Env = append(os.Environ(), env...)
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

// harness runs scripts against the exporter's pages in a real browser: a
// loopback server proxies the exporter and serves, on the same origin, a
// page that loads one exporter page in an iframe of a given width, runs a
// script against it once loaded and writes the script's answer as JSON
// into the DOM that chromium --dump-dom prints.
type harness struct {
	browser string
	base    string
}

func newHarness(t *testing.T, browser, exporterAddr string) *harness {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: exporterAddr})
	// Under noScript the exporter's pages come with a policy that blocks
	// their scripts: the page as a browser without JavaScript shows it.
	blocked := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: exporterAddr})
	blocked.ModifyResponse = func(resp *http.Response) error {
		resp.Header.Set("Content-Security-Policy", "script-src 'none'")
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, noScript); ok {
			r.URL.Path = "/" + rest
			blocked.ServeHTTP(w, r)
			return
		}
		if r.URL.Path != "/__harness" {
			proxy.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, harnessPage, q.Get("width"), html.EscapeString(q.Get("path")), q.Get("script"))
	}))
	t.Cleanup(srv.Close)
	return &harness{browser: browser, base: srv.URL}
}

// noScript prefixes a path of the harness whose pages run no script.
const noScript = "/__noscript/"

// harnessPage takes the iframe's width, its src and the script, which sees
// the frame's window w and document d and calls done(answer).
const harnessPage = `<!DOCTYPE html>
<html><body style="margin:0">
<iframe id="frame" style="width:%spx;height:900px;border:0" src="%s"></iframe>
<pre id="answer"></pre>
<script>
function done(v) { document.getElementById("answer").textContent = JSON.stringify(v); }
function visibleRows(d) {
  return Array.from(d.querySelectorAll("tr[data-target]")).filter(function (r) { return r.getClientRects().length > 0; })
    .map(function (r) { return r.getAttribute("data-target"); });
}
var frame = document.getElementById("frame");
frame.addEventListener("load", function () {
  var w = frame.contentWindow, d = frame.contentDocument;
  try { %s } catch (e) { done({error: String(e)}); }
}, {once: true});
</script>
</body></html>`

// run loads path in a frame width pixels wide, runs script and decodes its
// answer into out.
func (h *harness) run(t *testing.T, path string, width int, env []string, script string, out any) {
	t.Helper()
	q := url.Values{"path": {path}, "width": {strconv.Itoa(width)}, "script": {script}}
	dom := chromium(t, h.browser, env, "--dump-dom", "--virtual-time-budget=10000", h.base+"/__harness?"+q.Encode())
	m := regexp.MustCompile(`(?s)<pre id="answer">(.*?)</pre>`).FindStringSubmatch(dom)
	if m == nil || m[1] == "" {
		t.Fatalf("the script against %s answered nothing:\n%s", path, dom)
	}
	answer := html.UnescapeString(m[1])
	if strings.HasPrefix(answer, `{"error"`) {
		t.Fatalf("the script against %s failed: %s", path, answer)
	}
	if err := json.Unmarshal([]byte(answer), out); err != nil {
		t.Fatalf("the script against %s: %v: %s", path, err, answer)
	}
}
