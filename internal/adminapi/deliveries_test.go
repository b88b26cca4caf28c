package adminapi_test

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"gatehouse/internal/apikey"
	"gatehouse/internal/delivery"
)

// TestDeliveries_AFailedOneIsListedAndRetriedOnce: what failed for good
// is listed (status=failed, newest first, a page at a time, never its
// payload) and put back in line by one of twenty retries at once; a retry
// of one that has not failed is 409, of an unknown one 404, and a query
// the route does not take 400. Every answer is the document's.
func TestDeliveries_AFailedOneIsListedAndRetriedOnce(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		s := newServer(t, db)
		v := newValidator(t)
		ctx := context.Background()
		read, _ := s.key(apikey.DeliveriesRead)
		write, _ := s.key(apikey.DeliveriesWrite)
		failed := []string{s.failedDelivery(s.accts[0]), s.failedDelivery(s.accts[1]), s.failedDelivery(s.accts[2])}

		list := func(query string) map[string]any {
			t.Helper()
			a := s.do("GET", "/api/admin/deliveries?"+query, read, nil)
			v.check(t, "GET", "/api/admin/deliveries", a)
			if a.status != 200 {
				t.Fatalf("list %q: %d %s", query, a.status, a.body)
			}
			return a.json(t)
		}
		var seen []string
		next := ""
		for range 3 {
			q := url.Values{"status": {"failed"}, "limit": {"2"}}
			if next != "" {
				q.Set("cursor", next)
			}
			page := list(q.Encode())
			for _, d := range page["deliveries"].([]any) {
				d := d.(map[string]any)
				if d["status"] != "failed" || d["last_error"] != "503 Service Unavailable" || d["attempts"] != 1.0 {
					t.Errorf("a failed delivery as listed: %v", d)
				}
				if _, ok := d["payload"]; ok {
					t.Errorf("a delivery's payload is shown: %v", d)
				}
				seen = append(seen, d["id"].(string))
			}
			c, _ := page["next_cursor"].(string)
			if next = c; next == "" {
				break
			}
		}
		if len(seen) != 3 || seen[0] != failed[2] || seen[2] != failed[0] {
			t.Fatalf("failed deliveries listed %v, want newest first %v", seen, failed)
		}
		for _, q := range []string{"status=lost", "since=2026-01-01T00:00:00Z", "limit=0", "cursor=x"} {
			a := s.do("GET", "/api/admin/deliveries?"+q, read, nil)
			v.check(t, "GET", "/api/admin/deliveries", a)
			if a.status != 400 || errorCode(t, a) != "api_query" {
				t.Errorf("%s: %d %s", q, a.status, a.body)
			}
		}

		path := "/api/admin/deliveries/" + failed[1] + "/retry"
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				a := s.do("POST", path, write, nil)
				v.check(t, "POST", "/api/admin/deliveries/{id}/retry", a)
				mu.Lock()
				codes[a.status]++
				mu.Unlock()
				if a.status == 409 && errorCode(t, a) != "delivery_not_failed" {
					t.Errorf("a second retry: %s", a.body)
				}
			})
		}
		wg.Wait()
		if codes[200] != 1 || codes[409] != 19 {
			t.Fatalf("twenty retries at once: %v, want one 200 and nineteen 409", codes)
		}
		d, err := s.app.DB.Delivery(ctx, failed[1])
		if err != nil || d.Status == delivery.Failed || d.Attempts > 1 || d.LastError == "" {
			// The worker may already have made its first new attempt (and
			// failed again: the receiver does not exist), but not given up.
			t.Fatalf("after the retry: %+v %v", d, err)
		}
		a := s.do("POST", "/api/admin/deliveries/no-such-delivery/retry", write, nil)
		v.check(t, "POST", "/api/admin/deliveries/{id}/retry", a)
		if a.status != 404 || errorCode(t, a) != "request_unknown" {
			t.Errorf("an unknown delivery: %d %s", a.status, a.body)
		}
		// Japanese for a key whose program asks for it.
		a = s.do("POST", path, write, map[string]string{"Accept-Language": "ja"})
		if a.status != 409 {
			t.Errorf("again, in Japanese: %d %s", a.status, a.body)
		}
		if m, _ := a.json(t)["error"].(map[string]any); m == nil || m["message"] != "再送できるのは失敗した配信だけです。この配信はまだ送信中か、すでに受信されています。" {
			t.Errorf("the Japanese message: %s", a.body)
		}
	})
}
