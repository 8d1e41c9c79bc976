// Package sqlite holds gatewayd's numbered schema migrations.
//
// Each file NNNN_name.sql is applied once, in order, inside one transaction,
// and recorded in schema_migrations. A released migration is never edited:
// a change to the schema is a new file with the next number.
package sqlite

import "embed"

// Migrations is the set of NNNN_name.sql files, embedded in the binary.
//
//go:embed *.sql
var Migrations embed.FS
