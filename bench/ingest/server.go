package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// servedFile is one file the feed server answers with, in both encodings.
type servedFile struct {
	body, gz    []byte
	etag, gzTag string
	contentType string
}

// feedServer serves the files of one folder at /f/NAME (identity) and
// /gz/NAME (gzip), with ETag and Last-Modified, answering 304 to a matching
// conditional request as a well-run feed server does.
type feedServer struct {
	files    map[string]*servedFile
	modified time.Time
}

func loadFeedServer(dir string, modified time.Time) (*feedServer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("feed server: %w", err)
	}
	s := &feedServer{files: make(map[string]*servedFile, len(entries)), modified: modified.UTC().Truncate(time.Second)}
	for _, e := range entries {
		// Dot files are bookkeeping (a generator's marker), not feeds.
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("feed server: %w", err)
		}
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		if _, err := zw.Write(body); err != nil {
			return nil, fmt.Errorf("feed server: gzip %s: %w", e.Name(), err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("feed server: gzip %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		tag := hex.EncodeToString(sum[:8])
		s.files[e.Name()] = &servedFile{
			body: body, gz: zb.Bytes(),
			etag: `"` + tag + `"`, gzTag: `"` + tag + `-gz"`,
			contentType: contentTypeFor(e.Name()),
		}
	}
	return s, nil
}

// contentTypeFor names the type a typical server sends for the extension;
// no charset for XML, so a document's own declaration (UTF-16, Latin-1)
// is what decides, as the hostile set means it to.
func contentTypeFor(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "application/feed+json"
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".xml", ".rss", ".atom":
		if strings.HasPrefix(name, "feed-") {
			return "application/rss+xml; charset=utf-8"
		}
		return "application/xml"
	default:
		return "application/octet-stream"
	}
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var gz bool
	var name string
	switch {
	case strings.HasPrefix(r.URL.Path, "/f/"):
		name = strings.TrimPrefix(r.URL.Path, "/f/")
	case strings.HasPrefix(r.URL.Path, "/gz/"):
		name, gz = strings.TrimPrefix(r.URL.Path, "/gz/"), true
	default:
		http.NotFound(w, r)
		return
	}
	f, ok := s.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, tag := f.body, f.etag
	if gz {
		body, tag = f.gz, f.gzTag
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", tag)
	// ServeContent answers If-None-Match and If-Modified-Since with 304.
	http.ServeContent(w, r, name, s.modified, bytes.NewReader(body))
}

// serveInfo is the line the server process prints once it listens.
type serveInfo struct {
	Addrs []string `json:"addrs"`
	Files int      `json:"files"`
}

// loopbackAddrs are the hosts the server listens on: 127.0.0.1 up to
// 127.0.0.n. Linux routes all of 127.0.0.0/8 to the loopback interface, so
// each is a distinct host to the fetcher's per-host limit.
func loopbackAddrs(n int) []string {
	hosts := make([]string, n)
	for i := range n {
		hosts[i] = fmt.Sprintf("127.0.0.%d", i+1)
	}
	return hosts
}

// runServe is the -serve mode: serve dir on n loopback hosts, print where,
// and exit when stdin closes (the parent is gone) or ctx ends.
func runServe(ctx context.Context, dir string, n int, stdin io.Reader, stdout io.Writer) error {
	srv, err := loadFeedServer(dir, time.Now())
	if err != nil {
		return err
	}
	info := serveInfo{Files: len(srv.files)}
	var listeners []net.Listener
	for _, h := range loopbackAddrs(n) {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, "0"))
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("listen on %s: %w", h, err)
		}
		listeners = append(listeners, ln)
		info.Addrs = append(info.Addrs, ln.Addr().String())
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		go func() { errc <- hs.Serve(ln) }()
	}
	line, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
