package status

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
)

// CheckPath is the global status checker: a URL checked from every
// location at once.
const CheckPath = "/check"

// Checker configures the global status checker page. The page answers 404
// unless ad-hoc checks are on and there are peers.
type Checker struct {
	// Adhoc is this exporter's ad-hoc checker: its Admit guards the page
	// exactly as it guards /api/v1/check (allow-list, rate limit), and it
	// runs this location's check.
	Adhoc *adhoc.Checker
	// Local names this location; Peers are the other locations, asked
	// through their /api/v1/check (fanout.Remote), where their own guards
	// apply.
	Local string
	Peers []fanout.Checker
	// Timeout bounds each location's check; 0 means 10s.
	Timeout time.Duration
}

func (c *Checker) enabled() bool {
	return c != nil && c.Adhoc != nil && c.Adhoc.Enabled() && len(c.Peers) > 0
}

// checkView is what check.html shows.
type checkView struct {
	URL, Valid string
	Locations  []string
	Error      string // why the check was refused
	Done       bool
	Verdict    string // OK, LOCAL, ...
	Summary    string
	Cells      []checkCell
}

type checkCell struct {
	Location string
	Answered bool
	OK       bool
	Code     string // the raw status code, or why there was none
	Class    string
	Owner    string
	Layer    string
	Total    string
	Error    string
}

// Check is the checker page's handler, for a handler tree that mounts every
// route itself, at "GET "+CheckPath.
func (h *Handler) Check() http.Handler { return http.HandlerFunc(h.serveCheck) }

func (h *Handler) serveCheck(w http.ResponseWriter, r *http.Request) {
	c := h.o.Checker
	if !c.enabled() {
		http.Error(w, "the global status checker is off: it needs ad-hoc checks (--adhoc.enable, --adhoc.allow) and the other locations (--adhoc.peer)", http.StatusNotFound)
		return
	}
	now := h.o.Now()
	p := h.newPage(r, "Global check · http5xx status", "./", now)
	p.Refresh, p.Paused = 0, false // a check is run on request, never by a reload
	q := r.URL.Query()
	v := &checkView{URL: q.Get("url"), Valid: q.Get("valid_status_codes"), Locations: []string{c.Local}}
	for _, peer := range c.Peers {
		v.Locations = append(v.Locations, peer.Location())
	}
	p.Check = v
	code := http.StatusOK
	if v.URL != "" {
		req, refusal := c.Adhoc.Admit(q, r.RemoteAddr)
		if refusal != nil {
			refusal.WriteHeader(w)
			v.Error, code = refusal.Msg, refusal.Code
		} else {
			timeout := c.Timeout
			if timeout <= 0 {
				timeout = 10 * time.Second
			}
			if req.Timeout > 0 && req.Timeout < timeout {
				timeout = req.Timeout
			}
			from := append([]fanout.Checker{&fanout.Local{Name: c.Local, Checker: c.Adhoc}}, c.Peers...)
			res := fanout.CheckAll(r.Context(), []string{req.URL}, req.ValidText, timeout, from)[0]
			// The badge says the verdict; the sentence need not again.
			v.Done, v.Verdict, v.Summary = true, res.Verdict, strings.TrimPrefix(res.Summary, res.Verdict+": ")
			for _, cell := range res.Results {
				v.Cells = append(v.Cells, viewCheckCell(&cell))
			}
		}
	}
	h.renderCode(w, code, "check.html", p)
}

func viewCheckCell(c *fanout.Cell) checkCell {
	cc := checkCell{Location: c.Location, Code: "no answer", Class: "—", Owner: "—", Layer: "—", Total: "—", Error: c.Error}
	rep := c.Report
	if rep == nil {
		return cc
	}
	cc.Answered, cc.OK = true, rep.OK
	cc.Code = fmt.Sprint(rep.Code)
	if rep.Reason != "" {
		cc.Code = "no answer: " + strings.ReplaceAll(rep.Reason, "_", " ")
	}
	cc.Class, cc.Owner = dash(rep.Class), dash(rep.Owner)
	if rep.Layer != "" && rep.Layer != "unknown" {
		cc.Layer = strings.ReplaceAll(rep.Layer, "_", " ")
		if rep.Product != "" && rep.Product != "unknown" {
			cc.Layer += " (" + rep.Product + ")"
		}
	}
	cc.Total = fmtSeconds(rep.Seconds)
	cc.Error = rep.Error
	return cc
}
