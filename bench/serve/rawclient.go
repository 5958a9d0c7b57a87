package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawConn is one keep-alive HTTP/1.1 connection that sends prebuilt GET
// requests and reads each answer's status line and headers, then skips
// its body by Content-Length or chunks. It reconnects after an error.
type rawConn struct {
	ctx  context.Context
	addr string
	reqs [][]byte

	c    net.Conn
	br   *bufio.Reader
	stop func() bool // undoes the context.AfterFunc that closes c
}

// rawTimeout bounds one request, so a stuck server ends the run with
// errors instead of hanging it.
const rawTimeout = time.Minute

// maxHeaderLines bounds the headers of one answer.
const maxHeaderLines = 200

var errProtocol = errors.New("malformed HTTP answer")

func (r *rawConn) do(i int) (status int, bodyBytes int64, err error) {
	if r.c == nil {
		d := net.Dialer{Timeout: 10 * time.Second}
		c, err := d.DialContext(r.ctx, "tcp", r.addr)
		if err != nil {
			return 0, 0, err
		}
		r.c, r.br = c, bufio.NewReaderSize(c, 32<<10)
		r.stop = context.AfterFunc(r.ctx, func() { c.Close() })
	}
	r.c.SetDeadline(time.Now().Add(rawTimeout))
	if _, err := r.c.Write(r.reqs[i]); err != nil {
		r.close()
		return 0, 0, err
	}
	status, n, keep, err := readAnswer(r.br)
	if err != nil || !keep {
		r.close()
	}
	return status, n, err
}

func (r *rawConn) close() {
	if r.c != nil {
		r.stop()
		r.c.Close()
		r.c, r.br = nil, nil
	}
}

// readAnswer reads one answer to a GET from br: its status, how many body
// bytes it had, and whether the connection may carry another request.
func readAnswer(br *bufio.Reader) (status int, n int64, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, fmt.Errorf("status line: %w", err)
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errProtocol, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("%w: status line %q", errProtocol, line)
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless told otherwise; treated as closing
	length, chunked := int64(-1), false
	for lines := 0; ; lines++ {
		if lines == maxHeaderLines {
			return status, 0, false, fmt.Errorf("%w: more than %d header lines", errProtocol, maxHeaderLines)
		}
		h, err := br.ReadSlice('\n')
		if err != nil {
			return status, 0, false, fmt.Errorf("headers: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return status, 0, false, fmt.Errorf("%w: header line %q", errProtocol, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 {
				return status, 0, false, fmt.Errorf("%w: Content-Length %q", errProtocol, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	switch {
	case status/100 == 1 || status == 204 || status == 304:
		return status, 0, keep, nil
	case chunked:
		n, err = skipChunks(br)
		return status, n, keep && err == nil, err
	case length >= 0:
		d, err := br.Discard(int(length))
		return status, int64(d), keep && err == nil, err
	default: // the body runs to the end of the connection
		n, err = io.Copy(io.Discard, br)
		return status, n, false, err
	}
}

// skipChunks reads a chunked body and its trailers, returning the body's size.
func skipChunks(br *bufio.Reader) (int64, error) {
	var total int64
	for chunks := 0; ; chunks++ {
		if chunks == 1<<20 {
			return total, fmt.Errorf("%w: more than 2^20 chunks", errProtocol)
		}
		line, err := br.ReadSlice('\n')
		if err != nil {
			return total, fmt.Errorf("chunk size: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 || size > 1<<30 {
			return total, fmt.Errorf("%w: chunk size %q", errProtocol, line)
		}
		if size == 0 {
			break
		}
		if _, err := br.Discard(int(size)); err != nil {
			return total, fmt.Errorf("chunk: %w", err)
		}
		total += size
		if crlf, err := br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return total, fmt.Errorf("%w: no line end after a chunk", errProtocol)
		}
	}
	for lines := 0; lines < maxHeaderLines; lines++ {
		t, err := br.ReadSlice('\n')
		if err != nil {
			return total, fmt.Errorf("trailers: %w", err)
		}
		if len(bytes.TrimRight(t, "\r\n")) == 0 {
			return total, nil
		}
	}
	return total, fmt.Errorf("%w: more than %d trailer lines", errProtocol, maxHeaderLines)
}
