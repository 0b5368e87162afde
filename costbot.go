// Package costbot holds the files shipped inside the binary: the example
// config and the example rules in rules/, so `costbot demo` runs anywhere.
package costbot

import "embed"

// Examples holds config.example.yaml and rules/*.yaml.
//
//go:embed config.example.yaml rules
var Examples embed.FS
