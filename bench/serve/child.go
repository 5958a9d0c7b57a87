package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"recap/server"
	"recap/store/sqlite"
)

// childFlag makes the program the server under test. It must come first:
// the test binary re-executes itself the same way (see TestMain), and its
// own flags must not see it.
const childFlag = "-serve-child"

// runChild serves the store at dbPath on 127.0.0.1 until stdin closes, so
// the child never outlives the bench. It prints its address on stdout.
func runChild(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var dbPath, cpuProfile string
	fs := newFlagSet("serve-child", stderr)
	fs.StringVar(&dbPath, "db", "", "SQLite file to serve")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole serving to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Config{
		Store:      st,
		BaseURL:    "https://recap.example",
		VersionTTL: time.Second,
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Every request comes from 127.0.0.1: the API's per-IP limit
		// would answer 429 after 600. The limiter still runs on each
		// request, so its cost is measured.
		RateLimit: math.MaxInt32,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintln(stdout, ln.Addr().String())

	wait := make(chan struct{})
	go func() { io.Copy(io.Discard, stdin); close(wait) }()
	select {
	case <-wait:
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// child is the server process as the bench sees it.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	done  chan error
}

// startChild starts exe as the server under test and waits for its address.
func startChild(ctx context.Context, exe, dbPath, cpuProfile string, stderr io.Writer) (*child, error) {
	args := []string{childFlag, "-db", dbPath}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	c := &child{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	first := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		first <- strings.TrimSpace(line)
		io.Copy(io.Discard, br)
		c.done <- cmd.Wait()
	}()
	select {
	case c.addr = <-first:
	case <-time.After(2 * time.Minute):
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		c.stop()
		return nil, fmt.Errorf("server child: no address (said %q)", c.addr)
	}
	return c, nil
}

// stop closes the child's stdin, which ends it, and kills it if it lingers.
func (c *child) stop() error {
	c.stdin.Close()
	select {
	case err := <-c.done:
		return err
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		return errors.New("server child: killed after 30 s")
	}
}

// procStatus reads the kB fields of /proc/<pid>/status (VmHWM, VmRSS, ...).
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		f := strings.Fields(v)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// procCPU returns the user + system CPU time of a process so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// Fields 14 and 15 of stat(5), utime and stime, are 11 and 12 after the name.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	// USER_HZ is 100 on every Linux this runs on.
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
