package schema

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestPending(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/0010_c.sql": {Data: []byte("C")},
	}
	for applied, want := range map[int]string{0: "ABC", 1: "BC", 2: "C", 10: ""} {
		ms, err := Pending(fsys, "m", applied)
		got := ""
		for _, m := range ms {
			got += m.SQL
		}
		if err != nil || got != want {
			t.Errorf("applied %d: %q %v, want %q", applied, got, err, want)
		}
	}
	if _, err := Pending(fsys, "m", 11); !errors.Is(err, ErrTooNew) {
		t.Fatalf("database ahead of the binary: %v", err)
	}
	if _, err := List(fstest.MapFS{"m/x.sql": {}}, "m"); err == nil {
		t.Fatal("a badly named migration must be refused")
	}
}
