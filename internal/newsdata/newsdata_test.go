package newsdata

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twoItems = `{"feed":"a","title":"T1","link":"https://a.example/1","guid":"g1","published":"2025-07-21T00:00:00+00:00","summary":"S"}

{"feed":"b","title":"T2","link":"https://b.example/2","guid":"","published":"","summary":""}
`

func TestLoadReadsPlainAndGzippedFiles(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "items.jsonl")
	os.WriteFile(plain, []byte(twoItems), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(twoItems))
	zw.Close()
	zipped := filepath.Join(dir, "items.jsonl.gz")
	os.WriteFile(zipped, gz.Bytes(), 0o644)
	for _, p := range []string{plain, zipped} {
		items, err := Load(p)
		if err != nil || len(items) != 2 || items[0].Title != "T1" || items[1].Feed != "b" {
			t.Fatalf("Load(%s) = %+v, %v", p, items, err)
		}
		if ts, ok := items[0].PublishedTime(); !ok || ts.Format("2006-01-02") != "2025-07-21" {
			t.Errorf("PublishedTime = %v, %v", ts, ok)
		}
		if _, ok := items[1].PublishedTime(); ok {
			t.Error("an empty date parsed")
		}
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	if _, err := Read(strings.NewReader(twoItems + "{oops\n")); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("bad line: %v", err)
	}
	if _, err := Read(strings.NewReader("\n")); err == nil {
		t.Error("an empty file gave no error")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.jsonl.gz")); err == nil {
		t.Error("a missing file gave no error")
	}
}
