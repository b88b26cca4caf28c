package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// TestMessageCenter_ListsWhatWasSentFindsByReferenceAndHidesOthers: the
// holder's page lists their emails and SMS newest first — the sign-up's
// code among them, sent before the account existed — with reference,
// channel, cause and status (codes masked); a reference typed any way finds
// its message; another holder's reference, and a withheld message (an
// address change to a taken address), are not shown; older messages page.
func TestMessageCenter_ListsWhatWasSentFindsByReferenceAndHidesOthers(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email, number = "center@example.com", "+819012345605"
		h.browser("en").signUp("taken-center@example.com", goodPassword)
		other := h.browser("en")
		other.signUp("other-center@example.com", goodPassword)
		b := h.browser("ja")
		b.signUp(email, goodPassword)
		if r := b.enrolPhone("090-1234-5605", number); r.status != 200 {
			t.Fatalf("enrol: %d", r.status)
		}
		b.post("/account/email", url.Values{"email": {"taken-center@example.com"}}) // withheld

		page := b.get("/account/messages")
		if page.status != 200 {
			t.Fatalf("message center: %d", page.status)
		}
		sent := h.messagesTo(number)
		confirm := h.messagesTo(email) // newest first: two-step on, then the sign-up's code
		last := len(confirm) - 1
		// The sign-up's code was sent before the account existed; confirming
		// gave it to the account.
		iSMS, iConfirm := strings.Index(page.body, sent[0].Reference), strings.Index(page.body, confirm[last].Reference)
		if confirm[last].Purpose != request.ConfirmEmail || iSMS < 0 || iConfirm < 0 || iSMS > iConfirm {
			t.Fatalf("want the SMS (%s at %d) above the sign-up code (%s at %d):\n%s", sent[0].Reference, iSMS, confirm[last].Reference, iConfirm, page.body)
		}
		if !strings.Contains(page.body, "末尾05") || !strings.Contains(page.body, "c***@example.com") || !strings.Contains(page.body, "送信") ||
			// The holder's own codes are theirs, never "someone typed it".
			!strings.Contains(page.body, "あなたがアカウントを作成したときの確認コード（使用済み）") ||
			!strings.Contains(page.body, "あなたが電話番号を登録したときの確認コード（使用済み）") ||
			strings.Contains(page.body, "当サービスのサイトで入力されました") || strings.Contains(page.body, "taken-center") {
			t.Fatalf("message center rows:\n%s", page.body)
		}
		for _, m := range append(sent, confirm...) {
			if m.Secret != nil && strings.Contains(page.body, string(m.Secret)) {
				t.Fatal("a code is shown")
			}
		}

		// By reference, as typed: lower case, full width, without GH.
		ref := sent[0].Reference
		for _, typed := range []string{ref, strings.ToLower(ref), ref[3:7] + " " + ref[8:]} {
			r := b.get("/account/messages?" + url.Values{"ref": {typed}}.Encode())
			if r.status != 200 || !strings.Contains(r.body, ref) || strings.Contains(r.body, confirm[last].Reference) {
				t.Fatalf("search %q: %d\n%s", typed, r.status, r.body)
			}
		}
		mine := h.messagesTo("other-center@example.com")[0].Reference
		if r := b.get("/account/messages?ref=" + mine); r.status != 200 || strings.Contains(r.body, mine+"</code>") ||
			!strings.Contains(r.body, "あなたのアカウント宛てにはありません") {
			t.Fatalf("another holder's reference:\n%s", r.body)
		}
		if r := b.get("/account/messages?ref=" + url.QueryEscape("<x>")); r.status != 422 || !strings.Contains(r.body, "GH-7K3P-Q9XW") {
			t.Fatalf("a malformed reference: %d", r.status)
		}

		// Paging: 25 more messages, 20 a page, newest first, none twice.
		acct, _ := h.app.DB.AccountByEmail(context.Background(), email)
		base := time.Now().Add(time.Hour)
		for i := range 25 {
			m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: acct.ID, Purpose: request.PasswordChanged,
				Channel: request.Email, To: email, Language: "ja", Subject: fmt.Sprintf("notice %02d", i), Text: "x",
				CreatedAt: base.Add(time.Duration(i) * time.Second), NextAttemptAt: base, Status: outbox.Sent}
			if err := h.app.DB.EnqueueMessage(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		first := b.get("/account/messages")
		if !strings.Contains(first.body, "notice 24") || strings.Contains(first.body, "notice 04") || !strings.Contains(first.body, "notice 05") {
			t.Fatalf("first page:\n%s", first.body)
		}
		older := hiddenLink(first.body, "/account/messages?before=")
		if older == "" {
			t.Fatal("no link to older messages")
		}
		second := b.get(older)
		if second.status != http.StatusOK || !strings.Contains(second.body, "notice 04") || strings.Contains(second.body, "notice 05") ||
			!strings.Contains(second.body, sent[0].Reference) {
			t.Fatalf("second page:\n%s", second.body)
		}
	})
}

// hiddenLink returns the first href in body that starts with prefix.
func hiddenLink(body, prefix string) string {
	i := strings.Index(body, `href="`+prefix)
	if i < 0 {
		return ""
	}
	rest := body[i+len(`href="`):]
	return strings.ReplaceAll(rest[:strings.IndexByte(rest, '"')], "&amp;", "&")
}
