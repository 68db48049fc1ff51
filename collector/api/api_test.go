package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type doc struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// get fetches path from srv and returns the answer as Decode sees it.
func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// TestEnvelopeOverLoopback writes each kind of answer on a real server and
// reads it back with Decode.
func TestEnvelopeOverLoopback(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		WriteData(w, http.StatusOK, doc{Name: "shop", Count: 3})
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		WriteData(w, http.StatusCreated, doc{Name: "a"}, "already there")
	})
	mux.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		WriteData(w, http.StatusOK, []doc{})
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusBadRequest, ErrBadData, "limit: want an integer")
	})
	mux.HandleFunc("/nan", func(w http.ResponseWriter, r *http.Request) {
		WriteData(w, http.StatusOK, map[string]float64{"ratio": math.NaN()})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path     string
		code     int
		body     string // the exact answer
		errType  ErrorType
		want     doc
		warnings []string
	}{
		{path: "/data", code: 200, body: "{\n  \"status\": \"success\",\n  \"data\": {\n    \"name\": \"shop\",\n    \"count\": 3\n  }\n}\n",
			want: doc{Name: "shop", Count: 3}},
		{path: "/created", code: 201, want: doc{Name: "a"}, warnings: []string{"already there"},
			body: "{\n  \"status\": \"success\",\n  \"data\": {\n    \"name\": \"a\",\n    \"count\": 0\n  },\n  \"warnings\": [\n    \"already there\"\n  ]\n}\n"},
		{path: "/list", code: 200, body: "{\n  \"status\": \"success\",\n  \"data\": []\n}\n"},
		{path: "/bad", code: 400, errType: ErrBadData,
			body: "{\n  \"status\": \"error\",\n  \"errorType\": \"bad_data\",\n  \"error\": \"limit: want an integer\"\n}\n"},
		{path: "/nan", code: 500, errType: ErrInternal},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, h, body := get(t, srv, tc.path)
			if code != tc.code || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("%d %q %q, want %d application/json no-store", code, h.Get("Content-Type"), h.Get("Cache-Control"), tc.code)
			}
			if tc.body != "" && string(body) != tc.body {
				t.Errorf("body\n%s\nwant\n%s", body, tc.body)
			}
			var got doc
			out := any(&got)
			if tc.path == "/list" {
				out = &[]doc{}
			}
			warnings, err := Decode(code, body, out)
			var ae *Error
			switch {
			case tc.errType == "" && err != nil:
				t.Errorf("Decode: %v", err)
			case tc.errType != "" && (!errors.As(err, &ae) || ae.Type != tc.errType || ae.Code != tc.code):
				t.Errorf("Decode: %v, want an *Error of type %s", err, tc.errType)
			case tc.errType == "" && (got != tc.want || fmt.Sprint(warnings) != fmt.Sprint(tc.warnings)):
				t.Errorf("data %+v warnings %q, want %+v %q", got, warnings, tc.want, tc.warnings)
			}
		})
	}
}

// TestDecode covers what a remote may answer besides a proper envelope.
func TestDecode(t *testing.T) {
	many := `{"status":"success","data":{"name":"x"},"warnings":[` + strings.Repeat(`"",`, 10000) + `""]}`
	for _, tc := range []struct {
		name    string
		code    int
		body    string
		err     string // exact Error(); "" for a success
		isError bool   // the error is an *Error
		want    doc
	}{
		{name: "success", code: 200, body: `{"status":"success","data":{"name":"shop","count":2}}`, want: doc{"shop", 2}},
		{name: "success with unknown members", code: 200, body: `{"status":"success","data":{"name":"shop"},"infos":["x"],"extra":1}`, want: doc{Name: "shop"}},
		{name: "error envelope", code: 404, body: `{"status":"error","errorType":"not_found","error":"no configured target \"x\""}`,
			err: `HTTP 404 not_found: no configured target "x"`, isError: true},
		{name: "error envelope with a 200", code: 200, body: `{"status":"error","errorType":"internal","error":"boom"}`,
			err: "HTTP 200 internal: boom", isError: true},
		{name: "error envelope without a message", code: 503, body: `{"status":"error","errorType":"unavailable"}`,
			err: "HTTP 503 unavailable: Service Unavailable", isError: true},
		{name: "a long message is cut", code: 400, body: `{"status":"error","errorType":"bad_data","error":"` + strings.Repeat("é", 1000) + `"}`,
			err: "HTTP 400 bad_data: " + strings.Repeat("é", 256) + "...", isError: true},
		{name: "a long error type is cut", code: 400, body: `{"status":"error","errorType":"` + strings.Repeat("x", 100) + `","error":"e"}`,
			err: "HTTP 400 " + strings.Repeat("x", 64) + "...: e", isError: true},
		{name: "HTML error page", code: 502, body: "<html>\n<h1>502 Bad Gateway</h1></html>",
			err: "HTTP 502, not an API answer: <html>", isError: true},
		{name: "plain text", code: 401, body: "Unauthorized\n", err: "HTTP 401, not an API answer: Unauthorized", isError: true},
		{name: "empty body", code: 200, body: "", err: "HTTP 200, not an API answer: an empty body", isError: true},
		{name: "a bare document", code: 200, body: `{"location":"eu","targets":[]}`,
			err: `HTTP 200, not an API answer: {"location":"eu","targets":[]}`, isError: true},
		{name: "a long line is cut", code: 200, body: strings.Repeat("x", 1<<20),
			err: "HTTP 200, not an API answer: " + strings.Repeat("x", 200) + "...", isError: true},
		{name: "success with a 500", code: 500, body: `{"status":"success","data":{}}`,
			err: `HTTP 500, not an API answer: {"status":"success","data":{}}`, isError: true},
		{name: "success without data", code: 200, body: `{"status":"success"}`,
			err: "HTTP 200, not an API answer: a success without data", isError: true},
		{name: "success with null data", code: 200, body: `{"status":"success","data":null}`,
			err: "HTTP 200, not an API answer: a success without data", isError: true},
		{name: "data of the wrong shape", code: 200, body: `{"status":"success","data":["x"]}`,
			err: "the data of the answer: json: cannot unmarshal array into Go value of type api.doc"},
		{name: "warnings not a list", code: 200, body: `{"status":"success","data":{},"warnings":"x"}`,
			err: `HTTP 200, not an API answer: {"status":"success","data":{},"warnings":"x"}`, isError: true},
		{name: "many warnings are bounded", code: 200, body: many, want: doc{Name: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got doc
			warnings, err := Decode(tc.code, []byte(tc.body), &got)
			if tc.err == "" {
				if err != nil || got != tc.want || len(warnings) > maxWarnings {
					t.Errorf("Decode = %+v, %d warnings, %v; want %+v", got, len(warnings), err, tc.want)
				}
				return
			}
			var ae *Error
			if err == nil || err.Error() != tc.err || errors.As(err, &ae) != tc.isError {
				t.Errorf("Decode error\n %v\nwant\n %s (an *Error: %v)", err, tc.err, tc.isError)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := httptest.NewServer(MethodNotAllowed("GET", "HEAD"))
	defer srv.Close()
	code, h, body := get(t, srv, "/")
	if code != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
		t.Fatalf("got %d, Allow %q", code, h.Get("Allow"))
	}
	if _, err := Decode(code, body, nil); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("Decode = %v, want a bad_data error", err)
	}
}
