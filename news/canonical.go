package news

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxURLLength bounds a canonical URL. Longer links are nearly always
// generated junk (session blobs, data smuggled in queries), and browsers and
// search engines stop around 2 KB as well.
const MaxURLLength = 2048

// trackingParams are query parameters that identify a campaign, a click or a
// visitor, never the page: removing them lets the same article shared through
// different channels collapse into one URL. Names are compared lower-cased;
// every "utm_" parameter is tracking too (see isTrackingParam).
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true,
	"mkt_tok": true, "igshid": true, "yclid": true, "ref_src": true, "ref_url": true,
	"oly_enc_id": true, "oly_anon_id": true, "vero_id": true, "__s": true,
	"s_cid": true, "spm": true, "_ga": true, "_gl": true,
}

var (
	errRelative = errors.New("relative URL without a base")
	errNoHost   = errors.New("no host")
)

// CanonicalURL returns the form of a link that identifies an article across
// feeds (dedupe level 2): resolved against base, http or https only, lower-case
// scheme and host, no default port, no userinfo, no fragment, no tracking
// parameters, dot-segments removed and percent-encoding normalized. The other
// query parameters keep their order, because some sites route on it.
// base may be nil; a relative link is then an error.
func CanonicalURL(raw string, base *url.URL) (string, error) {
	s, err := cleanRaw(raw)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("canonical url: %w", err)
	}
	if !u.IsAbs() {
		if base == nil {
			return "", fmt.Errorf("canonical url %q: %w", shorten(s), errRelative)
		}
		u = base.ResolveReference(u)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("canonical url %q: scheme %q not allowed", shorten(s), u.Scheme)
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("canonical url %q: %w", shorten(s), errNoHost)
	}
	host, err := canonicalHost(u.Host, scheme)
	if err != nil {
		return "", fmt.Errorf("canonical url %q: %w", shorten(s), err)
	}

	p := removeDotSegments(normalizeEscapes(u.EscapedPath(), pathKeep))
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		// A host-relative path cannot follow an authority; a base without a
		// path can produce one.
		p = "/" + p
	}
	q := canonicalQuery(u.RawQuery)

	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(host) + len(p) + 1 + len(q))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	b.WriteString(p)
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	out := b.String()
	if len(out) > MaxURLLength {
		return "", fmt.Errorf("canonical url %q: longer than %d bytes", shorten(s), MaxURLLength)
	}
	return out, nil
}

// cleanRaw trims the link and removes the tabs and line breaks that feeds wrap
// long links with (browsers drop them too); any other control character means
// the link is broken and is refused.
func cleanRaw(raw string) (string, error) {
	// The input is bounded before any work: percent-encoding can only grow it.
	if len(raw) > 4*MaxURLLength {
		return "", fmt.Errorf("canonical url: longer than %d bytes", MaxURLLength)
	}
	s := strings.TrimSpace(raw)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	if s == "" {
		return "", errors.New("canonical url: empty")
	}
	if len(s) > MaxURLLength {
		return "", fmt.Errorf("canonical url %q: longer than %d bytes", shorten(s), MaxURLLength)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("canonical url %q: control character at byte %d", shorten(s), i)
		}
	}
	return s, nil
}

// canonicalHost lower-cases the host and drops the scheme's default port.
// Internationalized names stay as given (lower-cased), so that a link written
// with Unicode and one written with punycode are two URLs; converting between
// them would need IDNA tables.
func canonicalHost(hostport, scheme string) (string, error) {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i+1:]
	}
	// One trailing dot is the DNS root (example.com. is example.com); more
	// than one, or nothing else, is no host at all.
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || host == "[]" || strings.HasSuffix(host, ".") {
		return "", errNoHost
	}
	// A colon left in the host is no name and no bracketed IPv6 address
	// ("//::" gave "http://:/", which is hostless; found by FuzzCanonicalURL).
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "", fmt.Errorf("host %q not allowed", host)
	}
	// A zone (fe80::1%eth0) names an interface of the reader's machine, which
	// means nothing in a shared link.
	if strings.ContainsAny(host, "% ") || !utf8.ValidString(host) {
		return "", fmt.Errorf("host %q not allowed", host)
	}
	if port == "" {
		return host, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || strings.Trim(port, "0123456789") != "" {
		return "", fmt.Errorf("port %q invalid", port)
	}
	if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
		return host, nil
	}
	return host + ":" + strconv.Itoa(n), nil
}

// canonicalQuery drops tracking parameters and empty pairs, keeps the others
// in their order and normalizes their escapes.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if isTrackingParam(name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(normalizeEscapes(pair, queryKeep))
	}
	return b.String()
}

func isTrackingParam(rawName string) bool {
	name, err := url.QueryUnescape(rawName)
	if err != nil {
		name = rawName
	}
	name = strings.ToLower(strings.TrimSpace(name))
	return strings.HasPrefix(name, "utm_") || trackingParams[name]
}

// Characters that may stand unescaped in a canonical path or query; everything
// else outside the unreserved set is percent-encoded. Reserved characters that
// are already literal keep their meaning and stay literal (RFC 3986, 6.2.2).
const (
	pathKeep  = "!$&'()*+,;=:@/"
	queryKeep = "!$&'()*+,;=:@/?"
)

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizeEscapes decodes escaped unreserved characters, upper-cases the hex
// of the other escapes and escapes what may not appear literally. A '%' that
// starts no valid escape is escaped itself, so the result always parses.
func normalizeEscapes(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				d := hi<<4 | lo
				if isUnreserved(d) {
					b.WriteByte(d)
				} else {
					b.WriteByte('%')
					b.WriteByte(hex[hi])
					b.WriteByte(hex[lo])
				}
				i += 2
				continue
			}
		}
		if isUnreserved(c) || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// removeDotSegments is RFC 3986, 5.2.4. Unlike path.Clean it keeps a trailing
// slash and empty segments ("//"), which servers may route on.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	in := p
	var out []string // output segments, each starting with "/" except maybe the first
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := strings.IndexByte(in[start:], '/')
			if end < 0 {
				end = len(in)
			} else {
				end += start
			}
			out = append(out, in[:end])
			in = in[end:]
		}
	}
	return strings.Join(out, "")
}

// shorten keeps error messages readable when a link is huge.
func shorten(s string) string {
	const n = 120
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
