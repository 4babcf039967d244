// Package oserr trims operating-system errors for messages that already
// name the file or address: "data directory /var/lib/bmcgate: not
// writable: permission denied" rather than repeating the path inside the
// cause. The cause stays wrapped for errors.Is.
package oserr

import (
	"errors"
	"io/fs"
	"net"
)

// PathCause drops the path from an *fs.PathError (the message names it
// already).
func PathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ListenCause drops the "listen tcp ADDR:" prefix the address already
// names.
func ListenCause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
