// Package schema lists a dialect's embedded migrations. Each dialect keeps
// its own SQL (internal/sqlite/migrations, internal/postgres/migrations);
// what they share is the naming rule — NNNN_what.sql, applied in order of
// NNNN — and the rule that a database newer than the binary is refused.
package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one migration file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ErrTooNew is wrapped by each dialect's "schema newer than this binary".
var ErrTooNew = errors.New("database schema is newer than this gatehouse")

// List reads the migrations in dir of fsys, oldest first.
func List(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return out, nil
}

// Check refuses a database at version applied when the binary knows up to known.
func Check(applied, known int) error {
	if applied > known {
		return fmt.Errorf("%w (database at version %d, this binary knows up to %d): upgrade gatehouse", ErrTooNew, applied, known)
	}
	return nil
}

// Pending returns the migrations in dir of fsys newer than applied, oldest
// first, or the too-new error when the database is ahead of the binary.
func Pending(fsys fs.FS, dir string, applied int) ([]Migration, error) {
	ms, err := List(fsys, dir)
	if err != nil {
		return nil, err
	}
	if err := Check(applied, ms[len(ms)-1].Version); err != nil {
		return nil, err
	}
	i := 0
	for i < len(ms) && ms[i].Version <= applied {
		i++
	}
	return ms[i:], nil
}
