package check_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/check"
)

// The phishing corpus (testdata/phishing, README there): messages written
// to imitate ours — look-alike domains of several kinds, display-name
// spoofing, links whose text shows another host, pressure, requests for a
// code, a password or a card, SMS bound to another host, Chinese
// ideographs in "Japanese". Each is not from us, with the reasons
// expect.tsv names, in both languages of the reasons.
func TestCorpus_EveryCraftedPhishingMessageIsNotOursForItsReason(t *testing.T) {
	e := newEnv(t)
	f, err := os.Open("testdata/phishing/expect.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("expect.tsv: %q", line)
		}
		path, verdict, want := cols[0], check.Verdict(cols[1]), strings.Split(cols[2], ",")
		b, err := os.ReadFile(filepath.Join("testdata/phishing", path))
		if err != nil {
			t.Fatal(err)
		}
		in := check.Input{Text: string(b)}
		if strings.HasSuffix(path, ".eml") {
			in = check.Input{Raw: b}
		}
		n[strings.SplitN(path, "/", 2)[0]]++
		for _, lang := range []string{"en", "ja"} {
			res := run(t, e, in, lang)
			if res.Verdict != verdict {
				t.Errorf("%s (%s): %s, want %s; reasons %s", path, lang, res.Verdict, verdict, codes(res))
				continue
			}
			for _, c := range want {
				if !res.Has(c) {
					t.Errorf("%s (%s): no %s among %s", path, lang, c, codes(res))
				}
			}
			for _, r := range res.Reasons {
				if r.Text == "" || strings.HasPrefix(r.Text, "check.reason.") {
					t.Errorf("%s: reason %s has no text", path, r.Code)
				}
			}
		}
	}
	if n["en"] < 20 || n["ja"] < 20 {
		t.Errorf("corpus: %v messages, want at least 20 in each language", n)
	}
}
