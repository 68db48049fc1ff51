// Package probe runs one HTTP probe of a configured target and records what
// the exchange showed in a Result: the status code or the reason there was
// no answer, the duration of each phase, the headers and the first bytes of
// a 5xx body. Its triage.Finisher then finishes the Result (class, owner,
// layer, product, first move), so every caller gets a complete one.
//
// Phases come from net/http/httptrace: resolve (DNSStart to DNSDone), connect
// (first ConnectStart to the first successful ConnectDone), tls (handshake),
// processing (request written to first response byte) and transfer (first
// byte to the end of the body read). With redirects they are the phases of
// the final hop. A phase cut short by the timeout lasts until the probe gave
// up, so the phases of a failed probe show where the time went.
//
// Each probe uses a fresh connection unless the target sets keep_alive, so
// resolve, connect and tls are measured as a new visitor sees them.
//
// A plain http:// target without proxy, credentials or keep_alive is probed
// on the lean client (lean.go): the probe's goroutine dials, writes and
// reads, with net/http's request writer and response parser and the same
// phases and bounds; the rest use net/http's client (Conn.Path says which).
package probe
