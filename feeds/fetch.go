package feeds

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is Recap's version, as the User-Agent announces it.
const Version = "0.1.0"

// DefaultUserAgent names Recap, its version and where to learn about it, so a
// feed's operator can tell what is polling them.
func DefaultUserAgent() string {
	return "Recap/" + Version + " (+https://github.com/recap; self-hosted AI news aggregator)"
}

const (
	fetchAccept = "application/rss+xml, application/atom+xml, application/feed+json, " +
		"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
	// fetchDrainBytes is how much of an unwanted body (304, errors) is read so
	// the connection can be reused; more than that and closing it is cheaper.
	fetchDrainBytes = 4 << 10
	// fetchMaxWait caps Retry-After and max-age: the poller never waits longer.
	fetchMaxWait = 24 * time.Hour
)

// FetcherConfig holds every limit of the fetcher. Zero values mean the default.
type FetcherConfig struct {
	UserAgent            string        // default DefaultUserAgent()
	AllowPrivateNetworks bool          // allow loopback, private, link-local... addresses
	MaxBodyBytes         int64         // default 10 MiB, after decompression
	DialTimeout          time.Duration // default 10s; also the TLS handshake timeout
	RequestTimeout       time.Duration // default 30s, the whole request including the body
	MaxRedirects         int           // default 5; negative: follow none
	PerHostLimit         int           // default 2 requests in flight to one host:port
	// Transport replaces the tuned one (tests). The SSRF guard lives in the
	// tuned transport's dialer, so a Transport given here is not guarded.
	Transport http.RoundTripper
	// Now is the wall clock Retry-After dates are measured against; default time.Now.
	Now func() time.Time
}

func (c FetcherConfig) withDefaults() FetcherConfig {
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent()
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 10 << 20
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	switch {
	case c.MaxRedirects == 0:
		c.MaxRedirects = 5
	case c.MaxRedirects < 0:
		c.MaxRedirects = 0
	}
	if c.PerHostLimit <= 0 {
		c.PerHostLimit = 2
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Fetcher downloads feeds over HTTP with one shared client, within the limits
// of its FetcherConfig. It is safe for concurrent use.
type Fetcher struct {
	cfg    FetcherConfig
	client *http.Client
	hosts  *fetchHostLimiter
}

// NewFetcher builds the one http.Client every fetch reuses.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	return newFetcher(cfg, nil)
}

// newFetcher lets tests decide which addresses count as public (allowAddr);
// nil means the real classifier, or no check when private networks are allowed.
func newFetcher(cfg FetcherConfig, allowAddr func(netip.Addr) bool) *Fetcher {
	cfg = cfg.withDefaults()
	if allowAddr == nil && !cfg.AllowPrivateNetworks {
		allowAddr = ssrfPublicAddr
	}
	rt := cfg.Transport
	if rt == nil {
		rt = newFetchTransport(cfg, allowAddr)
	}
	f := &Fetcher{
		cfg:   cfg,
		hosts: &fetchHostLimiter{limit: cfg.PerHostLimit, hosts: make(map[string]*fetchHostSlot)},
	}
	f.client = &http.Client{Transport: rt, CheckRedirect: f.checkRedirect}
	return f
}

func newFetchTransport(cfg FetcherConfig, allowAddr func(netip.Addr) bool) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	if allowAddr != nil {
		dialer.ControlContext = ssrfControl(allowAddr)
	}
	return &http.Transport{
		// No proxy: a proxy would connect on our behalf, where the dialer's
		// address check cannot see.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   cfg.PerHostLimit,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		ExpectContinueTimeout: time.Second,
		// We ask for gzip and deflate ourselves, to decode deflate too and to
		// cap the decompressed size.
		DisableCompression: true,
	}
}

// Client is the shared client, for other requests that need the same limits
// and guard (feed discovery).
func (f *Fetcher) Client() *http.Client { return f.client }

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.cfg.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", f.cfg.MaxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("redirect to %s: unsupported scheme %q", req.URL.Redacted(), s)
	}
	return nil
}

// FetchRequest is one feed to fetch, with the validators of the last fetch.
type FetchRequest struct {
	URL          string
	ETag         string
	LastModified string
}

// FetchResponse is what a fetch brought back.
type FetchResponse struct {
	Status      int
	NotModified bool   // 304: Body is nil
	Body        []byte // decompressed, at most MaxBodyBytes
	ContentType string
	// ETag and LastModified to send next time. After a 304 that does not
	// repeat them, they are the request's, so the caller can always store them.
	ETag         string
	LastModified string
	FinalURL     string // after redirects
	// PermanentURL is the URL to store instead of the requested one: set only
	// when every redirect was permanent (301, 308); "" otherwise.
	PermanentURL string
	MaxAge       time.Duration // Cache-Control max-age, 0 if absent or no-cache/no-store; at most 24h
	RetryAfter   time.Duration // Retry-After (seconds or HTTP date), at most 24h
	WireBytes    int64         // body bytes read from the network, before decompression
	Duration     time.Duration // from sending the request to the end of the body
}

