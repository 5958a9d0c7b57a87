package feeds

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>`

// newTestFetcher allows loopback: every test server is on 127.0.0.1.
func newTestFetcher(cfg FetcherConfig) *Fetcher {
	cfg.AllowPrivateNetworks = true
	return NewFetcher(cfg)
}

func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "flate":
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	default:
		t.Fatalf("unknown compression %q", kind)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveBytes answers with body and the given headers.
func serveBytes(body []byte, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		_, _ = w.Write(body)
	}
}

// serveRaw writes a raw HTTP response on the connection, to play servers that
// break the protocol, then closes it.
func serveRaw(raw string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte(raw))
	}
}

// serveEndless streams chunks of data until the client goes away or n chunks.
func serveEndless(chunk []byte, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < n && r.Context().Err() == nil; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

func TestFetchBody(t *testing.T) {
	feed := []byte(testFeed)
	big := bytes.Repeat([]byte("x"), 1024)
	tests := []struct {
		name     string
		maxBody  int64
		handler  http.HandlerFunc
		wantBody string
		wantErr  string // substring of the error; "" for success
		tooLarge bool
	}{
		{name: "plain", handler: serveBytes(feed, "Content-Type", "application/rss+xml"), wantBody: testFeed},
		{name: "gzip", handler: serveBytes(compress(t, "gzip", feed), "Content-Encoding", "gzip"), wantBody: testFeed},
		{name: "x-gzip", handler: serveBytes(compress(t, "gzip", feed), "Content-Encoding", "x-gzip"), wantBody: testFeed},
		{name: "gzip file without Content-Encoding", handler: serveBytes(compress(t, "gzip", feed), "Content-Type", "application/gzip"), wantBody: testFeed},
		{name: "deflate zlib", handler: serveBytes(compress(t, "zlib", feed), "Content-Encoding", "deflate"), wantBody: testFeed},
		{name: "deflate raw", handler: serveBytes(compress(t, "flate", feed), "Content-Encoding", "deflate"), wantBody: testFeed},
		{name: "encoding in capitals", handler: serveBytes(compress(t, "gzip", feed), "Content-Encoding", " GZIP "), wantBody: testFeed},
		{name: "identity", handler: serveBytes(feed, "Content-Encoding", "identity"), wantBody: testFeed},
		{name: "empty", handler: serveBytes(nil), wantBody: ""},
		{name: "empty gzip", handler: serveBytes(nil, "Content-Encoding", "gzip"), wantBody: ""},
		{name: "garbage gzip", handler: serveBytes([]byte("this is not gzip at all"), "Content-Encoding", "gzip"), wantErr: "read body: gzip: invalid header"},
		{name: "truncated gzip", handler: serveBytes(compress(t, "gzip", bytes.Repeat(feed, 50))[:60], "Content-Encoding", "gzip"), wantErr: "unexpected EOF"},
		{name: "garbage deflate", handler: serveBytes(bytes.Repeat([]byte{0xff}, 64), "Content-Encoding", "deflate"), wantErr: "flate: corrupt input"},
		{name: "unknown encoding", handler: serveBytes(feed, "Content-Encoding", "br"), wantErr: `unsupported Content-Encoding "br"`},
		{name: "Content-Length longer than the body", handler: serveRaw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + testFeed), wantErr: "unexpected EOF"},
		{name: "Content-Length shorter than the body", handler: serveRaw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + testFeed), wantBody: testFeed[:5]},
		{name: "no Content-Length, closed connection", handler: serveRaw("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + testFeed), wantBody: testFeed},
		{name: "exactly the cap", maxBody: 1024, handler: serveBytes(big), wantBody: string(big)},
		{name: "exactly the cap, chunked", maxBody: 2048, handler: serveEndless(big, 2), wantBody: string(big) + string(big)},
		{name: "one byte over the cap, chunked", maxBody: 1023, handler: serveEndless(big, 1), wantErr: "body exceeds 1023 bytes limit", tooLarge: true},
		{name: "over the cap by Content-Length", maxBody: 1 << 10, handler: serveBytes(bytes.Repeat(big, 2)), wantErr: "body exceeds 1 KiB limit (Content-Length 2048)", tooLarge: true},
		{name: "endless plain body", maxBody: 1 << 20, handler: serveEndless(big, 100_000), wantErr: "body exceeds 1 MiB limit", tooLarge: true},
		{name: "gzip over the cap", maxBody: 1 << 10, handler: serveBytes(compress(t, "gzip", bytes.Repeat(big, 4)), "Content-Encoding", "gzip"), wantErr: "body exceeds 1 KiB limit", tooLarge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			f := newTestFetcher(FetcherConfig{MaxBodyBytes: tt.maxBody})
			feedURL := srv.URL + "/feed.xml"
			resp, err := f.Fetch(context.Background(), FetchRequest{URL: feedURL})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, body %d bytes", len(resp.Body))
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "fetch "+feedURL+": ") {
					t.Errorf("err = %q, want it to start with the URL and contain %q", err, tt.wantErr)
				}
				if got := errors.Is(err, ErrBodyTooLarge); got != tt.tooLarge {
					t.Errorf("errors.Is(err, ErrBodyTooLarge) = %v, want %v", got, tt.tooLarge)
				}
				if resp == nil || resp.Status != http.StatusOK {
					t.Errorf("want the response (status 200) with the error, got %+v", resp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.wantBody {
				t.Errorf("body = %q, want %q", resp.Body, tt.wantBody)
			}
			if resp.Status != http.StatusOK || resp.NotModified {
				t.Errorf("status %d, NotModified %v", resp.Status, resp.NotModified)
			}
			if resp.WireBytes == 0 && tt.wantBody != "" {
				t.Error("WireBytes = 0")
			}
		})
	}
}

func TestFetchEarlyRefusalReadsNoBody(t *testing.T) {
	srv := httptest.NewServer(serveBytes(bytes.Repeat([]byte("x"), 1<<20), "Content-Length", strconv.Itoa(1<<20)))
	defer srv.Close()
	f := newTestFetcher(FetcherConfig{MaxBodyBytes: 1 << 10})
	resp, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	if resp.WireBytes != 0 {
		t.Errorf("WireBytes = %d, want 0: the Content-Length alone should refuse it", resp.WireBytes)
	}
}

// TestFetchGzipBomb: 1 GB of zeros, gzip-compressed on the fly (about 1 MB on
// the wire). The fetch must stop at the 10 MiB cap, having read only the
// compressed bytes that decode to it, and allocate about the cap, not the GB.
func TestFetchGzipBomb(t *testing.T) {
	const total = 1 << 30
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := 0; i < total/len(zeros) && r.Context().Err() == nil; i++ {
			if _, err := zw.Write(zeros); err != nil {
				return
			}
		}
		_ = zw.Close()
	}))
	defer srv.Close()
	f := newTestFetcher(FetcherConfig{})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL})
	runtime.ReadMemStats(&after)

	if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "body exceeds 10 MiB limit") {
		t.Fatalf("err = %v, want body exceeds 10 MiB limit", err)
	}
	// The zeros compress about 1000:1: 10 MiB of them is about 10 KB of gzip.
	if resp.WireBytes > 1<<20 {
		t.Errorf("read %d compressed bytes, want well under 1 MiB", resp.WireBytes)
	}
	// The body buffer doubles up to cap+1 (about 2 × 10 MiB allocated in all),
	// plus the decoders; the server's gzip writer is in this process too.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB, read %d wire bytes in %v", float64(alloc)/(1<<20), resp.WireBytes, resp.Duration)
	if alloc > 40<<20 {
		t.Errorf("allocated %d MiB, want at most 40", alloc>>20)
	}
}

func TestFetchHeaders(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		_, _ = w.Write([]byte(testFeed))
	}))
	defer srv.Close()

	tests := []struct {
		name  string
		agent string
		want  string
	}{
		{"default", "", "Recap/0.1.0 (+https://github.com/recap; self-hosted AI news aggregator)"},
		{"configured", "MyRecap/2", "MyRecap/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFetcher(FetcherConfig{UserAgent: tt.agent})
			if _, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ua := got.Get("User-Agent"); ua != tt.want {
				t.Errorf("User-Agent = %q, want %q", ua, tt.want)
			}
			if ae := got.Get("Accept-Encoding"); ae != "gzip, deflate" {
				t.Errorf("Accept-Encoding = %q", ae)
			}
			if a := got.Get("Accept"); !strings.HasPrefix(a, "application/rss+xml, application/atom+xml, application/feed+json") {
				t.Errorf("Accept = %q", a)
			}
			if got.Get("If-None-Match") != "" || got.Get("If-Modified-Since") != "" {
				t.Errorf("validators sent without being asked: %v", got)
			}
		})
	}
	if !strings.HasPrefix(DefaultUserAgent(), "Recap/"+Version+" ") {
		t.Errorf("DefaultUserAgent() = %q", DefaultUserAgent())
	}
}

func TestFetchConditional(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Mon, 02 Jan 2006 15:04:05 GMT"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-Modified-Since") == lastMod {
			if r.URL.Query().Get("echo") != "no" {
				w.Header().Set("ETag", etag)
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		_, _ = w.Write([]byte(testFeed))
	}))
	defer srv.Close()
	f := newTestFetcher(FetcherConfig{})

	tests := []struct {
		name         string
		req          FetchRequest
		notModified  bool
		wantETag     string
		wantLastMod  string
		wantBodySize int
	}{
		{"first fetch", FetchRequest{URL: srv.URL}, false, etag, lastMod, len(testFeed)},
		{"ETag", FetchRequest{URL: srv.URL, ETag: etag}, true, etag, "", 0},
		{"Last-Modified", FetchRequest{URL: srv.URL, LastModified: lastMod}, true, etag, lastMod, 0},
		{"both", FetchRequest{URL: srv.URL, ETag: etag, LastModified: lastMod}, true, etag, lastMod, 0},
		{"304 without validators keeps the request's", FetchRequest{URL: srv.URL + "/?echo=no", ETag: etag, LastModified: lastMod}, true, etag, lastMod, 0},
		{"stale ETag", FetchRequest{URL: srv.URL, ETag: `"v0"`}, false, etag, lastMod, len(testFeed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.NotModified != tt.notModified {
				t.Errorf("NotModified = %v, want %v", resp.NotModified, tt.notModified)
			}
			if tt.notModified && (resp.Body != nil || resp.Status != http.StatusNotModified) {
				t.Errorf("304: status %d, body %q", resp.Status, resp.Body)
			}
			if len(resp.Body) != tt.wantBodySize {
				t.Errorf("body %d bytes, want %d", len(resp.Body), tt.wantBodySize)
			}
			if resp.ETag != tt.wantETag || resp.LastModified != tt.wantLastMod {
				t.Errorf("ETag %q Last-Modified %q, want %q %q", resp.ETag, resp.LastModified, tt.wantETag, tt.wantLastMod)
			}
		})
	}
}

// redirectServer answers /r/CODE,CODE,... by redirecting with the first code
// to the rest of the chain, and /r/end with the feed.
func redirectServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
			return
		case "/ftp":
			w.Header().Set("Location", "ftp://example.com/feed.xml")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		case "/no-location":
			w.WriteHeader(http.StatusFound)
			return
		}
		codes, ok := strings.CutPrefix(r.URL.Path, "/r/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		if codes == "end" {
			_, _ = w.Write([]byte(testFeed))
			return
		}
		first, rest, _ := strings.Cut(codes, ",")
		code, err := strconv.Atoi(first)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if rest == "" {
			rest = "end"
		}
		http.Redirect(w, r, "/r/"+rest, code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchRedirects(t *testing.T) {
	srv := redirectServer(t)
	f := newTestFetcher(FetcherConfig{})
	tests := []struct {
		name      string
		path      string
		wantFinal string // "" when an error is expected
		permanent bool
		wantErr   string
		status    int // for a StatusError
	}{
		{name: "none", path: "/r/end", wantFinal: "/r/end"},
		{name: "301", path: "/r/301", wantFinal: "/r/end", permanent: true},
		{name: "301 chain", path: "/r/301,301,301", wantFinal: "/r/end", permanent: true},
		{name: "308", path: "/r/308", wantFinal: "/r/end", permanent: true},
		{name: "301 then 308", path: "/r/301,308", wantFinal: "/r/end", permanent: true},
		{name: "302", path: "/r/302", wantFinal: "/r/end"},
		{name: "307", path: "/r/307", wantFinal: "/r/end"},
		{name: "303", path: "/r/303", wantFinal: "/r/end"},
		{name: "301 then 302", path: "/r/301,302", wantFinal: "/r/end"},
		{name: "302 then 301", path: "/r/302,301", wantFinal: "/r/end"},
		{name: "5 redirects", path: "/r/301,301,301,301,301", wantFinal: "/r/end", permanent: true},
		{name: "6 redirects", path: "/r/301,301,301,301,301,301", wantErr: "stopped after 5 redirects"},
		{name: "loop", path: "/loop", wantErr: "stopped after 5 redirects"},
		{name: "to ftp", path: "/ftp", wantErr: `redirect to ftp://example.com/feed.xml: unsupported scheme "ftp"`},
		{name: "no Location", path: "/no-location", wantErr: "HTTP 302 Found", status: http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feedURL := srv.URL + tt.path
			resp, err := f.Fetch(context.Background(), FetchRequest{URL: feedURL})
			if tt.wantErr != "" {
				if err == nil || err.Error() != "fetch "+feedURL+": "+tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var se *StatusError
				if tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status || resp == nil || resp.Status != tt.status) {
					t.Errorf("want StatusError %d with the response, got %v, %+v", tt.status, err, resp)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.FinalURL != srv.URL+tt.wantFinal {
				t.Errorf("FinalURL = %q, want %q", resp.FinalURL, srv.URL+tt.wantFinal)
			}
			wantPerm := ""
			if tt.permanent {
				wantPerm = srv.URL + tt.wantFinal
			}
			if resp.PermanentURL != wantPerm {
				t.Errorf("PermanentURL = %q, want %q", resp.PermanentURL, wantPerm)
			}
			if string(resp.Body) != testFeed {
				t.Errorf("body = %q", resp.Body)
			}
		})
	}
}

