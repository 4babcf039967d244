// Package krl reads the revoked-keys files of the SSH front door: an
// OpenSSH key revocation list (KRL, as written by ssh-keygen -k; the format
// is OpenSSH's PROTOCOL.krl) or a plain list of public keys, one per line.
// A List answers whether a key or user certificate is revoked, with the
// same rules as OpenSSH's sshd RevokedKeys: a key is revoked when listed
// explicitly or by its SHA-1 or SHA-256 hash; a certificate is revoked
// when its key or its CA's key is, or when its CA's certificate section
// (or one for any CA) lists its serial number or key id. Serial number 0
// is never matched by serial, as in OpenSSH.
package krl

import (
	"bufio"
	"bytes"
	"crypto/sha1" // #nosec: KRL sections name keys by SHA-1 hash; matching, not signing
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// MaxSize bounds the size of a revoked-keys file.
const MaxSize = 16 << 20

// magic starts every KRL ("SSHKRL\n\0").
var magic = []byte("SSHKRL\n\x00")

// Section and subsection types of PROTOCOL.krl.
const (
	sectionCertificates   = 1
	sectionExplicitKey    = 2
	sectionFingerprintSHA = 3
	sectionSignature      = 4
	sectionSHA256         = 5

	certSerialList   = 0x20
	certSerialRange  = 0x21
	certSerialBitmap = 0x22
	certKeyID        = 0x23

	formatVersion = 1
)

// List is a parsed revoked-keys file. The zero value revokes nothing.
type List struct {
	keys   map[string]bool // marshalled plain public keys
	sha1   map[string]bool // SHA-1 of marshalled plain keys
	sha256 map[string]bool // SHA-256 of marshalled plain keys
	certs  []certSection
	// Version is the KRL's version number (0 for a list of keys).
	Version uint64
	// Entries counts the revocations listed (keys, hashes, serials,
	// ranges, bitmaps and key ids).
	Entries int
}

type certSection struct {
	ca      []byte // marshalled CA key; nil for any CA
	serials map[uint64]bool
	ranges  [][2]uint64
	bitmaps []bitmap
	ids     map[string]bool
}

type bitmap struct {
	offset uint64
	bits   *big.Int
}

// IsKRL reports whether data starts like a KRL.
func IsKRL(data []byte) bool { return bytes.HasPrefix(data, magic) }

// Parse reads a KRL, or else a list of public keys in authorized_keys
// format (one per line; blank lines and lines starting with # ignored).
func Parse(data []byte) (*List, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	l := &List{keys: map[string]bool{}, sha1: map[string]bool{}, sha256: map[string]bool{}}
	if IsKRL(data) {
		if err := l.parseKRL(data); err != nil {
			return nil, err
		}
		return l, nil
	}
	if err := l.parseKeys(data); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *List) parseKeys(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return fmt.Errorf("line %d: neither a KRL (ssh-keygen -k) nor a public key in authorized_keys format", n)
		}
		if c, ok := k.(*ssh.Certificate); ok {
			k = c.Key
		}
		l.keys[string(k.Marshal())] = true
		l.Entries++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// reader reads SSH wire encoding; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed KRL: %s", what)
	}
}

func (r *reader) u8(what string) byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64(what string) uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) str(what string) []byte {
	n := r.u32(what)
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) empty() bool { return r.err == nil && len(r.b) == 0 }

func (l *List) parseKRL(data []byte) error {
	r := &reader{b: data[len(magic):]}
	if v := r.u32("format version"); r.err == nil && v != formatVersion {
		return fmt.Errorf("KRL format version %d is not supported (only %d)", v, formatVersion)
	}
	l.Version = r.u64("KRL version")
	r.u64("generated date")
	r.u64("flags")
	r.str("reserved")
	r.str("comment")
	for r.err == nil && !r.empty() {
		typ := r.u8("section type")
		sec := &reader{b: r.str("section")}
		if r.err != nil {
			break
		}
		var err error
		switch typ {
		case sectionCertificates:
			err = l.parseCertSection(sec)
		case sectionExplicitKey:
			err = l.parseBlobs(sec, l.keys, 0)
		case sectionFingerprintSHA:
			err = l.parseBlobs(sec, l.sha1, sha1.Size)
		case sectionSHA256:
			err = l.parseBlobs(sec, l.sha256, sha256.Size)
		case sectionSignature:
			err = errors.New("signed KRLs are not supported (ssh-keygen -k writes unsigned ones)")
		default:
			err = fmt.Errorf("unknown KRL section type %d", typ)
		}
		if err != nil {
			return err
		}
	}
	return r.err
}