// StatusError is the error for any status other than 2xx and 304.
type StatusError struct {
	Status     int
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// ErrBodyTooLarge matches (errors.Is) a fetch whose body exceeds MaxBodyBytes.
var ErrBodyTooLarge = errors.New("body too large")

type fetchTooLargeError struct {
	limit    int64
	declared int64 // Content-Length when that is what gave it away, else 0
}

func (e *fetchTooLargeError) Error() string {
	s := "body exceeds " + fetchSize(e.limit) + " limit"
	if e.declared > 0 {
		s += " (Content-Length " + strconv.FormatInt(e.declared, 10) + ")"
	}
	return s
}

func (e *fetchTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

// Fetch downloads one feed. It waits for a free slot for the URL's host
// (respecting ctx), and holds it until the body is read; parsing is the
// caller's, after Fetch returns.
//
// A status other than 2xx or 304 gives a *StatusError together with a
// non-nil response. Other failures after a response arrived also return that
// response (Status, headers, WireBytes), so the caller can record them; the
// response is nil when none arrived. A refused private address matches
// ErrPrivateNetwork.
func (f *Fetcher) Fetch(ctx context.Context, req FetchRequest) (*FetchResponse, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch %s: unsupported scheme %q", req.URL, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("fetch %s: no host", req.URL)
	}

	// Redirects to another host stay under the first host's slot: the limit
	// is about not hammering the host we chose to poll, and a redirect is
	// one request more, not one more in parallel.
	release, err := f.hosts.acquire(ctx, fetchHostKey(u))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: wait for a free slot: %w", req.URL, err)
	}
	defer release()

	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	hreq.Header.Set("Accept", fetchAccept)
	hreq.Header.Set("Accept-Encoding", "gzip, deflate")
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	resp, err := f.client.Do(hreq)
	if err != nil {
		return nil, f.fetchError(ctx, req.URL, err)
	}
	defer resp.Body.Close()
	body := &fetchCountingReader{r: resp.Body}
	final := hreq.URL
	if resp.Request != nil { // a RoundTripper other than http.Transport may leave it unset
		final = resp.Request.URL
	}

	out := &FetchResponse{
		Status:       resp.StatusCode,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		FinalURL:     final.String(),
		PermanentURL: fetchPermanentURL(resp),
		MaxAge:       fetchMaxAge(resp.Header),
		RetryAfter:   fetchRetryAfter(resp.Header.Get("Retry-After"), f.cfg.Now()),
	}
	finish := func() {
		out.WireBytes = body.n
		out.Duration = time.Since(start)
	}

	switch {
	case resp.StatusCode == http.StatusNotModified:
		_, _ = io.CopyN(io.Discard, body, fetchDrainBytes)
		out.NotModified = true
		if out.ETag == "" {
			out.ETag = req.ETag
		}
		if out.LastModified == "" {
			out.LastModified = req.LastModified
		}
		finish()
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		_, _ = io.CopyN(io.Discard, body, fetchDrainBytes)
		finish()
		return out, fmt.Errorf("fetch %s: %w", req.URL, &StatusError{Status: resp.StatusCode, RetryAfter: out.RetryAfter})
	}

	if resp.ContentLength > f.cfg.MaxBodyBytes {
		finish()
		return out, fmt.Errorf("fetch %s: %w", req.URL, &fetchTooLargeError{limit: f.cfg.MaxBodyBytes, declared: resp.ContentLength})
	}
	data, err := fetchReadBody(resp.Header.Get("Content-Encoding"), body, f.cfg.MaxBodyBytes, resp.ContentLength)
	finish()
	if err != nil {
		return out, f.fetchError(ctx, req.URL, err)
	}
	out.Body = data
	return out, nil
}

// fetchError makes err readable: the url.Error and net.OpError layers only
// repeat the URL and address, and a deadline of our own says how long it was.
// errors.Is and errors.As still see through to the cause.
func (f *Fetcher) fetchError(parent context.Context, rawURL string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var refused *ssrfRefusedError
	if errors.As(err, &refused) {
		err = refused
	}
	if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
		return fmt.Errorf("fetch %s: timed out after %s: %w", rawURL, f.cfg.RequestTimeout, err)
	}
	return fmt.Errorf("fetch %s: %w", rawURL, err)
}

// fetchHostKey is the politeness key: lower-case hostname and port, with the
// scheme's default port filled in, so example.com and example.com:443 share.
func fetchHostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// fetchPermanentURL walks the redirect chain back from the final request: the
// final URL replaces the stored one only if every hop was permanent. A single
// temporary hop means the old URL is still the one to ask.
func fetchPermanentURL(resp *http.Response) string {
	hops := 0
	for r := resp.Request; r != nil && r.Response != nil && hops <= 100; r = r.Response.Request {
		if c := r.Response.StatusCode; c != http.StatusMovedPermanently && c != http.StatusPermanentRedirect {
			return ""
		}
		hops++
	}
	if hops == 0 {
		return ""
	}
	return resp.Request.URL.String()
}

