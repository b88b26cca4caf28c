package adminapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"gatehouse/internal/delivery"
	"gatehouse/internal/httpcore"
)

// Deliveries lists the stored deliveries (delivery.ListStore) and retries
// one that failed for good (delivery.Sender.Retry): a receiver that was
// down for longer than the retries last loses nothing.
type Deliveries interface {
	Deliveries(ctx context.Context, q delivery.Query) ([]*delivery.Delivery, error)
}

// Retrier puts a failed delivery back in line (delivery.Sender).
type Retrier interface {
	Retry(ctx context.Context, id string) (*delivery.Delivery, error)
}

// deliveryView is a delivery as the API shows it: its state, never its
// payload (a signed token about an account).
type deliveryView struct {
	ID        string          `json:"id"`
	Kind      delivery.Kind   `json:"kind"`
	Receiver  string          `json:"receiver"`
	Target    string          `json:"target"`
	AccountID string          `json:"account_id"`
	Status    delivery.Status `json:"status"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error"`
	CreatedAt time.Time       `json:"created_at"`
	NextAt    *time.Time      `json:"next_at"`
	SentAt    *time.Time      `json:"sent_at"`
}

func viewDelivery(d *delivery.Delivery) deliveryView {
	return deliveryView{ID: d.ID, Kind: d.Kind, Receiver: d.Receiver, Target: d.Target, AccountID: d.AccountID, Status: d.Status,
		Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt.UTC(), NextAt: when(d.NextAt.UTC()), SentAt: when(d.SentAt.UTC())}
}

// listDeliveries: GET /api/admin/deliveries?status=&limit=&cursor= — the
// deliveries newest first, a page at a time; status=failed is what waits
// for an operator.
func (d *Door) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tq, ok := readTimeQuery(q)
	status := delivery.Status(q.Get("status"))
	if !ok || q.Has("since") || q.Has("until") || (status != "" && !slices.Contains(delivery.Statuses, status)) {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.api_query")
		return
	}
	page, err := d.Deliveries.Deliveries(r.Context(), delivery.Query{Status: status, Before: tq.before, BeforeID: tq.beforeID, Limit: tq.limit + 1})
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views, next := timePage(page, tq.limit, func(d *delivery.Delivery) time.Time { return d.CreatedAt }, func(d *delivery.Delivery) string { return d.ID },
		viewDelivery)
	writeJSON(w, map[string]any{"deliveries": views, "next_cursor": next})
}

// retryDelivery: POST /api/admin/deliveries/{id}/retry — a failed
// delivery back in line, due at once; 409 for one that has not failed.
func (d *Door) retryDelivery(w http.ResponseWriter, r *http.Request) {
	dl, err := d.Retrier.Retry(r.Context(), r.PathValue("id"))
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	o := httpcore.OriginOf(r)
	d.log().InfoContext(r.Context(), "admin api: delivery retried", "delivery", dl.ID, "kind", dl.Kind, "receiver", dl.Receiver,
		"client", o.Client, "ip", o.IP)
	writeJSON(w, map[string]any{"delivery": viewDelivery(dl)})
}
