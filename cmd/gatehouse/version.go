package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func runVersion(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "gatehouse %s (%s)\n", binaryVersion(), runtime.Version())
	return 0
}

// binaryVersion is the version this binary reports: the release's, or
// dev and the commit it was built from.
func binaryVersion() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	return v
}
