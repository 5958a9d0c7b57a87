package server

import (
	"bufio"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// apiDocRoute is a route heading of docs/api.md: "### GET /api/v1/articles".
var apiDocRoute = regexp.MustCompile(`^###\s+(GET|POST|PUT|PATCH|DELETE)\s+(/api/\S+)\s*$`)

// TestAPIDocMatchesRoutes holds docs/api.md to the router: every /api/v1
// route is documented, and every documented route exists.
func TestAPIDocMatchesRoutes(t *testing.T) {
	f, err := os.Open("../docs/api.md")
	if err != nil {
		t.Fatalf("open the API doc: %v", err)
	}
	defer f.Close()
	var documented []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if m := apiDocRoute.FindStringSubmatch(text); m != nil {
			route := m[1] + " " + m[2]
			if slices.Contains(documented, route) {
				t.Errorf("docs/api.md:%d: %s documented twice", line, route)
			}
			documented = append(documented, route)
		} else if strings.HasPrefix(text, "### ") && strings.Contains(text, "/api/") {
			t.Errorf("docs/api.md:%d: a heading that names a route must read \"### METHOD /api/...\": %q", line, text)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	srv, _ := newTestServer(t, func(c *Config) { c.AdminToken = "token" })
	var served []string
	err = chi.Walk(srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if strings.HasPrefix(route, "/api/") {
			served = append(served, method+" "+route)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the routes: %v", err)
	}
	if len(served) == 0 {
		t.Fatal("the router has no /api/ routes")
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not documented in docs/api.md", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("docs/api.md documents %s, which the server does not have", r)
		}
	}
}
