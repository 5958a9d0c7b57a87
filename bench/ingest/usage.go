package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// usage is a snapshot of this process's CPU time and peak resident memory.
type usage struct {
	cpu     time.Duration // user + system
	peakKiB int64         // VmHWM: the high-water mark of resident memory
}

// readUsage takes CPU time from getrusage but the peak from VmHWM: Linux
// carries the parent's ru_maxrss into an exec'd child (os/exec's vfork
// shares the parent's memory map until exec), so a child that uses less
// than the parent would report the parent's peak. VmHWM belongs to the
// memory map exec made, so it is the child's own.
func readUsage() (usage, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}, fmt.Errorf("getrusage: %w", err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return usage{}, fmt.Errorf("peak memory: %w", err)
	}
	peak, err := statusKiB(status, "VmHWM:")
	if err != nil {
		return usage{}, err
	}
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), peakKiB: peak}, nil
}

// statusKiB reads one "Name:   1234 kB" line of /proc/self/status.
func statusKiB(status []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte(name)); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				break
			}
			n, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s %q: %w", name, v, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", name)
}
