package lab

// scenarios is the lab: every failure it provokes, in the order it runs,
// and the truth for each. The fixtures, scenarios.md, the README's lab
// table and the exporter's verdicts are checked against this one table.
var scenarios = []scenario{
	{
		Name: "nginx-502-refused", Front: "nginx", Path: "/refused",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `connect\(\) failed \(111: Connection refused\) while connecting to upstream`},
			Why: "Nothing listens on the upstream's port: nginx's own 502 page (Server header and footer name nginx). A 502 is a gateway error by the code table and by cause.",
		},
	},
	{
		Name: "nginx-502-refused-head", Front: "nginx", Method: "HEAD", Path: "/refused",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "headers", CauseShown: true,
			Log: logLine{"nginx", `connect\(\) failed \(111: Connection refused\) while connecting to upstream`},
			Why: "The same failure asked with HEAD: no body, only the Server header names nginx.",
		},
	},
	{
		Name: "nginx-504-hang", Front: "nginx", Path: "/hang",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `upstream timed out \(110: Connection timed out\) while reading response header from upstream`},
			Why: "The upstream accepts and never answers; proxy_read_timeout (1s) expires and nginx writes its 504 page.",
		},
	},
	{
		Name: "nginx-502-garbage", Front: "nginx", Path: "/garbage",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `upstream sent invalid header: ".*" while reading response header from upstream`},
			Why: "The upstream prints a header line without a colon: nginx rejects the answer with its 502 page.",
		},
	},
	{
		Name: "nginx-502-close", Front: "nginx", Path: "/close",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", "upstream prematurely closed connection while reading response header from upstream"},
			Why: "The upstream closes the connection without a byte (a crashed backend): nginx's 502 page.",
		},
	},
	{
		Name: "nginx-500-origin", Front: "nginx", Path: "/app500",
		Code: 500,
		Truth: truth{
			Class: "app", Layer: "origin", Product: "app", Evidence: "body", CauseShown: true,
			Log: logLine{"nginx-access", `"GET /app500 HTTP/1\.1" 500 `},
			Why: "The application's own 500 passes through: the Server header says nginx but the JSON body is the application's. nginx logs no error, only the access line.",
		},
	},
	{
		Name: "nginx-503-origin-maintenance", Front: "nginx", Path: "/maint503",
		Code: 503, RetryAfter: "120",
		Truth: truth{
			Class: "capacity", Layer: "origin", Product: "app", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx-access", `"GET /maint503 HTTP/1\.1" 503 `},
			Why: "The application's own maintenance 503 with Retry-After: 120 passes through nginx unchanged (body and Retry-After are the application's).",
		},
		Verdict: verdict{
			Layer: "unknown", Product: "unknown",
			Why: `The status phrase shows nginx only relayed the answer, but nothing in it names who wrote it (another proxy behind nginx could have): unknown, never a guessed hop.`,
		},
	},
	{
		Name: "nginx-503-maintenance", Front: "nginx", Path: "/maintenance",
		Code: 503, RetryAfter: "300",
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "nginx", Evidence: "headers", CauseShown: true,
			Log: logLine{"nginx-access", `"GET /maintenance HTTP/1\.1" 503 `},
			Why: "A maintenance flag in nginx: the site's own page with Retry-After: 300. Only the headers show nginx (Server, and its reason phrase \"Service Temporarily Unavailable\").",
		},
	},
	{
		Name: "nginx-503-limit-req", Front: "nginx", Path: "/limited",
		Before: "/limited",
		Code:   503,
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `limiting requests, excess: [0-9.]+ by zone "lab"`},
			Why: "limit_req rejects the second request in a minute with its default limit_req_status 503: nginx's own page, no Retry-After.",
		},
	},
	{
		Name: "nginx-502-fpm-down", Front: "nginx", Path: "/fpm-down/ok.php",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `connect\(\) failed \(111: Connection refused\) while connecting to upstream.*upstream: "fastcgi://`},
			Why: "php-fpm is stopped: connect() to its port is refused and nginx writes its 502 page.",
		},
	},
	{
		Name: "nginx-504-fpm-slow", Front: "nginx", Path: "/fpm/slow.php",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `upstream timed out \(110: Connection timed out\) while reading response header from upstream.*upstream: "fastcgi://`},
			Why: "The script takes 3s, fastcgi_read_timeout is 1s: nginx gives up with its 504 page.",
		},
	},
	{
		Name: "nginx-504-fpm-pool-full", Front: "nginx", Path: "/fpm-small/ok.php",
		Occupy: "/fpm-small/slow.php",
		Code:   504,
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: false,
			Log: logLine{"php-fpm", `WARNING: \[pool small\] server reached pm\.max_children setting \(1\), consider raising it`},
			Why: "A fast script behind a pool whose only child runs a slow one: the request waits in php-fpm's listen queue until fastcgi_read_timeout. nginx's page and its error line (upstream timed out) are the same as for a slow script, but the cause is capacity: php-fpm logs that pm.max_children was reached, and the first move is the pool's saturation, not the script's speed. Only the log shows it.",
		},
		Verdict: verdict{
			Class: "timeout",
			Why:   `nginx writes the same 504 for a full php-fpm pool and for a slow script; the exporter keeps the code's class (timeout): the slow path's owner sees the pool in the same profile.`,
		},
	},
	{
		Name: "nginx-502-fpm-terminated", Front: "nginx", Path: "/fpm-term/slow.php",
		Code: 502,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: false,
			Log: logLine{"php-fpm", `WARNING: \[pool term\] child \d+, script \S+slow\.php. \(request: "GET /fpm-term/slow\.php"\) execution timed out \([0-9.]+ sec\), terminating`},
			Why: "request_terminate_timeout (1s) kills the slow script; nginx sees the FastCGI stream end and answers its 502, the same page as a crashed backend. The cause is a timeout, shown only by php-fpm's log.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `php-fpm killing a script at request_terminate_timeout looks to nginx like a backend that closed the connection: the 502 story (gateway), whose owner finds the kill in php-fpm's log.`,
		},
	},
	{
		Name: "nginx-500-php-fatal", Front: "nginx", Path: "/fpm/fatal.php",
		Code: 500,
		Truth: truth{
			Class: "app", Layer: "origin", Product: "php-fpm", Evidence: "none", CauseShown: true,
			Log: logLine{"php", "PHP Fatal error:  Uncaught RuntimeException: lab: unexpected condition"},
			Why: "An uncaught exception: PHP answers 500 with an empty body (display_errors off, Debian's expose_php = Off, so no X-Powered-By). Nothing in the answer names PHP; the 500 itself is the app's.",
		},
		Verdict: verdict{
			Layer: "unknown", Product: "unknown",
			Why: `An empty 500 with nginx's Server header: nothing names PHP, so the layer stays unknown; the class (app) is right by the code.`,
		},
	},
	{
		Name: "haproxy-503-refused", Front: "haproxy", Path: "/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_refused/s1 \S+ 503 .* SC-- .*/3 `},
			Why: "No health check, nothing listening: haproxy retries 3 times (retries default), then writes its 503 \"No server is available to handle this request\" (log: SC, 3 retries). By cause a gateway error: the backend is down.",
		},
	},
	{
		Name: "haproxy-503-refused-head", Front: "haproxy", Method: "HEAD", Path: "/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "headers", CauseShown: true,
			Log: logLine{"haproxy", `be_refused/s1 \S+ 503 .* SC-- `},
			Why: "The same with HEAD: no body; only haproxy's lower-case header names and the absent Server and Date headers hint at haproxy.",
		},
	},
	{
		Name: "haproxy-503-down", Front: "haproxy", Path: "/down",
		WaitFor: logLine{"haproxy", "Server be_down/s1 is DOWN"},
		Code:    503,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_down/<NOSRV> \S+ 503 .* SC-- `},
			Why: "A health check marked the only server DOWN: haproxy answers at once with its 503 \"No server is available\" (log: <NOSRV>, SC). Gateway: the backend is down.",
		},
	},
	{
		Name: "haproxy-504-hang", Front: "haproxy", Path: "/hang",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_hang/s1 \S+ 504 .* sH-- `},
			Why: "timeout server (1s) expires before the response headers (log: sH): haproxy's 504 \"The server didn't respond in time\".",
		},
	},
	{
		Name: "haproxy-502-garbage", Front: "haproxy", Path: "/garbage",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_garbage/s1 \S+ 502 .* PH-- `},
			Why: "An invalid header line from the server: haproxy's 502 \"The server returned an invalid or incomplete response\" (log: PH, a protocol error).",
		},
	},
	{
		Name: "haproxy-502-close", Front: "haproxy", Path: "/close",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_close/s1 \S+ 502 .* SH-- `},
			Why: "The server closes without answering (log: SH): the same 502 page as an invalid answer.",
		},
	},
	{
		Name: "haproxy-500-origin", Front: "haproxy", Path: "/app500",
		Code: 500,
		Truth: truth{
			Class: "app", Layer: "origin", Product: "app", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_app500/s1 \S+ 500 .* ---- `},
			Why: "The application's 500 passes through; haproxy adds nothing but writes every header name in lower case.",
		},
	},
	{
		Name: "haproxy-503-queue-full", Front: "haproxy", Path: "/queue",
		Occupy: "/queue",
		Code:   503,
		Truth: truth{
			Class: "capacity", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: false,
			Log: logLine{"haproxy", `be_queue/<NOSRV> \S+ 503 .* sQ-- `},
			Why: "maxconn 1 is taken, the request waits in the queue for timeout queue (1s) (log: sQ). The page is the same \"No server is available to handle this request\" as for a down backend, so the page alone would say gateway; the cause is capacity, and only the log's sQ shows it.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `haproxy's "No server is available" page stands for a dead backend and for a request that timed out in a full queue; the exporter names the dead backend (gateway: app-infra sees both in haproxy's stats first).`,
		},
	},
	{
		Name: "haproxy-503-maintenance", Front: "haproxy", Path: "/maintenance",
		Code: 503, RetryAfter: "300",
		Truth: truth{
			Class: "capacity", Layer: "load_balancer", Product: "haproxy", Evidence: "headers", CauseShown: true,
			Log: logLine{"haproxy", `be_maintenance/<NOSRV> \S+ 503 .* SC-- `},
			Why: "The server is in maintenance (disabled) and the backend's errorfile is the site's page with Retry-After: 300. The log line is the same as for a down backend; Retry-After tells planned maintenance.",
		},
		Verdict: verdict{
			Layer: "unknown", Product: "unknown",
			Why: `haproxy's only mark on a custom errorfile is its lower-case header names, which Go's HTTP client canonicalises before the exporter sees them: unknown; the class (capacity) is right by the code.`,
		},
	},
	{
		Name: "apache-503-refused", Front: "apache", Path: "/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `AH00957: http: attempt to connect to 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\) failed`},
			Why: "mod_proxy cannot connect (AH00957, AH01114): Apache's 503 page, whose text blames \"maintenance downtime or capacity problems\". By cause a gateway error: the backend is down.",
		},
	},
	{
		Name: "apache-503-refused-head", Front: "apache", Method: "HEAD", Path: "/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "headers", CauseShown: true,
			Log: logLine{"apache", `AH00957: http: attempt to connect to 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\) failed`},
			Why: "The same with HEAD: only the Server header names Apache.",
		},
	},
	{
		Name: "apache-502-hang", Front: "apache", Path: "/hang",
		Code: 502,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: false,
			Log: logLine{"apache", `\(70007\)The timeout specified has expired: .*AH01102: error reading status line from remote server`},
			Why: "The backend never answers; ProxyPass timeout (1s) expires. mod_proxy_http answers 502 \"Error reading from remote server\", not 504; the log's (70007) says timeout. The same page is written when the backend closes the connection (apache-502-close), so the page alone does not prove a timeout.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `Apache's "Error reading from remote server" stands for a backend slower than ProxyTimeout and for one that closed the connection; the exporter keeps the code's class (gateway) and says both in the cause.`,
		},
	},
	{
		Name: "apache-502-garbage", Front: "apache", Path: "/garbage",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `AH01106: bad HTTP/1\.1 header returned by /garbage`},
			Why: "An invalid header line: mod_proxy_http's 502 Bad Gateway \"The proxy server received an invalid response from an upstream server\".",
		},
	},
	{
		Name: "apache-502-close", Front: "apache", Path: "/close",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `\(20014\)Internal error .*AH01102: error reading status line from remote server`},
			Why: "The backend closes without a byte: the same 502 \"Error reading from remote server\" as a timeout; the log's (20014) instead of (70007) tells them apart.",
		},
	},
	{
		Name: "apache-500-origin", Front: "apache", Path: "/app500",
		Code: 500,
		Truth: truth{
			Class: "app", Layer: "origin", Product: "app", Evidence: "body", CauseShown: true,
			Log: logLine{"apache-access", `"GET /app500 HTTP/1\.1" 500 `},
			Why: "The application's 500 passes through mod_proxy with Apache's Server header added.",
		},
	},
	{
		Name: "apache-503-pool-full", Front: "apache", Path: "/pool-full",
		Occupy: "/pool-full",
		Code:   503,
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: false,
			Log: logLine{"apache", `AH00941: http: failed to acquire connection for \(127\.0\.0\.1:\d+\)`},
			Why: "The worker's only connection (max=1) is busy and acquire (500ms) expires: the same 503 page as an unreachable backend; only the log (AH00941) shows it is capacity.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `Apache's mod_proxy 503 page is the same for a refused backend, an exhausted connection pool and a killed script; without Retry-After the exporter names the backend (gateway).`,
		},
	},
	{
		Name: "apache-503-fpm-down", Front: "apache", Path: "/fpm-down/ok.php",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `AH00957: FCGI: attempt to connect to 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\) failed`},
			Why: "php-fpm is stopped: mod_proxy_fcgi cannot connect (AH00957, AH01079) and Apache answers 503, where nginx answers 502.",
		},
	},
	{
		Name: "apache-504-fpm-slow", Front: "apache", Path: "/fpm/slow.php",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `\(70007\)The timeout specified has expired: .*AH01075: Error dispatching request to`},
			Why: "The script outlives the fcgi timeout (1s): mod_proxy_fcgi answers 504 Gateway Timeout (mod_proxy_http answers 502 for the same).",
		},
	},
	{
		Name: "apache-503-fpm-terminated", Front: "apache", Path: "/fpm-term/slow.php",
		Code: 503,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: false,
			Log: logLine{"php-fpm", `WARNING: \[pool term\] child \d+, script \S+slow\.php. \(request: "GET /fpm-term/slow\.php"\) execution timed out \([0-9.]+ sec\), terminating`},
			Why: "php-fpm kills the script at request_terminate_timeout; Apache logs AH01067 \"Failed to read FastCGI header\" and answers 503, the same page as a stopped php-fpm. The cause is a timeout, shown only by php-fpm's log.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `Apache's mod_proxy 503 page is the same for a refused backend, an exhausted connection pool and a killed script; without Retry-After the exporter names the backend (gateway).`,
		},
	},
	{
		Name: "apache-500-htaccess", Front: "apache", Path: "/broken/",
		Code: 500,
		Truth: truth{
			Class: "app", Layer: "origin", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `\.htaccess: Invalid command 'RewriteEngine', perhaps misspelled or defined by a module not included in the server configuration`},
			Why: "A .htaccess uses a directive of a module that is not loaded: Apache's own 500 \"internal error or misconfiguration\" page, written by Apache as the origin's web server.",
		},
	},
	{
		Name: "apache-503-maintenance", Front: "apache", Path: "/maintenance",
		Code: 503, RetryAfter: "300",
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache-access", `"GET /maintenance HTTP/1\.1" 503 `},
			Why: "A maintenance flag (Redirect 503) with Retry-After: 300: byte for byte the page of an unreachable backend; only Retry-After tells planned maintenance.",
		},
	},
	{
		Name: "varnish-503-refused", Front: "varnish", Path: "/refused",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "varnish", Evidence: "both", CauseShown: true,
			Log: logLine{"varnish", `FetchError\s+backend refused: fail errno 111 \(Connection refused\)`},
			Why: "The backend refuses the connection: the built-in vcl_backend_error writes \"Backend fetch failed\" with Retry-After: 5. Gateway by cause; the Retry-After is the built-in VCL's, not a maintenance signal.",
		},
	},
	{
		Name: "varnish-503-hang", Front: "varnish", Path: "/hang",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "varnish", Evidence: "both", CauseShown: false,
			Log: logLine{"varnish", `FetchError\s+first byte timeout`},
			Why: "first_byte_timeout (1s) expires: the same \"Backend fetch failed\" page and Retry-After: 5 as a refused backend; only varnishlog's FetchError says timeout.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `Varnish's "Backend fetch failed" stands for a refused, broken and slow backend alike; the exporter names the backend (gateway) and says all three in the cause.`,
		},
	},
	{
		Name: "varnish-503-hang-head", Front: "varnish", Method: "HEAD", Path: "/hang",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "varnish", Evidence: "headers", CauseShown: false,
			Log: logLine{"varnish", `FetchError\s+first byte timeout`},
			Why: "The same with HEAD: Via and X-Varnish name Varnish.",
		},
		Verdict: verdict{
			Class: "gateway",
			Why:   `Varnish's "Backend fetch failed" stands for a refused, broken and slow backend alike; the exporter names the backend (gateway) and says all three in the cause.`,
		},
	},
	{
		Name: "varnish-503-garbage", Front: "varnish", Path: "/garbage",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "varnish", Evidence: "both", CauseShown: true,
			Log: logLine{"varnish", `FetchError\s+http format error`},
			Why: "An invalid header line: \"Backend fetch failed\" (FetchError: http format error).",
		},
	},
	{
		Name: "varnish-503-close", Front: "varnish", Path: "/close",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "varnish", Evidence: "both", CauseShown: true,
			Log: logLine{"varnish", `FetchError\s+HTC eof`},
			Why: "The backend closes without a byte: \"Backend fetch failed\" (FetchError: HTC eof).",
		},
	},
	{
		Name: "varnish-503-origin-maintenance", Front: "varnish", Path: "/maint503",
		Code: 503, RetryAfter: "120",
		Truth: truth{
			Class: "capacity", Layer: "origin", Product: "app", Evidence: "body", CauseShown: true,
			Log: logLine{"varnish", `BerespStatus\s+503`},
			Why: "The application's 503 passes through with its own Retry-After: 120 (Varnish does not replace it); Via and X-Varnish are added.",
		},
		Verdict: verdict{
			Layer: "unknown", Product: "unknown",
			Why: `Via shows Varnish relayed the answer, but nothing in it names who wrote it: unknown, never a guessed hop.`,
		},
	},
	{
		Name: "varnish-503-maintenance", Front: "varnish", Path: "/maintenance",
		Code: 503, RetryAfter: "300",
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "varnish", Evidence: "headers", CauseShown: true,
			Log: logLine{"varnish", `VCL_return\s+synth`},
			Why: "A maintenance synth in vcl_recv with the site's page and Retry-After: 300; Server: Varnish and X-Varnish name Varnish, there is no Via (no backend was asked).",
		},
	},
	{
		Name: "caddy-502-refused", Front: "caddy", Path: "/refused",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy", `"msg":"dial tcp 127\.0\.0\.1:\d+: connect: connection refused"`},
			Why: "reverse_proxy cannot dial the upstream: Caddy answers 502 with an empty body; only Server: Caddy names it.",
		},
	},
	{
		Name: "caddy-504-hang", Front: "caddy", Path: "/hang",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy", `"msg":"net/http: timeout awaiting response headers"`},
			Why: "response_header_timeout (1s) expires: an empty 504 with Server: Caddy.",
		},
	},
	{
		Name: "caddy-502-garbage", Front: "caddy", Path: "/garbage",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy", "malformed MIME header: missing colon"},
			Why: "An invalid header line: an empty 502 with Server: Caddy.",
		},
	},
	{
		Name: "caddy-503-maintenance", Front: "caddy", Path: "/maintenance",
		Code: 503, RetryAfter: "300",
		Truth: truth{
			Class: "capacity", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy-access", `"uri":"/maintenance".*"status":503`},
			Why: "A maintenance respond with Retry-After: 300: a plain-text body, Server: Caddy.",
		},
	},
	{
		Name: "caddy-502-fpm-down", Front: "caddy", Path: "/fpm-down/ok.php",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy", `"msg":"dialing backend: dial tcp 127\.0\.0\.1:\d+: connect: connection refused"`},
			Why: "php_fastcgi cannot dial php-fpm: an empty 502 with Server: Caddy.",
		},
	},
	{
		Name: "nginx-haproxy-503-refused", Front: "nginx", Path: "/haproxy/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "load_balancer", Product: "haproxy", Evidence: "body", CauseShown: true,
			Log: logLine{"haproxy", `be_refused/s1 \S+ 503 .* SC-- `},
			Why: "nginx in front of haproxy whose backend is down: nginx relays haproxy's page. The Server header says nginx, the body is haproxy's: the page's writer is haproxy.",
		},
	},
	{
		Name: "haproxy-varnish-503-refused", Front: "haproxy", Path: "/varnish/refused",
		Code: 503, RetryAfter: "5",
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "varnish", Evidence: "both", CauseShown: true,
			Log: logLine{"varnish", `FetchError\s+backend refused: fail errno 111`},
			Why: "haproxy in front of Varnish whose backend refuses: haproxy relays Varnish's \"Backend fetch failed\" with lower-cased header names.",
		},
	},
	{
		Name: "varnish-nginx-502-refused", Front: "varnish", Path: "/nginx/refused",
		Code: 502,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `connect\(\) failed \(111: Connection refused\) while connecting to upstream`},
			Why: "Varnish in front of nginx whose upstream refuses: Varnish relays nginx's 502 page and adds Via and X-Varnish.",
		},
	},
	{
		Name: "varnish-nginx-504-hang", Front: "varnish", Path: "/nginx/hang",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "nginx", Evidence: "both", CauseShown: true,
			Log: logLine{"nginx", `upstream timed out \(110: Connection timed out\) while reading response header from upstream`},
			Why: "Varnish (first_byte_timeout 10s) in front of nginx (proxy_read_timeout 1s): nginx gives up first and Varnish relays its 504.",
		},
	},
	{
		Name: "caddy-apache-503-refused", Front: "caddy", Path: "/apache/refused",
		Code: 503,
		Truth: truth{
			Class: "gateway", Layer: "proxy", Product: "apache", Evidence: "both", CauseShown: true,
			Log: logLine{"apache", `AH00957: http: attempt to connect to 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\) failed`},
			Why: "Caddy in front of Apache whose backend refuses: two Server headers (Caddy's, then Apache's) and Apache's 503 page, whose address line shows Caddy's port (the Host header passes through).",
		},
	},
	{
		Name: "caddy-nginx-504-hang", Front: "caddy", Path: "/nginx/hang-long",
		Code: 504,
		Truth: truth{
			Class: "timeout", Layer: "proxy", Product: "caddy", Evidence: "headers", CauseShown: true,
			Log: logLine{"caddy", `"msg":"net/http: timeout awaiting response headers"`},
			Why: "Caddy (response_header_timeout 1s) in front of nginx (proxy_read_timeout 5s): Caddy gives up first and writes its empty 504; nginx never answers.",
		},
	},
}