// parseBlobs reads a section of strings into set; size, when not 0, is the
// length each must have (a hash).
func (l *List) parseBlobs(r *reader, set map[string]bool, size int) error {
	for !r.empty() {
		b := r.str("key or hash")
		if r.err != nil {
			return r.err
		}
		if size != 0 && len(b) != size {
			return fmt.Errorf("malformed KRL: a hash of %d bytes, want %d", len(b), size)
		}
		if size == 0 {
			if _, err := ssh.ParsePublicKey(b); err != nil {
				return fmt.Errorf("malformed KRL: a revoked key does not parse: %w", err)
			}
		}
		set[string(b)] = true
		l.Entries++
	}
	return nil
}

func (l *List) parseCertSection(r *reader) error {
	cs := certSection{serials: map[uint64]bool{}, ids: map[string]bool{}}
	ca := r.str("CA key")
	r.str("reserved")
	if r.err != nil {
		return r.err
	}
	if len(ca) > 0 {
		if _, err := ssh.ParsePublicKey(ca); err != nil {
			return fmt.Errorf("malformed KRL: a certificate section's CA key does not parse: %w", err)
		}
		cs.ca = bytes.Clone(ca)
	}
	for !r.empty() {
		typ := r.u8("certificate subsection type")
		sub := &reader{b: r.str("certificate subsection")}
		if r.err != nil {
			return r.err
		}
		switch typ {
		case certSerialList:
			for !sub.empty() {
				cs.serials[sub.u64("serial")] = true
				l.Entries++
			}
		case certSerialRange:
			lo, hi := sub.u64("serial range"), sub.u64("serial range")
			if sub.err == nil && lo > hi {
				return fmt.Errorf("malformed KRL: serial range %d-%d", lo, hi)
			}
			cs.ranges = append(cs.ranges, [2]uint64{lo, hi})
			l.Entries++
		case certSerialBitmap:
			off := sub.u64("bitmap offset")
			bits := sub.str("bitmap")
			if sub.err == nil && len(bits) > 0 && bits[0]&0x80 != 0 {
				return errors.New("malformed KRL: negative serial bitmap")
			}
			cs.bitmaps = append(cs.bitmaps, bitmap{offset: off, bits: new(big.Int).SetBytes(bits)})
			l.Entries++
		case certKeyID:
			for !sub.empty() {
				id := sub.str("key id")
				cs.ids[string(id)] = true
				l.Entries++
			}
		default:
			return fmt.Errorf("unknown KRL certificate subsection type %#x", typ)
		}
		if sub.err != nil {
			return sub.err
		}
		if !sub.empty() {
			return errors.New("malformed KRL: trailing bytes in a certificate subsection")
		}
	}
	l.certs = append(l.certs, cs)
	return nil
}

// Revoked reports whether k (a public key or a user certificate) is
// revoked, and why.
func (l *List) Revoked(k ssh.PublicKey) (bool, string) {
	if l == nil {
		return false, ""
	}
	cert, isCert := k.(*ssh.Certificate)
	if !isCert {
		if l.keyRevoked(k) {
			return true, "key " + ssh.FingerprintSHA256(k) + " is revoked"
		}
		return false, ""
	}
	if l.keyRevoked(cert.Key) {
		return true, "the certificate's key " + ssh.FingerprintSHA256(cert.Key) + " is revoked"
	}
	if l.keyRevoked(cert.SignatureKey) {
		return true, "the certificate's CA " + ssh.FingerprintSHA256(cert.SignatureKey) + " is revoked"
	}
	ca := cert.SignatureKey.Marshal()
	for _, cs := range l.certs {
		if cs.ca != nil && !bytes.Equal(cs.ca, ca) {
			continue
		}
		if cs.ids[cert.KeyId] {
			return true, fmt.Sprintf("certificate key id %q is revoked", cert.KeyId)
		}
		if cert.Serial != 0 && cs.serialRevoked(cert.Serial) {
			return true, fmt.Sprintf("certificate serial %d of CA %s is revoked", cert.Serial, ssh.FingerprintSHA256(cert.SignatureKey))
		}
	}
	return false, ""
}

func (l *List) keyRevoked(k ssh.PublicKey) bool {
	b := k.Marshal()
	h1 := sha1.Sum(b) // #nosec: matching KRL entries
	h256 := sha256.Sum256(b)
	return l.keys[string(b)] || l.sha1[string(h1[:])] || l.sha256[string(h256[:])]
}

func (cs *certSection) serialRevoked(s uint64) bool {
	if cs.serials[s] {
		return true
	}
	for _, r := range cs.ranges {
		if s >= r[0] && s <= r[1] {
			return true
		}
	}
	for _, b := range cs.bitmaps {
		if s >= b.offset && s-b.offset < uint64(b.bits.BitLen()) && b.bits.Bit(int(s-b.offset)) == 1 {
			return true
		}
	}
	return false
}
