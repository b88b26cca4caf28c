package lookalike

import (
	"strings"
)

// shorteners are hosts whose links only redirect elsewhere, so a message's
// link text can say anything while the destination stays hidden until
// clicked. The list is kept sorted (a test checks) so that it reads well and
// duplicates show; a host matches itself or any sub-domain of an entry.
//
// Included are public services that shorten arbitrary URLs for anyone, and
// the big brands' own shorteners that phishers abuse through open redirects
// or look-alike paths. Left out are brands' short hosts that only ever point
// at their own content (youtu.be) and link-in-bio pages (linktr.ee), which
// are sites of their own rather than redirectors.
var shorteners = []string{
	"amzn.asia",   // Amazon (Japan, Asia)
	"amzn.eu",     // Amazon (Europe)
	"amzn.to",     // Amazon
	"bit.do",      // Bit.do
	"bit.ly",      // Bitly
	"bitly.com",   // Bitly
	"bl.ink",      // BL.INK
	"buff.ly",     // Buffer
	"clck.ru",     // Yandex
	"cutt.ly",     // Cuttly
	"db.tt",       // Dropbox
	"dlvr.it",     // dlvr.it
	"fb.me",       // Facebook
	"goo.gl",      // Google (retired, old links still resolve)
	"ift.tt",      // IFTTT
	"is.gd",       // is.gd
	"j.mp",        // Bitly
	"lin.ee",      // LINE official accounts
	"lnkd.in",     // LinkedIn
	"ow.ly",       // Hootsuite
	"qrco.de",     // QR Code Generator, common in QR phishing
	"rb.gy",       // Rebrandly free
	"rebrand.ly",  // Rebrandly
	"s.id",        // S.id
	"shorturl.at", // ShortURL
	"surl.li",     // Surl
	"t.co",        // X (Twitter)
	"t.ly",        // T.LY
	"tiny.cc",     // tiny.cc
	"tinyurl.com", // TinyURL
	"trib.al",     // Echobox
	"v.gd",        // is.gd's sibling
	"wp.me",       // WordPress.com
	"x.gd",        // x.gd, popular in Japanese SMS phishing
}

// shortenerSet and shortenerLabels make the lookup one map probe per
// candidate suffix, and only for suffixes no longer (in labels) than the
// longest entry: it runs on every link, and a binary search over every
// suffix of a long host showed in profiles.
var shortenerSet, shortenerLabels = func() (map[string]bool, int) {
	set := make(map[string]bool, len(shorteners))
	n := 0
	for _, s := range shorteners {
		set[s] = true
		n = max(n, strings.Count(s, ".")+1)
	}
	return set, n
}()

// isShortener reports whether host (ASCII form) is, or is under, a shortener.
func isShortener(host string) bool {
	end := len(host)
	for range shortenerLabels {
		dot := strings.LastIndexByte(host[:end], '.')
		if shortenerSet[host[dot+1:]] {
			return true
		}
		if dot < 0 {
			return false
		}
		end = dot
	}
	return false
}
