package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/units"
	"go.yaml.in/yaml/v3"
)

// StatusRange is an inclusive range of HTTP status codes; a single code has
// Lo == Hi.
type StatusRange struct{ Lo, Hi int }

// Single reports whether the range is one code written on its own.
func (r StatusRange) Single() bool { return r.Lo == r.Hi }

// String writes the range the way it is configured: 503, 200-399 or 5xx.
func (r StatusRange) String() string {
	switch {
	case r.Single():
		return strconv.Itoa(r.Lo)
	case r.Lo%100 == 0 && r.Hi == r.Lo+99 && r.Lo >= 100 && r.Lo <= 500:
		return strconv.Itoa(r.Lo/100) + "xx"
	default:
		return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
	}
}

// parseStatusRange parses "200", "200-399" or "5xx" (1xx to 5xx).
func parseStatusRange(v string) (StatusRange, error) {
	s := strings.TrimSpace(v)
	if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
		lo := int(s[0]-'0') * 100
		return StatusRange{lo, lo + 99}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	l, okLo := parseCode(lo)
	h, okHi := l, true
	if isRange {
		h, okHi = parseCode(hi)
	}
	if !okLo || !okHi {
		return StatusRange{}, fmt.Errorf("%q is not a status code, a range like 200-399 or a class like 5xx", v)
	}
	if l < 100 || h > 999 {
		return StatusRange{}, fmt.Errorf("%q is outside 100-999", v)
	}
	if l > h {
		return StatusRange{}, fmt.Errorf("%q is reversed: %d is greater than %d", v, l, h)
	}
	return StatusRange{l, h}, nil
}

// parseCode accepts only digits, so "+200" and " -5" are not codes.
func parseCode(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 3 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// UnmarshalYAML accepts one scalar: a code, a range or a class.
func (r *StatusRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a status code, a range like 200-399 or a class like 5xx")
	}
	v, err := parseStatusRange(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML writes a single code as a number and anything else as text.
func (r StatusRange) MarshalYAML() (any, error) {
	if r.Single() {
		return r.Lo, nil
	}
	return r.String(), nil
}

// StatusCodes is a list of codes, ranges and classes: [200, "300-399", 5xx].
// In YAML it is a sequence; each element is a StatusRange.
type StatusCodes []StatusRange

// ParseStatusCodes parses a comma-separated list such as "200-299,304" (for
// flags; YAML uses a sequence).
func ParseStatusCodes(s string) (StatusCodes, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no status codes given")
	}
	var out StatusCodes
	for _, v := range strings.Split(s, ",") {
		r, err := parseStatusRange(v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Contains reports whether code falls in any range.
func (s StatusCodes) Contains(code int) bool {
	for _, r := range s {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// String joins the ranges with commas, the form ParseStatusCodes reads.
func (s StatusCodes) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ByteSize is a size in bytes, written as 1048576 or "1MiB" (KB and KiB both
// mean 1024 bytes).
type ByteSize int64

// parseByteSize parses a plain number of bytes or a base-2 size such as 64KiB.
func parseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		if i < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return ByteSize(i), nil
	}
	v, err := units.ParseBase2Bytes(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 1048576 or 1MiB", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return ByteSize(v), nil
}

// String writes the size in base-2 units, e.g. 1MiB or 1MiB512KiB.
func (b ByteSize) String() string { return units.Base2Bytes(b).String() }

// UnmarshalYAML accepts a plain integer or a base-2 size such as 64KiB.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("must be a size such as 1048576 or 1MiB")
	}
	v, err := parseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML writes the size in the form UnmarshalYAML reads.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }
