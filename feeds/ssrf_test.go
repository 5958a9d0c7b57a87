package feeds

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSSRFPublicAddr(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		// Public.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.216.34", true},
		{"2001:4860:4860::8888", true},
		{"2606:4700::1111", true},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"172.32.0.1", true},       // just past 172.16/12
		{"172.15.255.255", true},   // just before it
		{"192.169.0.1", true},
		{"100.63.255.255", true}, // just before CGNAT
		{"100.128.0.0", true},    // just after it
		{"11.0.0.1", true},
		{"223.255.255.255", true},

		// Loopback.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		// Private.
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		// Link-local, cloud metadata.
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		// Unspecified and "this network".
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		// Multicast and broadcast.
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		{"ff01::1", false},
		{"255.255.255.255", false},
		// CGNAT and other reserved ranges.
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"198.18.0.1", false},
		{"192.0.0.1", false},
		{"240.0.0.1", false},
		{"fec0::1", false},
		// IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of internal addresses.
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:0.0.0.0", false},
		{"::127.0.0.1", false},
		{"64:ff9b::7f00:1", false},
		{"64:ff9b::a9fe:a9fe", false},
		{"64:ff9b:1::8.8.8.8", false},
		{"2002:7f00:1::", false},
		{"2002:c0a8:101::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a, err := netip.ParseAddr(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := ssrfPublicAddr(a); got != tt.public {
				t.Errorf("ssrfPublicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
			}
		})
	}
	if ssrfPublicAddr(netip.Addr{}) {
		t.Error("the zero Addr counts as public")
	}
}

func TestSSRFControl(t *testing.T) {
	control := ssrfControl(ssrfPublicAddr)
	tests := []struct {
		address string
		want    error // nil, ErrPrivateNetwork, or errAny
	}{
		{"8.8.8.8:443", nil},
		{"[2001:4860:4860::8888]:80", nil},
		{"127.0.0.1:8080", ErrPrivateNetwork},
		{"[::1]:80", ErrPrivateNetwork},
		{"[::ffff:127.0.0.1]:80", ErrPrivateNetwork},
		{"[fe80::1%eth0]:80", ErrPrivateNetwork},
		{"not-an-address", errAny},
		{"example.com:80", errAny}, // the dialer only ever passes resolved IPs; anything else fails closed
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := control(context.Background(), "tcp", tt.address, nil)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == ErrPrivateNetwork && !errors.Is(err, ErrPrivateNetwork):
				t.Fatalf("err = %v, want ErrPrivateNetwork", err)
			case tt.want == errAny && err == nil:
				t.Fatal("accepted")
			}
			if tt.want == ErrPrivateNetwork {
				want := "refused to connect to " + tt.address + ": private or loopback address (set --allow-private-networks to allow)"
				if err.Error() != want {
					t.Errorf("message = %q, want %q", err, want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

// countingServer counts the requests it gets and answers 200.
func countingServer(t *testing.T, ln net.Listener, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		_, _ = w.Write([]byte("<rss/>"))
	}))
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestFetchSSRFLoopback(t *testing.T) {
	srv, hits := countingServer(t, nil, nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	t.Run("refused by default", func(t *testing.T) {
		f := NewFetcher(FetcherConfig{})
		for _, u := range []string{srv.URL + "/feed", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/feed"} {
			resp, err := f.Fetch(context.Background(), FetchRequest{URL: u})
			if !errors.Is(err, ErrPrivateNetwork) {
				t.Fatalf("Fetch(%s) err = %v, want ErrPrivateNetwork", u, err)
			}
			if resp != nil {
				t.Errorf("Fetch(%s) returned a response with the refusal", u)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "fetch "+u+": refused to connect to ") ||
				!strings.Contains(msg, ":"+strconv.Itoa(port)+": private or loopback address (set --allow-private-networks to allow)") {
				t.Errorf("message = %q", msg)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("server got %d requests, want 0", n)
		}
	})

	t.Run("allowed with the flag", func(t *testing.T) {
		f := NewFetcher(FetcherConfig{AllowPrivateNetworks: true})
		resp, err := f.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/feed"})
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != "<rss/>" {
			t.Errorf("body = %q", resp.Body)
		}
		if n := hits.Load(); n != 1 {
			t.Errorf("server got %d requests, want 1", n)
		}
	})
}

// TestFetchSSRFRedirect: an allowed server redirects to a private one, and the
// dial-time check refuses the second connection. Both servers are on loopback,
// so the test decides that 127.0.0.1 is "public" and 127.0.0.2 is not.
func TestFetchSSRFRedirect(t *testing.T) {
	lnB, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 (needs the whole 127/8 on loopback, as on Linux): %v", err)
	}
	private, privateHits := countingServer(t, lnB, nil)
	public, publicHits := countingServer(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-private":
			http.Redirect(w, r, private.URL+"/feed", http.StatusFound)
		case "/to-self":
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
		default:
			_, _ = w.Write([]byte("<rss/>"))
		}
	}))
	allow := func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }
	f := newFetcher(FetcherConfig{}, allow)
	ctx := context.Background()

	// The guard lets the "public" server through, redirects included.
	resp, err := f.Fetch(ctx, FetchRequest{URL: public.URL + "/to-self"})
	if err != nil {
		t.Fatalf("fetch from the allowed server: %v", err)
	}
	if string(resp.Body) != "<rss/>" {
		t.Errorf("body = %q", resp.Body)
	}

	// Directly and through a redirect, the private server is refused.
	for _, u := range []string{private.URL + "/feed", public.URL + "/to-private"} {
		_, err := f.Fetch(ctx, FetchRequest{URL: u})
		if !errors.Is(err, ErrPrivateNetwork) {
			t.Fatalf("Fetch(%s) err = %v, want ErrPrivateNetwork", u, err)
		}
		if want := "refused to connect to " + lnB.Addr().String(); !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err, want)
		}
	}
	if n := privateHits.Load(); n != 0 {
		t.Errorf("private server got %d requests, want 0", n)
	}
	if n := publicHits.Load(); n != 3 {
		t.Errorf("public server got %d requests, want 3", n)
	}
}