func TestFetchRedirectLimitConfigurable(t *testing.T) {
	srv := redirectServer(t)
	tests := []struct {
		max     int
		path    string
		wantErr string
	}{
		{1, "/r/301", ""},
		{1, "/r/301,301", "stopped after 1 redirects"},
		{-1, "/r/end", ""},
		{-1, "/r/302", "stopped after 0 redirects"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max, tt.path), func(t *testing.T) {
			f := newTestFetcher(FetcherConfig{MaxRedirects: tt.max})
			_, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL + tt.path})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFetchStatus(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if ra := q.Get("retry"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		if cc := q.Get("cc"); cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		code, _ := strconv.Atoi(q.Get("code"))
		w.WriteHeader(code)
		_, _ = w.Write([]byte("some error page"))
	}))
	defer srv.Close()
	f := newTestFetcher(FetcherConfig{Now: func() time.Time { return now }})

	tests := []struct {
		name      string
		code      int
		retry     string
		cc        string
		wantRetry time.Duration
		wantMsg   string // "" for success
		wantAge   time.Duration
	}{
		{name: "429 seconds", code: 429, retry: "120", wantRetry: 2 * time.Minute, wantMsg: "HTTP 429 Too Many Requests (retry after 2m0s)"},
		{name: "429 HTTP date", code: 429, retry: now.Add(90 * time.Second).Format(http.TimeFormat), wantRetry: 90 * time.Second, wantMsg: "HTTP 429 Too Many Requests (retry after 1m30s)"},
		{name: "503 seconds", code: 503, retry: "120", wantRetry: 2 * time.Minute, wantMsg: "HTTP 503 Service Unavailable (retry after 2m0s)"},
		{name: "503 without Retry-After", code: 503, wantMsg: "HTTP 503 Service Unavailable"},
		{name: "503 date in the past", code: 503, retry: now.Add(-time.Hour).Format(http.TimeFormat), wantMsg: "HTTP 503 Service Unavailable"},
		{name: "503 ten days", code: 503, retry: "864000", wantRetry: 24 * time.Hour, wantMsg: "HTTP 503 Service Unavailable (retry after 24h0m0s)"},
		{name: "503 garbage", code: 503, retry: "soon", wantMsg: "HTTP 503 Service Unavailable"},
		{name: "500", code: 500, wantMsg: "HTTP 500 Internal Server Error"},
		{name: "404", code: 404, wantMsg: "HTTP 404 Not Found"},
		{name: "410", code: 410, wantMsg: "HTTP 410 Gone"},
		{name: "unknown code", code: 599, wantMsg: "HTTP 599"},
		{name: "200 with max-age", code: 200, cc: "public, max-age=600", wantAge: 10 * time.Minute},
		{name: "200 with no-cache", code: 200, cc: "max-age=600, no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feedURL := fmt.Sprintf("%s/?code=%d&retry=%s&cc=%s", srv.URL, tt.code, url.QueryEscape(tt.retry), url.QueryEscape(tt.cc))
			resp, err := f.Fetch(context.Background(), FetchRequest{URL: feedURL})
			if resp == nil {
				t.Fatalf("no response, err %v", err)
			}
			if resp.Status != tt.code || resp.RetryAfter != tt.wantRetry || resp.MaxAge != tt.wantAge {
				t.Errorf("status %d RetryAfter %v MaxAge %v, want %d %v %v", resp.Status, resp.RetryAfter, resp.MaxAge, tt.code, tt.wantRetry, tt.wantAge)
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a StatusError", err)
			}
			if se.Status != tt.code || se.RetryAfter != tt.wantRetry {
				t.Errorf("StatusError %+v", se)
			}
			if se.Error() != tt.wantMsg || err.Error() != "fetch "+feedURL+": "+tt.wantMsg {
				t.Errorf("message %q, want %q", err, tt.wantMsg)
			}
			if resp.Body != nil {
				t.Errorf("error page kept as body: %q", resp.Body)
			}
		})
	}
}

func TestFetchRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"1", time.Second},
		{" 300 ", 5 * time.Minute},
		{"86400", 24 * time.Hour},
		{"86401", 24 * time.Hour},
		{"99999999999999999999", 0}, // not an int64: not seconds, not a date
		{"9223372036854775807", 24 * time.Hour},
		{"1.5", 0},
		{"Fri, 02 Jan 2026 03:05:05 GMT", time.Minute},      // RFC 1123
		{"Friday, 02-Jan-26 03:06:05 GMT", 2 * time.Minute}, // RFC 850
		{"Fri Jan  2 03:07:05 2026", 3 * time.Minute},       // asctime
		{"Fri, 02 Jan 2026 03:04:05 GMT", 0},
		{"Thu, 01 Jan 2026 00:00:00 GMT", 0},
		{"Sat, 02 Jan 2027 00:00:00 GMT", 24 * time.Hour},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		if got := fetchRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("fetchRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFetchMaxAge(t *testing.T) {
	tests := []struct {
		in   []string
		want time.Duration
	}{
		{nil, 0},
		{[]string{"max-age=300"}, 5 * time.Minute},
		{[]string{"public, max-age=3600, must-revalidate"}, time.Hour},
		{[]string{"Max-Age = 60"}, time.Minute},
		{[]string{`max-age="120"`}, 2 * time.Minute},
		{[]string{"max-age=0"}, 0},
		{[]string{"max-age=-1"}, 0},
		{[]string{"max-age=abc"}, 0},
		{[]string{"max-age=999999999999"}, 24 * time.Hour},
		{[]string{"no-cache, max-age=300"}, 0},
		{[]string{"max-age=300, no-store"}, 0},
		{[]string{"max-age=300", "no-cache"}, 0},
		{[]string{"private", "max-age=90"}, 90 * time.Second},
		{[]string{"s-maxage=600"}, 0},
		{[]string{",,,"}, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.in {
			h.Add("Cache-Control", v)
		}
		if got := fetchMaxAge(h); got != tt.want {
			t.Errorf("fetchMaxAge(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"slow drip", func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < 100_000; i++ {
				if _, err := w.Write([]byte("<")); err != nil {
					return
				}
				_ = rc.Flush()
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			f := newTestFetcher(FetcherConfig{RequestTimeout: 200 * time.Millisecond})
			_, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL})
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timed out after 200ms") {
				t.Errorf("message %q does not say how long", err)
			}
		})
	}
}

func TestFetchCallerCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := newTestFetcher(FetcherConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Fetch(ctx, FetchRequest{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFetchBadURL(t *testing.T) {
	f := newTestFetcher(FetcherConfig{})
	tests := []struct{ url, want string }{
		{"ftp://example.com/feed", `unsupported scheme "ftp"`},
		{"file:///etc/passwd", `unsupported scheme "file"`},
		{"example.com/feed", `unsupported scheme ""`},
		{"http:///feed", "no host"},
		{"http://exa mple.com/", "invalid character"},
		{"://", "missing protocol scheme"},
	}
	for _, tt := range tests {
		resp, err := f.Fetch(context.Background(), FetchRequest{URL: tt.url})
		if err == nil || resp != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Fetch(%q) = %v, %v; want an error containing %q", tt.url, resp, err, tt.want)
		}
	}
}

// TestFetchPerHostLimit: 10 fetches at once to one host with a limit of 2. The
// server holds every request until the test opens the gate, so while it is
// shut exactly 2 can be in flight, and the other 8 must be queued in the
// limiter (not at the server). Another host is not held up meanwhile.
func TestFetchPerHostLimit(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan struct{}, 100)
	var inFlight, maxSeen atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxSeen.Load()
			if n <= m || maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		arrived <- struct{}{}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(testFeed))
	}))
	defer slow.Close()
	other := httptest.NewServer(serveBytes([]byte(testFeed)))
	defer other.Close()

	f := newTestFetcher(FetcherConfig{PerHostLimit: 2, RequestTimeout: time.Minute})
	const n = 10
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := f.Fetch(context.Background(), FetchRequest{URL: fmt.Sprintf("%s/feed%d", slow.URL, i)})
			if err == nil && string(resp.Body) != testFeed {
				err = fmt.Errorf("body %q", resp.Body)
			}
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		<-arrived
	}
	key := strings.TrimPrefix(slow.URL, "http://")
	// Wait (bounded) until all 10 are registered with the limiter: 2 holding
	// slots, 8 waiting for one.
	for i := 0; i < 5000 && limiterUsers(f.hosts, key) < n; i++ {
		time.Sleep(time.Millisecond)
	}
	if got := limiterUsers(f.hosts, key); got != n {
		t.Fatalf("limiter has %d users of %s, want %d", got, key, n)
	}

	// The other host is free while this one is saturated.
	if _, err := f.Fetch(context.Background(), FetchRequest{URL: other.URL}); err != nil {
		t.Fatalf("other host: %v", err)
	}
	// A caller that gives up while waiting for a slot leaves at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, FetchRequest{URL: slow.URL}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: err = %v", err)
	}

	close(gate)
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if m := maxSeen.Load(); m != 2 {
		t.Errorf("max requests in flight = %d, want 2", m)
	}
	f.hosts.mu.Lock()
	left := len(f.hosts.hosts)
	f.hosts.mu.Unlock()
	if left != 0 {
		t.Errorf("%d host entries left after all fetches ended", left)
	}
}

