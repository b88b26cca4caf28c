package adminapi

import (
	"net/http"
	"time"

	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
)

// deviceView is what the admin API shows of a device an account was used
// on: never its cookie's hash.
type deviceView struct {
	ID string `json:"id"`
	// Name is the holder's name for it ("" when they gave none).
	Name        string    `json:"name"`
	Browser     string    `json:"browser"`
	OS          string    `json:"os"`
	IP          string    `json:"ip"`
	FirstUsedAt time.Time `json:"first_used_at"`
	LastUsedAt  time.Time `json:"last_used_at"`
	// TrustedUntil is until when the device skips the account's second
	// step; null when it does not.
	TrustedUntil *time.Time `json:"trusted_until"`
}

func viewDevice(d device.AccountDevice) deviceView {
	v := deviceView{ID: d.ID, Name: d.Name, Browser: d.Browser, OS: d.OS, IP: d.IP,
		FirstUsedAt: d.FirstUsed, LastUsedAt: d.LastUsed}
	if !d.TrustedUntil.IsZero() {
		v.TrustedUntil = when(d.TrustedUntil)
	}
	return v
}

// listDevices: GET /api/admin/accounts/{id}/devices — the devices the
// account has been used on, the most recently used first.
func (d *Door) listDevices(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := d.Accounts.ByID(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	all, err := d.Devices.List(r.Context(), id)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views := make([]deviceView, 0, len(all))
	for _, dev := range all {
		views = append(views, viewDevice(dev))
	}
	writeJSON(w, map[string]any{"devices": views})
}
