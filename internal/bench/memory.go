package bench

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"time"
)

// peakMemory follows the memory of this process — the server and the
// clients driving it — during a phase, in bytes.
//
// On Linux it is the resident set's high-water mark (VmHWM), which the
// kernel keeps exactly and which is reset at the start of the phase
// (/proc/self/clear_refs), so that calibration's and earlier phases'
// hashes do not count; it is also sampled every 10 ms (VmRSS) in case the
// reset is not allowed. Elsewhere it is the memory the Go runtime has
// mapped, sampled: close to the resident set for a Go program, a little
// above it.
type peakMemory struct {
	reset bool // the high-water mark was reset at the start
	quit  chan struct{}
	done  chan int64
}

func startPeak() *peakMemory {
	m := &peakMemory{quit: make(chan struct{}), done: make(chan int64, 1)}
	// "5" resets the peak resident set size (proc(5), Linux 4.0 and later).
	m.reset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	go func() {
		peak := sampleMemory()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				peak = max(peak, sampleMemory())
			case <-m.quit:
				m.done <- max(peak, sampleMemory())
				return
			}
		}
	}()
	return m
}

// stop ends the sampling and returns the peak in bytes.
func (m *peakMemory) stop() int64 {
	close(m.quit)
	peak := <-m.done
	if m.reset {
		if hwm, ok := procStatus("VmHWM:"); ok {
			peak = max(peak, hwm)
		}
	}
	return peak
}

// sampleMemory is the process's resident set now, or the Go runtime's
// mapped memory where /proc is not there.
func sampleMemory() int64 {
	if rss, ok := procStatus("VmRSS:"); ok {
		return rss
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// procStatus reads one "Name:   123 kB" line of /proc/self/status, in
// bytes.
func procStatus(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	i := bytes.Index(b, []byte(field))
	if i < 0 {
		return 0, false
	}
	rest := b[i+len(field):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	f := bytes.Fields(rest)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, false
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n << 10, true
}
