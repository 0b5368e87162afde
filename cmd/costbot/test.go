package main

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"github.com/costbot/costbot/internal/ruletest"
)

// cmdTest runs rule unit test files (like promtool test rules) through the
// live cycle: exit 0 when every test passes, 1 on any failure or invalid
// file, 2 on bad usage.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("test", stderr)
	run := fs.String("run", "", "run only the tests whose name matches this regular expression")
	verbose := fs.Bool("v", false, "also list the tests that pass")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: costbot test [-run REGEXP] [-v] FILE...  (format: docs/rules.md)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "costbot test: no test files (usage: costbot test [-run REGEXP] [-v] FILE...)")
		return 2
	}
	o := ruletest.Options{Verbose: *verbose}
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "costbot test: -run: %v\n", err)
			return 2
		}
		o.Run = re
	}
	if !ruletest.Run(ctx, stdout, fs.Args(), o).OK() {
		return 1
	}
	return 0
}
