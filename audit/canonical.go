package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Canonical form, version 1 ("bmcgate-audit/1").
//
// The canonical bytes of a record r are this JSON text, with no whitespace,
// every key present and the keys in exactly this order:
//
//	{"seq":S,"time":"T","code":C,"actor":C,"door":C,"source":C,"session":C,
//	 "target":C,"action":C,"outcome":C,"reason":C,"duration_ns":D,
//	 "fields":{K:V,...},"data":"B","prev":"P"}
//
// (shown wrapped; the real text is one line), where
//
//   - S is r.Seq and D is r.Duration in nanoseconds, as base-10 integers
//     (D may be negative; no leading zeros, no plus sign);
//   - T is r.Time in UTC in Go's time.RFC3339Nano layout: fractional seconds
//     with trailing zeros removed (none at all when zero) and a "Z" suffix,
//     e.g. "2026-11-24T16:41:05.1234Z";
//   - C, K and V are JSON strings: '"' and '\' are written as \" and \\,
//     bytes 0x00–0x1F and 0x7F as \u00hh (lower-case hex), a byte that is not
//     part of valid UTF-8 as \ufffd, and everything else as raw UTF-8. Stored
//     strings are already escaped by Sanitize, so in practice only \\ and \"
//     occur;
//   - the "fields" object holds r.Fields sorted by key (byte order), "{}" when
//     there are none;
//   - B is r.Data in standard base64 with padding (RFC 4648 section 4), ""
//     when empty;
//   - P is r.Prev: 64 lower-case hex digits, the Hash of record S-1, or 64
//     zeros for S = 1.
//
// Hash = lower-case hex of SHA-256(prev || canonical bytes), where prev is P
// decoded to its 32 raw bytes.
//
// The value stored under key S in bucket "records" is the canonical bytes
// with `,"hash":"H"` inserted before the final '}', H being the Hash. Verify
// requires the stored value to be byte-for-byte in this form.

// formatVersion names the storage and canonical format in the meta bucket.
const formatVersion = "bmcgate-audit/1"

// appendCanonical appends the canonical bytes of r to dst.
func appendCanonical(dst []byte, r *Record) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	for _, f := range []struct {
		key string
		val string
	}{
		{"code", r.Code}, {"actor", r.Actor}, {"door", r.Door}, {"source", r.Source},
		{"session", r.Session}, {"target", r.Target}, {"action", r.Action},
		{"outcome", r.Outcome}, {"reason", r.Reason},
	} {
		dst = append(dst, ',', '"')
		dst = append(dst, f.key...)
		dst = append(dst, '"', ':')
		dst = appendJSONString(dst, f.val)
	}
	dst = append(dst, `,"duration_ns":`...)
	dst = strconv.AppendInt(dst, int64(r.Duration), 10)
	dst = append(dst, `,"fields":{`...)
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, r.Fields[k])
	}
	dst = append(dst, `},"data":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, r.Data)
	dst = append(dst, `","prev":`...)
	dst = appendJSONString(dst, r.Prev)
	return append(dst, '}')
}

// appendJSONString appends s as a canonical JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// chainHash is SHA-256(prev || canonical).
func chainHash(prev [32]byte, canonical []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(canonical)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// hashRecord returns the canonical bytes of r and its chain hash given the
// raw bytes of r.Prev.
func hashRecord(r *Record, prev [32]byte) (canonical []byte, sum [32]byte) {
	canonical = appendCanonical(make([]byte, 0, 512+len(r.Data)*4/3), r)
	return canonical, chainHash(prev, canonical)
}

// storedForm turns canonical bytes into the stored value by inserting the
// hash before the final brace. It reuses canonical's memory.
func storedForm(canonical []byte, hash string) []byte {
	v := canonical[:len(canonical)-1]
	v = append(v, `,"hash":`...)
	v = appendJSONString(v, hash)
	return append(v, '}')
}

// encodeStored returns the stored value of r (which carries its Hash).
func encodeStored(r *Record) []byte {
	return storedForm(appendCanonical(nil, r), r.Hash)
}

// decodeStored parses a stored value. It does not check the hash or the
// normal form; Verify does.
func decodeStored(v []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return Record{}, fmt.Errorf("%w: undecodable record: %w", ErrCorrupt, err)
	}
	return r, nil
}

// parseHash decodes 64 lower-case hex digits.
func parseHash(s string) ([32]byte, bool) {
	var h [32]byte
	if len(s) != 64 {
		return h, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return h, false
		}
	}
	_, err := hex.Decode(h[:], []byte(s))
	return h, err == nil
}

// seqKey is the records bucket key of seq.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// keySeq decodes a records bucket key; ok is false when it is not 8 bytes.
func keySeq(k []byte) (uint64, bool) {
	if len(k) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k), true
}

// encodeHead is the meta "head" value: seq (8 bytes big-endian) || hash.
func encodeHead(seq uint64, hash [32]byte) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 40), seq)
	return append(v, hash[:]...)
}

// decodeHead parses the meta "head" value.
func decodeHead(v []byte) (seq uint64, hash [32]byte, ok bool) {
	if len(v) != 40 {
		return 0, hash, false
	}
	copy(hash[:], v[8:])
	return binary.BigEndian.Uint64(v[:8]), hash, true
}
