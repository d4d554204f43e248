//go:build tools

// Package tools pins Carvel kapp's command, one of the peers the benchmark compares kgit with.
package tools

import _ "carvel.dev/kapp/cmd/kapp"
