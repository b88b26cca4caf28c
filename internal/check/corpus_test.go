package check_test

import (
	"bufio"
	"context"
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

// Every reason the corpus (and a few cases the probe found) draws is whole
// in both languages: no missing or extra arguments, no empty parentheses
// where a list was empty, and our brand is never called a domain.
func TestCorpus_ReasonTextsAreWholeInBothLanguages(t *testing.T) {
	e := newEnv(t)
	var inputs []check.Input
	files, _ := filepath.Glob("testdata/phishing/*/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".eml") {
			inputs = append(inputs, check.Input{Raw: b})
		} else {
			inputs = append(inputs, check.Input{Text: string(b)})
		}
	}
	inputs = append(inputs,
		check.Input{Text: "Gatehouse: please review https://xn--gatehuse-8ya.example/login"},
		check.Input{Text: "Gatehouse: sign in at https://gatehouse-login.example.net/ now"},
		check.Input{Text: "Gatehouse: sign in at https://gatehousesecure.example.net/ now"},
		check.Input{Text: "Gatehouse: sign in at https://gatehouse-login.example/ now"},
		check.Input{Text: "Gatehouse: sign in at https://gatehouse.example.com/ now"})
	if len(inputs) < 40 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, in := range inputs {
		for _, lang := range []string{"en", "ja"} {
			res, err := e.checker.Check(context.Background(), in, lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Reasons {
				for _, bad := range []string{"%!", "()", "（）", "!(", "our domain Gatehouse", "ドメイン Gatehouse"} {
					if strings.Contains(r.Text, bad) {
						t.Errorf("%s %s: %q has %q", lang, r.Code, r.Text, bad)
					}
				}
			}
		}
	}
}
