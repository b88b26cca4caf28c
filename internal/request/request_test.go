package request

import "testing"

// TestDecide_FollowsTheCauseTable checks every row of PRODUCT.md's cause
// table: the cause is decided from what the server knew at send time.
func TestDecide_FollowsTheCauseTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    Purpose
		f    Facts
		want Cause
	}{
		{SecondStep, Facts{}, PasswordKnown},
		{SecondStep, Facts{DeviceKnown: true}, OldDevice},
		{SecondStep, Facts{DeviceKnown: true, SessionOnDevice: true}, YouJustNow},
		{ConfirmEmail, Facts{}, Mistyped},
		{ChangeEmail, Facts{DeviceKnown: true}, Mistyped},
		{AddPhone, Facts{SessionOnDevice: true}, Mistyped},
		{ResetPassword, Facts{DeviceKnown: true}, ResetRequested},
		{CodeSignIn, Facts{}, CodeRequested},
		{StepUp, Facts{DeviceKnown: true, SessionOnDevice: true}, YouJustNow},
	}
	for _, c := range cases {
		if got := Decide(c.p, c.f); got != c.want {
			t.Errorf("Decide(%s, %+v) = %s, want %s", c.p, c.f, got, c.want)
		}
	}
}

func TestHasCode_OnlyCodePurposes(t *testing.T) {
	t.Parallel()
	for _, p := range CodePurposes {
		if !p.HasCode() {
			t.Errorf("%s: HasCode false", p)
		}
	}
	for _, p := range []Purpose{SignupExisting, PasswordChanged, PasswordReset, TwoStepOn, MethodAdded, BackupUsed, MethodRemoved, TwoStepOff, BackupRenewed} {
		if p.HasCode() {
			t.Errorf("%s: HasCode true for a notice", p)
		}
	}
}
