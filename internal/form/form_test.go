package form_test

import (
	"errors"
	"fmt"
	"testing"

	"gatehouse/internal/form"
)

// TestErrors_ReadAsOneSortedLineAndSurviveWrapping: the message lists
// every field once, in a stable order (logs and tests compare it), and a
// wrapped Errors is still found with errors.As.
func TestErrors_ReadAsOneSortedLineAndSurviveWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("sign-up: %w", form.Errors{"password": "error.required", "email": "error.email_invalid"})
	if got, want := err.Error(), "sign-up: invalid input: email=error.email_invalid password=error.required"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var fe form.Errors
	if !errors.As(err, &fe) || fe["email"] != "error.email_invalid" {
		t.Errorf("errors.As found %v", fe)
	}
}
