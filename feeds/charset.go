package feeds

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Encoding names parseToUTF8 reports; other encodings are reported by the
// label that selected them.
const (
	parseEncUTF8    = "utf-8"
	parseEncUTF16LE = "utf-16le"
	parseEncUTF16BE = "utf-16be"
	parseEncUTF32LE = "utf-32le"
	parseEncUTF32BE = "utf-32be"
	parseEncCP1252  = "windows-1252"
)

// parseToUTF8 returns body as valid UTF-8 without a byte-order mark, and the
// name of the encoding it was read as.
//
// The order of evidence: a BOM; then the NUL pattern of UTF-16/32 (no label
// can make such bytes readable as anything else); then the Content-Type
// charset, which wins over the XML declaration as HTTP says; then the XML
// declaration; then the bytes themselves (UTF-8 when valid, else
// windows-1252, the encoding of nearly every undeclared legacy feed).
//
// A declared legacy charset is overridden when the body is valid UTF-8 that
// uses multi-byte sequences: that happens by accident only for very short
// texts, whereas servers and CMSs that label UTF-8 as ISO-8859-1 are common.
//
// When body is already valid UTF-8 the result shares its memory.
func parseToUTF8(body []byte, contentType string) ([]byte, string) {
	if enc, name, n := parseBOM(body); name != "" {
		body = body[n:]
		if enc == nil {
			return parseValidUTF8(body), name
		}
		return parseDecode(enc, body), name
	}
	if enc, name := parseNULPattern(body); enc != nil {
		return parseDecode(enc, body), name
	}

	label := parseHeaderCharset(contentType)
	if label == "" {
		label = parseXMLDeclEncoding(body)
	}
	if label != "" {
		enc, name := parseLookupEncoding(label)
		switch {
		case enc == nil:
			// An unknown or unusable label says nothing; read the bytes.
		case name == parseEncUTF8:
			return parseValidUTF8(body), parseEncUTF8
		case parseIsWideName(name):
			// A UTF-16/32 label on bytes without the NUL pattern is wrong:
			// the document is in an ASCII-compatible encoding.
		case parseLooksUTF8(body):
			return parseValidUTF8(body), parseEncUTF8
		default:
			return parseDecode(enc, body), name
		}
	}
	if utf8.Valid(body) {
		return parseValidUTF8(body), parseEncUTF8
	}
	return parseDecode(charmap.Windows1252, body), parseEncCP1252
}

// parseBOM recognises a byte-order mark and returns the decoder that reads
// the rest (nil for UTF-8), its name and the BOM's length. UTF-32 LE is
// checked before UTF-16 LE because its BOM starts with UTF-16 LE's.
func parseBOM(b []byte) (encoding.Encoding, string, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return nil, parseEncUTF8, 3
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), parseEncUTF32LE, 4
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), parseEncUTF32BE, 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), parseEncUTF16LE, 2
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), parseEncUTF16BE, 2
	}
	return nil, "", 0
}

// parseNULPattern detects UTF-16 and UTF-32 without a BOM from the first
// character, which in a feed is '<', '{' or whitespace: ASCII, so its code
// unit carries NUL bytes in a fixed pattern that no ASCII-compatible encoding
// produces.
func parseNULPattern(b []byte) (encoding.Encoding, string) {
	if len(b) < 4 {
		return nil, ""
	}
	switch {
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), parseEncUTF32BE
	case b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), parseEncUTF32LE
	case b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), parseEncUTF16BE
	case b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), parseEncUTF16LE
	}
	return nil, ""
}

// parseHeaderCharset returns the charset parameter of a Content-Type value,
// also from values mime.ParseMediaType rejects (servers send plenty).
func parseHeaderCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		return strings.Trim(strings.TrimSpace(params["charset"]), `"'`)
	}
	// ASCII case folding only: strings.ToLower would turn invalid UTF-8
	// into 3-byte U+FFFD and shift the index off the original string.
	i := indexASCIIFold(contentType, "charset=")
	if i < 0 {
		return ""
	}
	v := contentType[i+len("charset="):]
	if j := strings.IndexAny(v, "; \t"); j >= 0 {
		v = v[:j]
	}
	return strings.Trim(v, `"'`)
}

// indexASCIIFold is strings.Index ignoring ASCII case; sub is lower case.
func indexASCIIFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := 0; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// parseXMLDeclEncoding returns the encoding pseudo-attribute of an XML
// declaration at the start of b (after whitespace), or "".
func parseXMLDeclEncoding(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return ""
	}
	// A declaration is short; bounding the search keeps a missing "?>"
	// from costing a scan of the whole body.
	if len(b) > 512 {
		b = b[:512]
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := b[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := bytes.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return string(bytes.TrimSpace(rest[1 : 1+j]))
}

// parseLookupEncoding maps a charset label to an encoding and a canonical
// lower-case name; nil when the label is unknown. WHATWG's index comes first
// because it is what browsers do with the same labels (ISO-8859-1 read as
// windows-1252, its superset); IANA's covers the rest, UTF-32 included.
func parseLookupEncoding(label string) (encoding.Encoding, string) {
	label = strings.ToLower(strings.TrimSpace(label))
	switch label {
	case "utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii":
		// ASCII declared on bytes that are not is nearly always UTF-8.
		return encoding.Nop, parseEncUTF8
	case "utf-16", "utf-16le", "unicode", "ucs-2", "utf-16be", "utf-32", "utf-32le", "utf-32be":
		return encoding.Nop, "utf-16/32"
	}
	if enc, err := htmlindex.Get(label); err == nil {
		name, _ := htmlindex.Name(enc)
		// WHATWG's "replacement" decodes a whole document to one U+FFFD:
		// worse than guessing.
		if name != "replacement" && enc != nil {
			if name == "utf-8" {
				return encoding.Nop, parseEncUTF8
			}
			return enc, name
		}
	}
	if enc, err := ianaindex.IANA.Encoding(label); err == nil && enc != nil {
		name, err := ianaindex.IANA.Name(enc)
		if err != nil {
			name = label
		}
		return enc, strings.ToLower(name)
	}
	return nil, ""
}

func parseIsWideName(name string) bool {
	return name == "utf-16/32" || strings.HasPrefix(name, "utf-16") || strings.HasPrefix(name, "utf-32")
}

// parseLooksUTF8 reports whether b is valid UTF-8 containing at least one
// multi-byte sequence: text that a legacy label almost surely mislabels.
func parseLooksUTF8(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	return !ascii && utf8.Valid(b)
}

// parseDecode converts b to UTF-8; undecodable bytes become U+FFFD.
func parseDecode(enc encoding.Encoding, b []byte) []byte {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		// x/text decoders replace bad input rather than fail; should one
		// fail anyway, a lossy but valid reading beats no feed.
		return parseValidUTF8(b)
	}
	return parseValidUTF8(out)
}

// parseValidUTF8 replaces invalid UTF-8, and the noncharacters U+FFFE and
// U+FFFF that encoding/xml rejects, with U+FFFD. Valid input is returned as is.
func parseValidUTF8(b []byte) []byte {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	if bytes.Contains(b, []byte("\uFFFE")) || bytes.Contains(b, []byte("\uFFFF")) {
		b = bytes.ReplaceAll(b, []byte("\uFFFE"), []byte("\uFFFD"))
		b = bytes.ReplaceAll(b, []byte("\uFFFF"), []byte("\uFFFD"))
	}
	return b
}
