package method_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"gatehouse/internal/account"
	"gatehouse/internal/method"
)

// stub is a method whose offer a test sets.
type stub struct {
	about method.About
	offer method.Offer
	err   error
}

func (s stub) About() method.About                                           { return s.about }
func (s stub) Offer(context.Context, *account.Account) (method.Offer, error) { return s.offer, s.err }
func (stub) Destination(*account.Account) string                             { return "" }
func (stub) Check(context.Context, *method.Answer) error                     { return nil }

// TestSet_WaysInRegistrationOrderBlockedOnlyAlone: an account's ways are
// the Ready methods in the order registered (strongest first); a Blocked
// one is listed only when nothing else can pass, so two-step verification
// stays on; backstops are never ways.
func TestSet_WaysInRegistrationOrderBlockedOnlyAlone(t *testing.T) {
	t.Parallel()
	a := &account.Account{ID: "a"}
	for _, tc := range []struct {
		name   string
		offers [3]method.Offer // strong, weak, backstop
		want   []method.Kind
	}{
		{"none", [3]method.Offer{method.Off, method.Off, method.Ready}, nil},
		{"both ready", [3]method.Offer{method.Ready, method.Ready, method.Ready}, []method.Kind{"strong", "weak"}},
		{"strong blocked, weak ready", [3]method.Offer{method.Blocked, method.Ready, method.Off}, []method.Kind{"weak"}},
		{"only blocked", [3]method.Offer{method.Blocked, method.Off, method.Off}, []method.Kind{"strong"}},
	} {
		s := method.NewSet(
			stub{about: method.About{Kind: "strong", Factor: true}, offer: tc.offers[0]},
			stub{about: method.About{Kind: "weak", Factor: true}, offer: tc.offers[1]},
			stub{about: method.About{Kind: "back", Factor: true, Backstop: true}, offer: tc.offers[2]},
		)
		got, err := s.Ways(context.Background(), a)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: Ways = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if b := s.Backstops(); !slices.Equal(b, []method.Kind{"back"}) {
			t.Errorf("Backstops = %v", b)
		}
	}
}

// TestSet_ErrorsAndUnknownKinds: a failing offer fails Ways with the
// method named; an unknown kind is not found and proves nothing; a kind
// registered twice is a wiring mistake.
func TestSet_ErrorsAndUnknownKinds(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	s := method.NewSet(stub{about: method.About{Kind: "x", Factor: true}, err: boom})
	if _, err := s.Ways(context.Background(), &account.Account{}); !errors.Is(err, boom) {
		t.Fatalf("Ways = %v", err)
	}
	if _, ok := s.Get("y"); ok {
		t.Fatal("an unknown kind was found")
	}
	if ab := s.About("y"); ab.Kind != "y" || ab.Factor || ab.Channel != "" {
		t.Fatalf("About(unknown) = %+v", ab)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a kind registered twice did not panic")
		}
	}()
	method.NewSet(stub{about: method.About{Kind: "x"}}, stub{about: method.About{Kind: "x"}})
}

// TestOffers_ByWhatTheAccountHolds: SMS is offered for a confirmed number
// only; backup codes and the email address never turn two-step on.
func TestOffers_ByWhatTheAccountHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := &account.Account{Phone: "+819012345678"}
	if o, _ := (method.SMSMethod{}).Offer(ctx, a); o != method.Off {
		t.Fatalf("an unconfirmed number: %v", o)
	}
	a.PhoneConfirmedAt = a.CreatedAt.AddDate(2026, 0, 0)
	if o, _ := (method.SMSMethod{}).Offer(ctx, a); o != method.Ready {
		t.Fatalf("a confirmed number: %v", o)
	}
	if got := (method.SMSMethod{}).Destination(a); got != a.Phone {
		t.Fatalf("SMS destination %q", got)
	}
	for _, m := range []method.Method{method.BackupMethod{}, method.EmailMethod{}} {
		if o, _ := m.Offer(ctx, a); o != method.Off {
			t.Fatalf("%s offered %v", m.About().Kind, o)
		}
	}
}
