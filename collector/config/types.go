package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/units"
	"go.yaml.in/yaml/v3"
)

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// StatusCodes is a list of codes and ranges: 200, "200-399", "5xx".
type StatusCodes []StatusRange

// Contains reports whether code falls in any range.
func (s StatusCodes) Contains(code int) bool {
	for _, r := range s {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// ParseStatusRange parses "200", "200-399" or "5xx".
func ParseStatusRange(v string) (StatusRange, error) {
	v = strings.TrimSpace(v)
	if len(v) == 3 && strings.HasSuffix(strings.ToLower(v), "xx") && v[0] >= '1' && v[0] <= '5' {
		lo := int(v[0]-'0') * 100
		return StatusRange{lo, lo + 99}, nil
	}
	lo, hi, isRange := strings.Cut(v, "-")
	l, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return StatusRange{}, fmt.Errorf("%q is not a status code, a range like 200-399 or a class like 5xx", v)
	}
	h := l
	if isRange {
		if h, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return StatusRange{}, fmt.Errorf("%q is not a status code, a range like 200-399 or a class like 5xx", v)
		}
	}
	if l < 100 || h > 999 || l > h {
		return StatusRange{}, fmt.Errorf("%q is outside 100-999 or reversed", v)
	}
	return StatusRange{l, h}, nil
}

// UnmarshalYAML accepts a sequence of codes, ranges and classes.
func (s *StatusCodes) UnmarshalYAML(n *yaml.Node) error {
	var raw []string
	if err := n.Decode(&raw); err != nil {
		return err
	}
	out := make(StatusCodes, 0, len(raw))
	for _, v := range raw {
		r, err := ParseStatusRange(v)
		if err != nil {
			return err
		}
		out = append(out, r)
	}
	*s = out
	return nil
}

// ByteSize is a size in bytes, written as 1048576 or "1MiB".
type ByteSize int64

// UnmarshalYAML accepts a plain integer or a base-2 size such as 64KiB.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*b = ByteSize(i)
		return nil
	}
	v, err := units.ParseBase2Bytes(s)
	if err != nil {
		return fmt.Errorf("%q is not a size such as 1048576 or 1MiB", s)
	}
	*b = ByteSize(v)
	return nil
}
