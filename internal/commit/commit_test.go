package commit

import (
	"context"
	"testing"
)

func TestAfter_RunsOnlyOnceCommittedAndNowOutsideATransaction(t *testing.T) {
	t.Parallel()
	ran := 0
	After(context.Background(), func() { ran++ })
	if ran != 1 {
		t.Fatalf("outside a transaction: ran %d times", ran)
	}
	ctx, committed := Track(context.Background())
	After(ctx, func() { ran++ })
	After(ctx, func() { ran++ })
	if ran != 1 {
		t.Fatal("ran before the commit")
	}
	committed()
	committed() // a second call runs nothing again
	if ran != 3 {
		t.Fatalf("after the commit: ran %d, want 3", ran)
	}
	// A rolled-back transaction: the owner never calls committed.
	ctx, _ = Track(context.Background())
	After(ctx, func() { t.Error("work of a rolled-back flow ran") })
}
