package server

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"fmt"
	"hash/fnv"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"recap/store"
)

// Every page and feed is rendered once per change of what it shows, kept in
// memory with its gzip twin and ETag, and served from there until the store's
// version moves: between polls a request costs a map look-up.

// response is a rendered page, feed or API answer.
type response struct {
	body     []byte
	gz       []byte // gzipped body; nil when not worth it
	ctype    string
	etag     string // strong validator of body
	modified time.Time
	tag      string // the version it was rendered at
	location string // a redirect (302) to this path; "" for a 200
}

func (r *response) size() int { return len(r.body) + len(r.gz) + 256 }

// deps says what a response shows, hence which version counter outdates it.
type deps int

const (
	onArticles deps = 1 << iota
	onSources
	onClock  // relative times ("3h ago"): rendered again every minute
	onSearch // search results: outdated when new articles become searchable
)

// tagOf is the cache tag of the response at key with these deps at
// version v. Responses on the clock turn over at a minute boundary of their
// own (shifted by a hash of the key): were they all to expire in the same
// second, a thousand cached article pages would render at once, and the
// requests queued behind them waited half a second (p99 526 ms at 5,000
// requests/s in bench/serve; 4 ms with the shift).
func tagOf(key string, d deps, v store.Version, now time.Time) string {
	var b strings.Builder
	if d&onArticles != 0 {
		b.WriteString("a" + strconv.FormatInt(v.Articles, 10))
	}
	if d&onSources != 0 {
		b.WriteString("s" + strconv.FormatInt(v.Sources, 10))
	}
	if d&onSearch != 0 {
		b.WriteString("i" + strconv.FormatInt(v.Searchable, 10))
	}
	if d&onClock != 0 {
		h := fnv.New32a()
		h.Write([]byte(key))
		b.WriteString("m" + strconv.FormatInt((now.Unix()+int64(h.Sum32()%60))/60, 10))
	}
	return b.String()
}

// modifiedOf is the Last-Modified of a response with these deps.
func modifiedOf(d deps, v store.Version) time.Time {
	var t time.Time
	if d&onArticles != 0 && v.ArticlesAt.After(t) {
		t = v.ArticlesAt
	}
	if d&onSources != 0 && v.SourcesAt.After(t) {
		t = v.SourcesAt
	}
	return t
}

func newResponse(body []byte, ctype string) *response {
	h := fnv.New64a()
	h.Write(body)
	r := &response{body: body, ctype: ctype, etag: fmt.Sprintf(`"%016x"`, h.Sum64())}
	if len(body) >= 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			r.gz = buf.Bytes()
		}
	}
	return r
}

// redirectResponse sends the client to path with 302 Found: temporary,
// since what an old link leads to may change (an article joins a story
// after its page was linked). It is cached like any answer, so a burst of
// old links costs a map look-up too.
func redirectResponse(path string) *response {
	esc := template.HTMLEscapeString(path)
	r := newResponse([]byte(`<!doctype html><html lang="en"><title>Moved</title><p>Now at <a href="`+esc+`">`+esc+`</a>.</p></html>`+"\n"), "text/html; charset=utf-8")
	r.location = path
	return r
}

// renderTimeout bounds one render of a cached response.
const renderTimeout = 30 * time.Second

// renderFunc renders a response; an error is answered by fail, not cached.
type renderFunc func(r *http.Request) (*response, error)

