package audit

import (
	"context"
	"testing"
)

func TestSearchPagesThroughEverything(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	recs := fill(t, s, 57)
	for _, newest := range []bool{false, true} {
		q := Query{Limit: 10, Newest: newest, Actor: "alice"}
		var want []uint64
		for _, r := range recs {
			if r.Actor == "alice" {
				want = append(want, r.Seq)
			}
		}
		if newest {
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		var got []uint64
		pages := 0
		for {
			page, err := s.SearchPage(context.Background(), q, func(r Record) error {
				got = append(got, r.Seq)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if !page.More {
				break
			}
			if page.Records != 10 {
				t.Fatalf("a page with More has %d records", page.Records)
			}
			q = page.Next(q)
		}
		if len(got) != len(want) || pages != (len(want)+9)/10 {
			t.Fatalf("newest=%v: %d records in %d pages, want %d in %d", newest, len(got), pages, len(want), (len(want)+9)/10)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("newest=%v: record %d is #%d, want #%d", newest, i, got[i], want[i])
			}
		}
	}
}

func TestSearchMoreIsExact(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	fill(t, s, 20)
	// Exactly as many matches as the limit: no "more".
	page, err := s.SearchPage(context.Background(), Query{Limit: 20}, func(Record) error { return nil })
	if err != nil || page.More || page.Records != 20 || page.Last != 20 {
		t.Fatalf("limit = matches: %+v %v", page, err)
	}
	page, err = s.SearchPage(context.Background(), Query{Limit: 19}, func(Record) error { return nil })
	if err != nil || !page.More || page.Last != 19 {
		t.Fatalf("limit < matches: %+v %v", page, err)
	}
	page, err = s.SearchPage(context.Background(), Query{BeforeSeq: 5, AfterSeq: 2}, func(Record) error { return nil })
	if err != nil || page.Records != 2 || page.More {
		t.Fatalf("window (2,5): %+v %v", page, err)
	}
}

func TestSearchCodeGlob(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	for _, c := range []string{CodeConsoleAttach, CodeConsoleDetach, CodeAuthLogin, CodeConsoleOutput} {
		mustAppend(t, s, Record{Code: c})
	}
	var codes []string
	if err := s.Search(context.Background(), Query{Code: "console.*"}, func(r Record) error {
		codes = append(codes, r.Code)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(codes) != 3 {
		t.Fatalf("console.* matched %v", codes)
	}
	if err := s.Search(context.Background(), Query{Code: "console.["}, func(Record) error { return nil }); !errorsIs(err, ErrInvalidQuery) {
		t.Fatalf("bad code pattern: %v", err)
	}
}
