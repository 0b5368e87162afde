package main

import (
	"context"
	"fmt"
	"io"

	"github.com/costbot/costbot/internal/ruletest"
)

// cmdTest runs rule unit test files (promtool test rules style) through the
// live cycle; exit 1 on any failure.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("test", stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "costbot test: no test files (usage: costbot test FILE...)")
		return 2
	}
	if !ruletest.Run(ctx, fs.Args(), stdout) {
		return 1
	}
	return 0
}