// fetchMaxAge reads Cache-Control's max-age. no-cache and no-store mean the
// server wants to be asked every time, which is 0.
func fetchMaxAge(h http.Header) time.Duration {
	var age time.Duration
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err == nil && n > 0 {
					age = fetchSeconds(n)
				}
			}
		}
	}
	return age
}

// fetchRetryAfter reads Retry-After: delay-seconds or an HTTP date, measured
// from now. Anything unreadable or in the past is 0.
func fetchRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return fetchSeconds(n)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, fetchMaxWait)
}

// fetchSeconds converts n seconds to a duration capped at fetchMaxWait,
// without overflowing on absurd values.
func fetchSeconds(n int64) time.Duration {
	if n >= int64(fetchMaxWait/time.Second) {
		return fetchMaxWait
	}
	return time.Duration(n) * time.Second
}

// fetchReadBody decodes the body per Content-Encoding and reads at most
// maxBytes+1 decoded bytes, so a decompression bomb costs no more than the cap.
func fetchReadBody(encoding string, r io.Reader, maxBytes, contentLength int64) ([]byte, error) {
	br := bufio.NewReader(r)
	var dec io.Reader = br
	hint := int64(-1)
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		// Some servers send a .xml.gz file as is, without Content-Encoding;
		// no feed starts with the gzip magic, so it is safe to decode.
		if magic, _ := br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
			hint = contentLength
			break
		}
		fallthrough
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if errors.Is(err, io.EOF) {
			return []byte{}, nil // an empty body, declared gzip: let the parser say it is empty
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		defer zr.Close()
		dec = zr
	case "deflate":
		// "deflate" is meant to be zlib-wrapped, but many servers send raw deflate.
		if hdr, _ := br.Peek(2); fetchIsZlibHeader(hdr) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("read body: %w", err)
			}
			defer zr.Close()
			dec = zr
		} else {
			fr := flate.NewReader(br)
			defer fr.Close()
			dec = fr
		}
	default:
		return nil, fmt.Errorf("read body: unsupported Content-Encoding %q", encoding)
	}
	data, err := fetchReadCapped(dec, maxBytes, hint)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// fetchIsZlibHeader checks the two-byte zlib header (RFC 1950): deflate
// method, window at most 32 KiB, and the check bits.
func fetchIsZlibHeader(h []byte) bool {
	if len(h) < 2 {
		return false
	}
	cmf, flg := h[0], h[1]
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

// fetchReadCapped reads r to the end into one buffer that never grows past
// maxBytes+1 bytes; the extra byte tells "too large" from "exactly the cap".
// hint is the expected size when known (-1 otherwise).
func fetchReadCapped(r io.Reader, maxBytes, hint int64) ([]byte, error) {
	limit := maxBytes + 1
	size := int64(64 << 10)
	if hint >= 0 {
		size = hint + 1 // room for the read that finds EOF
	}
	size = min(max(size, 512), limit)
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= limit {
				break
			}
			grown := make([]byte, len(buf), min(int64(cap(buf))*2, limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
	}
	if int64(len(buf)) > maxBytes {
		return nil, &fetchTooLargeError{limit: maxBytes}
	}
	return buf, nil
}

// fetchSize writes a byte count the way limits are configured.
func fetchSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	default:
		return strconv.FormatInt(n, 10) + " bytes"
	}
}

type fetchCountingReader struct {
	r io.Reader
	n int64
}

func (c *fetchCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fetchHostLimiter bounds the requests in flight per host. A host's entry
// lives only while someone holds or waits for one of its slots, so the map
// stays as small as the set of hosts being fetched right now.
type fetchHostLimiter struct {
	limit int
	mu    sync.Mutex
	hosts map[string]*fetchHostSlot
}

type fetchHostSlot struct {
	sem   chan struct{}
	users int // holders and waiters; guarded by fetchHostLimiter.mu
}

func (l *fetchHostLimiter) acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu.Lock()
	s := l.hosts[key]
	if s == nil {
		s = &fetchHostSlot{sem: make(chan struct{}, l.limit)}
		l.hosts[key] = s
	}
	s.users++
	l.mu.Unlock()

	select {
	case s.sem <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-s.sem
				l.leave(key, s)
			})
		}, nil
	case <-ctx.Done():
		l.leave(key, s)
		return nil, ctx.Err()
	}
}

func (l *fetchHostLimiter) leave(key string, s *fetchHostSlot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.users--
	if s.users == 0 {
		delete(l.hosts, key)
	}
}
