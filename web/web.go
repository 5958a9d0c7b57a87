// Package web holds the site's templates and static files, embedded in the
// binary so `go run .` needs nothing beside it.
package web

import "embed"

// FS holds templates/*.html and static/*.
//
//go:embed templates static
var FS embed.FS
