package app

import (
	"os"
	"runtime/debug"
)

// TuneGC sets the garbage collector's target for a password server, unless
// the operator chose one with GOGC. Every argon2id hash allocates and drops
// its whole memory cost (19 MiB by default); with Go's default GOGC=100 and
// a small live heap that starts a collection every hash or two, each one
// scanning the whole heap. GOGC=400 collects every few hashes instead. The
// extra memory is bounded: the hashing pool limits how many hashes run.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
