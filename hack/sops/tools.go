//go:build tools

// Package tools pins the sops command this module builds, so `go mod tidy` keeps it.
package tools

import _ "github.com/getsops/sops/v3/cmd/sops"
