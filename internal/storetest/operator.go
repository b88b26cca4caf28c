package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/operator"
	"gatehouse/internal/random"
)

// OperatorStore is what the operator console keeps.
type OperatorStore interface {
	account.Store
	operator.Store
}

// RunOperators runs the operators and audit trail suite.
func RunOperators(t *testing.T, open func(t *testing.T) OperatorStore) {
	t.Run("Roles", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := context.Background()
		a, b := newAccount("Support@example.com"), newAccount("admin@example.com")
		for _, acc := range []*account.Account{a, b} {
			if err := s.CreateAccount(ctx, acc); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.OperatorByAccount(ctx, a.ID); !errors.Is(err, operator.ErrNotOperator) {
			t.Fatalf("before: %v, want ErrNotOperator", err)
		}
		for _, step := range []struct {
			acc  *account.Account
			role operator.Role
		}{{a, operator.Admin}, {b, operator.Admin}, {a, operator.Support}} {
			if err := s.SetOperator(ctx, step.acc.ID, step.role, t0); err != nil {
				t.Fatal(err)
			}
		}
		o, err := s.OperatorByAccount(ctx, a.ID)
		if err != nil || o.Role != operator.Support || o.Email != a.Email || !o.AddedAt.Equal(t0) {
			t.Fatalf("a's role changed: %+v %v", o, err)
		}
		list, err := s.Operators(ctx)
		if err != nil || len(list) != 2 || list[0].AccountID != b.ID || list[1].Role != operator.Support {
			t.Fatalf("operators, by address: %+v %v", list, err)
		}
		if ok, err := s.RemoveOperator(ctx, a.ID); !ok || err != nil {
			t.Fatalf("remove: %v %v", ok, err)
		}
		if ok, err := s.RemoveOperator(ctx, a.ID); ok || err != nil {
			t.Fatalf("remove again: %v %v", ok, err)
		}
		if _, err := s.OperatorByAccount(ctx, a.ID); !errors.Is(err, operator.ErrNotOperator) {
			t.Fatalf("after removal: %v", err)
		}
	})
	t.Run("AuditTrail", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := context.Background()
		add := func(at time.Time, op, acct string, action operator.Action) *operator.Entry {
			e := &operator.Entry{ID: random.ID(), At: at, OperatorID: op, OperatorEmail: op + "@example.com", Action: action,
				AccountID: acct, Reason: "holder called", IP: "192.0.2.1", Device: "Firefox on Linux", Detail: "GH-AAAA-BBBB-CCCC"}
			if err := s.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			return e
		}
		first := add(t0, "op1", "acc1", operator.ViewAccount)
		add(t0.Add(time.Minute), "op2", "acc1", operator.SignOutAll)
		last := add(t0.Add(2*time.Minute), "op1", "acc2", operator.Disable)
		all, err := s.Audit(ctx, operator.AuditFilter{})
		if err != nil || len(all) != 3 || all[0].ID != last.ID || all[2].ID != first.ID {
			t.Fatalf("all, newest first: %v %v", all, err)
		}
		if got := *all[2]; got != *first {
			t.Fatalf("read back %+v, wrote %+v", got, *first)
		}
		for name, c := range map[string]struct {
			f    operator.AuditFilter
			want int
		}{
			"by account":  {operator.AuditFilter{AccountID: "acc1"}, 2},
			"by operator": {operator.AuditFilter{OperatorID: "op1"}, 2},
			"both":        {operator.AuditFilter{AccountID: "acc1", OperatorID: "op1"}, 1},
			"since":       {operator.AuditFilter{Since: t0.Add(time.Minute)}, 2},
			"limit":       {operator.AuditFilter{Limit: 1}, 1},
		} {
			got, err := s.Audit(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("%s: %d entries, want %d (%v)", name, len(got), c.want, err)
			}
		}
	})
}
