// Package probe runs one HTTP probe of a configured target and classifies
// the outcome into a Result: the status code and its error class and owner,
// or the reason there was no answer, plus the duration of each phase.
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
package probe
