package config

import (
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseStatusRange(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    StatusRange
		wantErr string
	}{
		{in: "200", want: StatusRange{200, 200}},
		{in: " 503 ", want: StatusRange{503, 503}},
		{in: "200-399", want: StatusRange{200, 399}},
		{in: "500 - 599", want: StatusRange{500, 599}},
		{in: "5xx", want: StatusRange{500, 599}},
		{in: "4XX", want: StatusRange{400, 499}},
		{in: "1xx", want: StatusRange{100, 199}},
		{in: "999", want: StatusRange{999, 999}},
		{in: "", wantErr: `"" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "abc", wantErr: `"abc" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "6xx", wantErr: `"6xx" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "+200", wantErr: `"+200" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "200-", wantErr: `"200-" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "-200", wantErr: `"-200" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "200-300-400", wantErr: `"200-300-400" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "2000", wantErr: `"2000" is not a status code, a range like 200-399 or a class like 5xx`},
		{in: "99", wantErr: `"99" is outside 100-999`},
		{in: "050-200", wantErr: `"050-200" is outside 100-999`},
		{in: "399-200", wantErr: `"399-200" is reversed: 399 is greater than 200`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseStatusRange(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got %v, %v; want error %s", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			// String writes what parseStatusRange reads.
			if back, err := parseStatusRange(got.String()); err != nil || back != got {
				t.Errorf("%v does not round-trip through %q: %v, %v", got, got.String(), back, err)
			}
		})
	}
}

func TestParseStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    StatusCodes
		wantErr bool
	}{
		{in: "200", want: StatusCodes{{200, 200}}},
		{in: "200-299,304", want: StatusCodes{{200, 299}, {304, 304}}},
		{in: "2xx, 3xx, 404", want: StatusCodes{{200, 299}, {300, 399}, {404, 404}}},
		{in: "", wantErr: true},
		{in: "200,", wantErr: true},
		{in: "200,abc", wantErr: true},
	} {
		got, err := ParseStatusCodes(tc.in)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseStatusCodes(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestStatusCodesContains(t *testing.T) {
	codes := StatusCodes{{200, 299}, {304, 304}, {500, 599}}
	for code, want := range map[int]bool{199: false, 200: true, 250: true, 299: true, 300: false, 304: true, 404: false, 500: true, 599: true, 600: false, 0: false} {
		if got := codes.Contains(code); got != want {
			t.Errorf("Contains(%d) = %v, want %v", code, got, want)
		}
	}
	if StatusCodes(nil).Contains(200) {
		t.Error("an empty list contains 200")
	}
	if got, want := codes.String(), "2xx,304,5xx"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStatusCodesYAML(t *testing.T) {
	var got struct {
		Codes StatusCodes `yaml:"codes"`
	}
	if err := yaml.Unmarshal([]byte(`codes: [200, "300-399", 5xx]`), &got); err != nil {
		t.Fatal(err)
	}
	if want := (StatusCodes{{200, 200}, {300, 399}, {500, 599}}); !reflect.DeepEqual(got.Codes, want) {
		t.Errorf("got %v, want %v", got.Codes, want)
	}
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "codes:\n    - 200\n    - 3xx\n    - 5xx\n"; string(out) != want {
		t.Errorf("Marshal = %q, want %q", out, want)
	}
	for _, bad := range []string{"codes: [abc]", "codes: [[200]]", "codes: 200"} {
		if err := yaml.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "1MiB", want: 1 << 20},
		{in: "1MB", want: 1 << 20},
		{in: "64KiB", want: 64 << 10},
		{in: "256KB", want: 256 << 10},
		{in: "1.5KiB", want: 1536},
		{in: "2GiB", want: 2 << 30},
		{in: " 512 ", want: 512},
		{in: "-1", wantErr: `"-1" is negative`},
		{in: "-1MiB", wantErr: `"-1MiB" is negative`},
		{in: "1 megabyte", wantErr: `"1 megabyte" is not a size such as 1048576 or 1MiB`},
		{in: "1kB", wantErr: `"1kB" is not a size such as 1048576 or 1MiB`},
		{in: "MiB", wantErr: `"MiB" is not a size such as 1048576 or 1MiB`},
		{in: "", wantErr: `"" is not a size such as 1048576 or 1MiB`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseByteSize(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got %v, %v; want error %s", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
			if back, err := parseByteSize(got.String()); err != nil || back != got {
				t.Errorf("%d does not round-trip through %q: %d, %v", got, got.String(), back, err)
			}
		})
	}
}

func TestByteSizeYAML(t *testing.T) {
	var got struct {
		Limit ByteSize `yaml:"limit"`
	}
	for in, want := range map[string]ByteSize{"limit: 1024": 1024, "limit: 1MiB": 1 << 20, "limit: '2KiB'": 2048} {
		if err := yaml.Unmarshal([]byte(in), &got); err != nil || got.Limit != want {
			t.Errorf("%s: got %d, %v; want %d", in, got.Limit, err, want)
		}
	}
	got.Limit = 1 << 20
	if out, err := yaml.Marshal(got); err != nil || string(out) != "limit: 1MiB\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
	if err := yaml.Unmarshal([]byte("limit: [1]"), &got); err == nil {
		t.Error("a list decoded as a size")
	}
}
