package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigestCommandPrintsAWeek: the three formats of an empty store's week,
// each saying it was quiet rather than making something up.
func TestDigestCommandPrintsAWeek(t *testing.T) {
	db := filepath.Join(t.TempDir(), "recap.db")
	digest := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"--db", db, "--timezone", "Asia/Kolkata", "digest"}, args...),
			envOf(nil), strings.NewReader(""), &out, &errb)
		if err != nil && errb.Len() > 0 {
			return out.String(), errorString(err.Error() + ": " + errb.String())
		}
		return out.String(), err
	}
	md, err := digest("--week", "2026-W13")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# AI Recap: 2026-W13", "0 sources, 0 articles, 0 stories", "A quiet week"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	js, err := digest("--week", "2026-w13", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Week  string `json:"week"`
		Start string `json:"start"`
		Items []any  `json:"items"`
	}
	if err := json.Unmarshal([]byte(js), &d); err != nil || d.Week != "2026-W13" || d.Items == nil || len(d.Items) != 0 ||
		!strings.HasPrefix(d.Start, "2026-03-23T00:00:00+05:30") {
		t.Errorf("json = %+v, %v\n%s", d, err, js)
	}
	html, err := digest("--week", "2026-W13", "--format", "html")
	if err != nil || !strings.Contains(html, "<h1>AI Recap: 2026-W13</h1>") || !strings.Contains(html, "A quiet week") {
		t.Errorf("html = %v %.300s", err, html)
	}
	if _, err := digest("--week", "2026-13"); err == nil || !strings.Contains(err.Error(), `--week "2026-13"`) {
		t.Errorf("a bad week: %v", err)
	}
	if _, err := digest("--week", "2026-W13", "--format", "pdf"); err == nil || !strings.Contains(err.Error(), `--format "pdf": want md, html or json`) {
		t.Errorf("a bad format: %v", err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
