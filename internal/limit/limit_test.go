package limit_test

import (
	"testing"
	"time"

	"gatehouse/internal/limit"
)

// TestCallingCode: the country calling code of E.164 numbers, one to three
// digits by the ITU's assignment (the SMS country caps and allow-list key
// on it).
func TestCallingCode(t *testing.T) {
	for number, want := range map[string]string{
		"+819012345678": "81", "+14155550100": "1", "+79161234567": "7", "+447911123456": "44",
		"+85291234567": "852", "+8613812345678": "86", "+35312345678": "353", "+2348012345678": "234",
	} {
		if got := limit.CallingCode(number); got != want {
			t.Errorf("%s: %q, want %q", number, got, want)
		}
	}
}

// TestRetryAfter: whole seconds, rounded up, at least one.
func TestRetryAfter(t *testing.T) {
	now := time.Unix(1000, 0)
	for d, want := range map[time.Duration]time.Duration{
		0: time.Second, 300 * time.Millisecond: time.Second, 30 * time.Second: 30 * time.Second,
		30*time.Second + time.Millisecond: 31 * time.Second,
	} {
		if got := (&limit.Error{RetryAt: now.Add(d), Now: now}).RetryAfter(); got != want {
			t.Errorf("%v: %v, want %v", d, got, want)
		}
	}
}

// TestNetwork: IPv4 /24 and IPv6 /64, mapped addresses as IPv4.
func TestNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.77": "192.0.2.0/24", "::ffff:192.0.2.77": "192.0.2.0/24", "2001:db8:1:2::99": "2001:db8:1:2::/64", "nonsense": "",
	} {
		if got := limit.Network(ip); got != want {
			t.Errorf("%s: %q, want %q", ip, got, want)
		}
	}
}
