package status

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

// BadgePathPrefix is where badges are served: BadgePathPrefix + NAME.svg.
const BadgePathPrefix = "/badge/"

// DefaultBadgeWindow is the uptime window of a badge without ?window=.
const DefaultBadgeWindow = 24 * time.Hour

// maxBadgeText bounds each half of a badge's text in characters.
const maxBadgeText = 64

// Badge colours (the flat style READMEs are used to).
const (
	colourUp       = "#4c1"
	colourDegraded = "#dfb317"
	colourDown     = "#e05d44"
	colourGrey     = "#9f9f9f"
	colourLabel    = "#555"
)

// Badge serves BadgePathPrefix + "{file}": an SVG badge of a configured
// target with its state and its uptime (the share of kept probes that
// succeeded) over ?window= (default 24h), for READMEs and wikis. The window
// is what the status history holds at most (--status.history probes): past
// that the badge names the span it really covers. An unknown target or a
// bad window is a grey badge saying so, with 404 or 400. The badge is
// self-contained (no external fonts, images or scripts) and every text is
// XML-escaped.
func (h *Handler) Badge() http.Handler { return http.HandlerFunc(h.serveBadge) }

func (h *Handler) serveBadge(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, isSVG := strings.CutSuffix(file, ".svg")
	if !isSVG || name == "" {
		writeBadge(w, r, http.StatusNotFound, "badge", "NAME.svg", colourGrey)
		return
	}
	now := h.o.Now()
	window := DefaultBadgeWindow
	if v := r.URL.Query().Get("window"); v != "" {
		d, err := model.ParseDuration(v)
		if err != nil || d <= 0 {
			writeBadge(w, r, http.StatusBadRequest, name, "bad window", colourGrey)
			return
		}
		window = time.Duration(d)
	}
	snap, ok := h.o.Store.Snapshot(name)
	if !ok {
		writeBadge(w, r, http.StatusNotFound, name, "unknown target", colourGrey)
		return
	}
	u := uptimeOf(&snap, now, window, h.o.Store.Capacity())
	st := h.targetStatus(&snap, now, false).State // the status page's state
	colour := map[string]string{StateUp: colourUp, StateDegraded: colourDegraded, StateDown: colourDown}[st]
	if colour == "" {
		colour = colourGrey
	}
	text := st
	if u.probes > 0 {
		text = fmt.Sprintf("%s · %s %s", st, percent(u.ok, u.probes), shortDuration(u.span))
	}
	writeBadge(w, r, http.StatusOK, name, text, colour)
}

// uptime is how many kept probes of a window succeeded, and the span the
// history really covers.
type uptime struct {
	probes, ok int
	span       time.Duration
}

// uptimeOf counts the probes that ended within window before now. When the
// history is full and its oldest probe is inside the window, probes before
// it are gone: the span is cut to what is held.
func uptimeOf(s *Snapshot, now time.Time, window time.Duration, capacity int) uptime {
	u := uptime{span: window}
	from := now.Add(-window)
	for i := range s.History {
		smp := &s.History[i]
		if smp.End().Before(from) {
			return u // newest first: the window is covered
		}
		u.probes++
		if smp.Success {
			u.ok++
		}
	}
	if n := len(s.History); n > 0 && n >= capacity {
		u.span = max(time.Minute, now.Sub(s.History[n-1].Start))
	}
	return u
}

// percent writes ok/n as a percentage with at most two decimals, never
// rounding a failure up to 100%.
func percent(ok, n int) string {
	if ok == n {
		return "100%"
	}
	p := float64(ok) * 100 / float64(n)
	p = float64(int(p*100)) / 100 // truncate: 99.999 is 99.99, not 100
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")
	return s + "%"
}

// shortDuration writes d the way a badge shows it: 24h, 7d, 90m.
func shortDuration(d time.Duration) string {
	return model.Duration(d.Round(time.Minute)).String()
}

// writeBadge answers code with a badge of label and text, cacheable only
// after revalidation (it changes with every probe).
func writeBadge(w http.ResponseWriter, r *http.Request, code int, label, text, colour string) {
	body := badgeSVG(label, text, colour)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml; charset=utf-8")
	h.Set("Cache-Control", "no-cache, max-age=0")
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened on its own, the SVG may run nothing and load nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if code == http.StatusOK && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// textWidth estimates the width of s in Verdana 11px, the badge font, well
// enough to size the boxes; narrow and wide glyphs are told apart.
func textWidth(s string) int {
	w := 0.0
	for _, c := range s {
		switch {
		case strings.ContainsRune("iljtfI.,:;|!' ", c):
			w += 3.5
		case strings.ContainsRune("mwMW%@", c):
			w += 10
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			w += 7.5
		default:
			w += 6.5
		}
	}
	return int(w + 0.5)
}

// cut shortens s to maxBadgeText characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxBadgeText {
		return s
	}
	r := []rune(s)
	return string(r[:maxBadgeText-1]) + "…"
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to a buffer: no error
	return b.String()
}

// badgeSVG draws a flat two-part badge: label on grey, text on colour.
func badgeSVG(label, text, colour string) []byte {
	label, text = cut(label), cut(text)
	lw, tw := textWidth(label)+10, textWidth(text)+10
	total := lw + tw
	l, t := escape(label), escape(text)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, total, l, t)
	fmt.Fprintf(&b, `<title>%s: %s</title>`, l, t)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, total)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="%s"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, colourLabel, lw, tw, colour, total)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	for _, part := range []struct {
		x    int
		text string
	}{{lw / 2, l}, {lw + tw/2, t}} {
		fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, part.x, part.text, part.x, part.text)
	}
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}
