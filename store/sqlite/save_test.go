package sqlite

import "testing"

// The sightings' key is stored: keyHash must give the same integer for a
// key forever, or every stored item would look new again.
func TestKeyHashStable(t *testing.T) {
	tests := []struct {
		key  string
		want int64
	}{
		{"", -2039914840885289964},
		{"g:guid-1", -7670358228028683427},
		{"u:https://example.com/a", -1215419851815292039},
	}
	for _, tc := range tests {
		if got := keyHash(tc.key); got != tc.want {
			t.Errorf("keyHash(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}
