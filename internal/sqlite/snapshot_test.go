package sqlite

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite snapshot.sql from the migrations")

// schemaDump lists every schema object with its SQL, and the recorded
// migrations.
func schemaDump(t *testing.T, db *DB) (objects []string, versions []int) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.read.QueryContext(ctx, `
		SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite_%'
		ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, tbl, sql string
		if err := rows.Scan(&typ, &name, &tbl, &sql); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, fmt.Sprintf("%s %s on %s: %s", typ, name, tbl, sql))
	}
	vrows, err := db.read.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var v int
		vrows.Scan(&v)
		versions = append(versions, v)
	}
	return objects, versions
}

// TestSnapshot_MatchesEveryMigrationReplayed: a new database is created
// from snapshot.sql in one step, an old one is upgraded migration by
// migration; both must end with exactly the same schema and the same
// recorded versions, or the two kinds of installation would drift apart.
// After adding a migration, regenerate the snapshot:
//
//	go test ./internal/sqlite -run TestSnapshot -update
func TestSnapshot_MatchesEveryMigrationReplayed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	replayed, err := Open(ctx, filepath.Join(dir, "replayed.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer replayed.Close()
	if err := replayed.migrate(ctx, false, 0); err != nil {
		t.Fatal(err)
	}
	if *update {
		writeSnapshot(t, replayed)
		return
	}
	fresh, err := Open(ctx, filepath.Join(dir, "fresh.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	_, known, _ := fresh.Version(ctx)
	if v := snapshotVersion(); v != known {
		t.Fatalf("snapshot.sql is at version %d, the newest migration is %d: regenerate it with -update", v, known)
	}
	wantObjects, wantVersions := schemaDump(t, replayed)
	gotObjects, gotVersions := schemaDump(t, fresh)
	if strings.Join(gotObjects, "\n") != strings.Join(wantObjects, "\n") || fmt.Sprint(gotVersions) != fmt.Sprint(wantVersions) {
		t.Fatalf("snapshot.sql differs from the migrations replayed (regenerate it with -update):\nsnapshot:\n%s\n%v\nreplayed:\n%s\n%v",
			strings.Join(gotObjects, "\n"), gotVersions, strings.Join(wantObjects, "\n"), wantVersions)
	}
}

// TestSnapshot_ExistingDatabaseTakesOnlyNewMigrations: the snapshot is for
// empty databases only. A database one migration behind gets that
// migration, keeps its data, and ends with the schema a new database has.
func TestSnapshot_ExistingDatabaseTakesOnlyNewMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	fresh, err := Open(ctx, filepath.Join(dir, "fresh.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	_, newest, _ := fresh.Version(ctx)
	db, err := Open(ctx, filepath.Join(dir, "old.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.migrate(ctx, false, newest-1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `
		INSERT INTO challenges (id, purpose, destination, created_at, sent_at, expires_at)
		VALUES ('c1', 'reset_password', 'a@example.com', 1, 1, 2)`); err != nil {
		t.Fatal(err)
	}
	if v, err := db.fromSnapshot(ctx); v != 0 || err != nil {
		t.Fatalf("the snapshot was tried on a database with tables: %d %v", v, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if ch, err := db.Challenge(ctx, "c1"); err != nil || ch.Destination != "a@example.com" {
		t.Fatalf("the old challenge after the migration: %+v %v", ch, err)
	}
	want, wantV := schemaDump(t, fresh)
	got, gotV := schemaDump(t, db)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || fmt.Sprint(gotV) != fmt.Sprint(wantV) {
		t.Fatalf("upgraded database differs from a new one:\n%s\n%v\nnew:\n%s\n%v", strings.Join(got, "\n"), gotV, strings.Join(want, "\n"), wantV)
	}
}

func writeSnapshot(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.read.QueryContext(ctx, `
		SELECT sql FROM sqlite_schema
		WHERE sql IS NOT NULL AND name <> 'schema_migrations' AND name NOT LIKE 'sqlite_%'
		ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	_, known, _ := db.Version(ctx)
	var b strings.Builder
	fmt.Fprintf(&b, "-- The schema every migration up to the version below produces, used to\n")
	fmt.Fprintf(&b, "-- create a new database in one step (see DB.Migrate). Generated; do not\n")
	fmt.Fprintf(&b, "-- edit. Add a migration, then: go test ./internal/sqlite -run TestSnapshot -update\n")
	fmt.Fprintf(&b, "-- version: %d\n", known)
	for rows.Next() {
		var sql string
		rows.Scan(&sql)
		b.WriteString(sql)
		b.WriteString(";\n")
	}
	if err := os.WriteFile("snapshot.sql", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