// cached serves what render produces, from the cache while the store's
// version for d has not moved. Searches go to a cache of their own, so the
// long tail of distinct queries cannot push pages and feeds out. params are
// the query parameters render reads: only they make the cache key, so
// requests that add others (?utm_source=..., ?x=1, ?x=2 ...) share one
// entry instead of each rendering the page again and pushing others out.
func (s *Server) cached(d deps, render renderFunc, params ...string) http.HandlerFunc {
	c := s.cache
	if d&onSearch != 0 {
		c = s.searchCache
	}
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.version(r.Context())
		if err != nil {
			s.fail(w, r, unavailable(err))
			return
		}
		key := cacheKey(r, params)
		tag := tagOf(key, d, v, s.now())
		resp, err := c.get(r.Context(), key, tag, func() (*response, error) {
			// Others may wait on this render: a client that hangs up must
			// not cancel it for them.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
			defer cancel()
			resp, err := render(r.WithContext(ctx))
			if err != nil {
				return nil, err
			}
			resp.tag = tag
			resp.modified = modifiedOf(d, v)
			return resp, nil
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		serve(w, r, resp)
	}
}

// cacheKey is the path and the values of params, in their order.
func cacheKey(r *http.Request, params []string) string {
	key := r.URL.Path + "?"
	if len(params) == 0 {
		return key
	}
	q := r.URL.Query()
	for i, p := range params {
		if i > 0 {
			key += "&"
		}
		key += url.QueryEscape(q.Get(p))
	}
	return key
}

// serve writes resp, or 304 when the client's validators match.
func serve(w http.ResponseWriter, r *http.Request, resp *response) {
	h := w.Header()
	if resp.location != "" {
		// No validators: a 302 is not revalidated, it is followed.
		h.Set("Location", resp.location)
		h.Set("Content-Type", resp.ctype)
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
		w.WriteHeader(http.StatusFound)
		if r.Method != http.MethodHead {
			w.Write(resp.body)
		}
		return
	}
	useGzip := resp.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag := resp.etag
	if useGzip {
		// Each representation has its own strong validator.
		etag = resp.etag[:len(resp.etag)-1] + `-gz"`
	}
	h.Set("ETag", etag)
	h.Add("Vary", "Accept-Encoding")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "public, max-age=0, must-revalidate")
	}
	if !resp.modified.IsZero() {
		h.Set("Last-Modified", resp.modified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, resp, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", resp.ctype)
	body := resp.body
	if useGzip {
		h.Set("Content-Encoding", "gzip")
		body = resp.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified applies RFC 9110's conditional GET: If-None-Match wins; without
// it, If-Modified-Since.
func notModified(r *http.Request, resp *response, etag string) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag || t == resp.etag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !resp.modified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !resp.modified.Truncate(time.Second).After(t)
	}
	return false
}

// acceptsGzip reads Accept-Encoding, honouring "gzip;q=0".
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// respCache is an LRU of responses bounded in bytes, with one render at a
// time per key: a burst of requests after a poll waits for one render
// instead of each rendering the page again.
type respCache struct {
	mu       sync.Mutex
	max, cur int
	lru      *list.List // of *cacheEntry, most recent first
	byKey    map[string]*list.Element
	inflight map[string]*flight
}

type cacheEntry struct {
	key  string
	resp *response
}

type flight struct {
	done chan struct{}
	tag  string
	resp *response
	err  error
}

func newRespCache(maxBytes int) *respCache {
	return &respCache{max: maxBytes, lru: list.New(), byKey: map[string]*list.Element{}, inflight: map[string]*flight{}}
}

// get returns the response cached under key at tag, else renders it once
// for every caller waiting on the same key and tag.
func (c *respCache) get(ctx context.Context, key, tag string, render func() (*response, error)) (*response, error) {
	c.mu.Lock()
	if el, ok := c.byKey[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.resp.tag == tag {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.resp, nil
		}
	}
	if f, ok := c.inflight[key]; ok && f.tag == tag {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.resp, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{}), tag: tag}
	c.inflight[key] = f
	c.mu.Unlock()

	f.resp, f.err = render()
	c.mu.Lock()
	if c.inflight[key] == f {
		delete(c.inflight, key)
	}
	if f.err == nil {
		c.put(key, f.resp)
	}
	c.mu.Unlock()
	close(f.done)
	return f.resp, f.err
}

// put stores resp under key; c.mu is held.
func (c *respCache) put(key string, resp *response) {
	if resp.size() > c.max/8 {
		return // one huge response must not flush everything else
	}
	if el, ok := c.byKey[key]; ok {
		c.cur -= el.Value.(*cacheEntry).resp.size()
		c.lru.Remove(el)
	}
	c.byKey[key] = c.lru.PushFront(&cacheEntry{key: key, resp: resp})
	c.cur += resp.size()
	for c.cur > c.max {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.byKey, e.key)
		c.cur -= e.resp.size()
	}
}
