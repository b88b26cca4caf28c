package dkimkeys

import (
	"fmt"
	"strings"
	"time"
)

// Record is one DNS TXT record to publish, with the lines of explanation
// printed above it as zone-file comments.
type Record struct {
	Name    string // fully qualified, with the trailing dot
	Value   string
	Comment []string
}

// ZoneLine writes the record as one zone-file line, NAME. IN TXT "…", with
// a value longer than 255 bytes split into several quoted strings (a TXT
// string holds at most 255; resolvers join them).
func (r Record) ZoneLine() string {
	var b strings.Builder
	b.WriteString(r.Name)
	b.WriteString(" IN TXT")
	v := r.Value
	for first := true; first || v != ""; first = false {
		n := min(len(v), 255)
		b.WriteString(` "`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v[:n]))
		b.WriteString(`"`)
		v = v[n:]
	}
	return b.String()
}

// Publish describes the records of a mail domain.
type Publish struct {
	Domain string // the mail domain, the d= of our signatures
	// SPFHosts are the names or addresses of the relays that send our
	// mail (the SMTP host); empty means the domain's MX, which the
	// operator should replace with the relay's own SPF include.
	SPFHosts []string
	// ReportTo receives DMARC aggregate reports.
	ReportTo string
	// LogoURL is where the BIMI logo (SVG Tiny PS) would be served.
	LogoURL string
	// FromDomain is the domain of the From address, when it is not
	// Domain: DMARC is looked up there.
	FromDomain string
}

// DNSRecords returns the TXT records to publish for p.Domain: SPF, one DKIM
// record per key that signs at now (both generations during an overlap),
// DMARC, and a BIMI template.
func (r *Ring) DNSRecords(p Publish, now time.Time) []Record {
	d := strings.TrimSuffix(strings.ToLower(p.Domain), ".")
	spf := "v=spf1 mx -all"
	spfNote := []string{"SPF: which servers may send mail for " + d + ".",
		"This says \"the domain's MX hosts, nobody else\". If a relay sends for you, replace mx with the relay's own SPF include or address."}
	if len(p.SPFHosts) > 0 {
		var mech []string
		for _, h := range p.SPFHosts {
			switch {
			case strings.Contains(h, ":"):
				mech = append(mech, "ip6:"+h)
			case isIPv4(h):
				mech = append(mech, "ip4:"+h)
			default:
				mech = append(mech, "a:"+h)
			}
		}
		spf = "v=spf1 " + strings.Join(mech, " ") + " -all"
		spfNote = []string{"SPF: which servers may send mail for " + d + ": the SMTP relay Gatehouse hands its mail to.",
			"If the relay's provider publishes an SPF include, use that instead of a:HOST."}
	}
	out := []Record{{Name: d + ".", Value: spf, Comment: spfNote}}
	for _, k := range r.Signing(now) {
		note := []string{fmt.Sprintf("DKIM key %s (%s), made %s.", k.Selector, k.Algorithm, k.Created.Format(time.DateOnly))}
		if !k.RetireAt.IsZero() {
			note = append(note, "It is being replaced and stops signing on "+k.RetireAt.Format(time.RFC3339)+"; keep the record published after that, so older mail still verifies.")
		}
		out = append(out, Record{Name: k.Selector + "._domainkey." + d + ".", Value: k.Record(), Comment: note})
	}
	rua := p.ReportTo
	if rua == "" {
		rua = "dmarc-reports@" + d
	}
	dmarc := d
	if f := strings.TrimSuffix(strings.ToLower(p.FromDomain), "."); f != "" && f != d {
		dmarc = f
	}
	out = append(out, Record{
		Name:  "_dmarc." + dmarc + ".",
		Value: "v=DMARC1; p=quarantine; adkim=r; aspf=r; pct=100; rua=mailto:" + rua,
		Comment: []string{"DMARC: mail that claims to be from " + dmarc + " but passes neither SPF nor DKIM for it (aligned: the same organizational domain, so " + d + " signs for it) is quarantined.",
			"Start with p=none for a week and read the reports at " + rua + " if other systems also send as " + dmarc + "; then p=quarantine, later p=reject."},
	})
	logo := p.LogoURL
	if logo == "" {
		logo = "https://" + d + "/brand/logo.svg"
	}
	out = append(out, Record{
		Name:  "default._bimi." + d + ".",
		Value: "v=BIMI1; l=" + logo + "; a=https://" + d + "/brand/vmc.pem",
		Comment: []string{"BIMI (template; publish only once DMARC is at p=quarantine or p=reject): the logo some mailboxes show beside your mail.",
			"l= is your logo as SVG Tiny PS. a= is a Verified Mark Certificate (VMC) or Common Mark Certificate from a certificate authority,",
			"which proves the logo is your registered mark: with it, mailboxes such as Gmail and Apple Mail show the logo and a verified checkmark,",
			"the sign the consumer guide tells people to look for. Without a= most mailboxes show nothing; leave a= empty (a=;) until you have one."},
	})
	return out
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}