func limiterUsers(l *fetchHostLimiter, key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.hosts[key]; s != nil {
		return s.users
	}
	return 0
}

func TestFetchHostKey(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://Example.COM/feed", "example.com:80"},
		{"https://example.com/feed", "example.com:443"},
		{"https://example.com:443/feed", "example.com:443"},
		{"http://example.com:8080/", "example.com:8080"},
		{"http://[2001:db8::1]/", "[2001:db8::1]:80"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := fetchHostKey(u); got != tt.want {
			t.Errorf("fetchHostKey(%s) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestFetchReadCappedNeverReadsPastCap(t *testing.T) {
	tests := []struct {
		max, hint int64
	}{
		{10, -1}, {10, 0}, {10, 5}, {10, 100}, {1 << 20, -1},
	}
	for _, tt := range tests {
		r := &fetchCountingReader{r: endlessReader{}}
		_, err := fetchReadCapped(r, tt.max, tt.hint)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("max %d hint %d: err = %v", tt.max, tt.hint, err)
		}
		if r.n != tt.max+1 {
			t.Errorf("max %d hint %d: read %d bytes, want %d", tt.max, tt.hint, r.n, tt.max+1)
		}
	}
}

type endlessReader struct{}

func (endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestFetchIsZlibHeader(t *testing.T) {
	feed := []byte(testFeed)
	for _, level := range []int{zlib.NoCompression, zlib.BestSpeed, zlib.DefaultCompression, zlib.BestCompression} {
		var buf bytes.Buffer
		w, _ := zlib.NewWriterLevel(&buf, level)
		_, _ = w.Write(feed)
		_ = w.Close()
		if !fetchIsZlibHeader(buf.Bytes()) {
			t.Errorf("level %d: zlib header % x not recognised", level, buf.Bytes()[:2])
		}
	}
	raw := compress(t, "flate", feed)
	if fetchIsZlibHeader(raw) {
		t.Errorf("raw deflate % x taken for zlib", raw[:2])
	}
	if fetchIsZlibHeader(nil) || fetchIsZlibHeader([]byte{0x78}) {
		t.Error("short input taken for zlib")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFetchCustomTransport: a given Transport is used as is, and a response
// it builds without Request (which http.Transport always sets) is handled.
func TestFetchCustomTransport(t *testing.T) {
	var calls atomic.Int64
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{
			StatusCode:    http.StatusOK,
			Header:        http.Header{"Etag": {`"x"`}},
			Body:          io.NopCloser(strings.NewReader(testFeed)),
			ContentLength: int64(len(testFeed)),
		}, nil
	})
	f := NewFetcher(FetcherConfig{Transport: rt})
	const u = "http://feeds.example.com/rss"
	resp, err := f.Fetch(context.Background(), FetchRequest{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || string(resp.Body) != testFeed || resp.FinalURL != u || resp.ETag != `"x"` || resp.PermanentURL != "" {
		t.Errorf("calls %d, response %+v", calls.Load(), resp)
	}
	if f.Client().Transport == nil {
		t.Error("Client() has no Transport")
	}
}
