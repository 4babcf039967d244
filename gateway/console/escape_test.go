package console

import (
	"strings"
	"testing"
)

func TestEscaper(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string // data, with commands shown as <c>
	}{
		{"plain", []string{"ls -l\r"}, "ls -l\r"},
		{"detach at start", []string{"~."}, "<.>"},
		{"detach after cr", []string{"ls\r~."}, "ls\r<.>"},
		{"not at line start", []string{"a~."}, "a~."},
		{"literal tilde", []string{"~~x"}, "~x"},
		{"double tilde then command letter is data", []string{"~~."}, "~."},
		{"unknown escape passes", []string{"~x"}, "~x"},
		{"split across reads", []string{"~", "."}, "<.>"},
		{"every command", []string{"~?", "~w", "~f", "~B", "~."}, "<?><w><f><B><.>"},
		{"after newline", []string{"x\n~w"}, "x\n<w>"},
		{"command then more", []string{"~wabc"}, "<w>abc"},
		{"tilde mid line after command", []string{"~wa~."}, "<w>a~."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEscaper('~')
			var b strings.Builder
			for _, c := range tt.chunks {
				e.feed([]byte(c), func(p []byte) { b.Write(p) }, func(c byte) { b.WriteString("<" + string(c) + ">") })
			}
			if b.String() != tt.want {
				t.Fatalf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestEscaperOtherChar(t *testing.T) {
	e := newEscaper('&')
	var b strings.Builder
	e.feed([]byte("~.&."), func(p []byte) { b.Write(p) }, func(c byte) { b.WriteString("<" + string(c) + ">") })
	if b.String() != "~.&." {
		t.Fatalf("got %q", b.String())
	}
	e = newEscaper('&')
	b.Reset()
	e.feed([]byte("&."), func(p []byte) { b.Write(p) }, func(c byte) { b.WriteString("<" + string(c) + ">") })
	if b.String() != "<.>" {
		t.Fatalf("got %q", b.String())
	}
}

func TestRing(t *testing.T) {
	r := newRing(8)
	r.Write([]byte("abc"))
	if string(r.Bytes()) != "abc" {
		t.Fatal(string(r.Bytes()))
	}
	r.Write([]byte("defgh"))
	if string(r.Bytes()) != "abcdefgh" {
		t.Fatal(string(r.Bytes()))
	}
	r.Write([]byte("ij"))
	if string(r.Bytes()) != "cdefghij" {
		t.Fatal(string(r.Bytes()))
	}
	r.Write([]byte("0123456789"))
	if string(r.Bytes()) != "23456789" {
		t.Fatal(string(r.Bytes()))
	}
	if z := newRing(0); len(z.Bytes()) != 0 {
		t.Fatal("zero ring kept bytes")
	}
}
