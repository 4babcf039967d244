package console

// Escape commands (the character after the escape character).
const (
	cmdDetach = '.'
	cmdHelp   = '?'
	cmdWho    = 'w'
	cmdForce  = 'f'
	cmdBreak  = 'B'
)

// escaper finds escape sequences at the start of a line in a viewer's
// input. Everything else passes through in order.
type escaper struct {
	esc       byte
	lineStart bool
	pending   bool // saw the escape character at line start
}

func newEscaper(esc byte) *escaper { return &escaper{esc: esc, lineStart: true} }

// feed splits p into data for the console and escape commands, calling
// data and cmd in input order. A lone escape character followed by
// anything other than a command letter is passed on together with it.
func (e *escaper) feed(p []byte, data func([]byte), cmd func(byte)) {
	start := 0
	flush := func(end int) {
		if end > start {
			data(p[start:end])
		}
	}
	for i, b := range p {
		if e.pending {
			e.pending = false
			switch b {
			case cmdDetach, cmdHelp, cmdWho, cmdForce, cmdBreak:
				cmd(b)
				start = i + 1
				e.lineStart = true
				continue
			case e.esc:
				data([]byte{e.esc})
				start = i + 1
				e.lineStart = false
				continue
			default:
				data([]byte{e.esc})
				start = i
			}
		}
		if e.lineStart && b == e.esc {
			flush(i)
			e.pending = true
			start = i + 1
			continue
		}
		e.lineStart = b == '\r' || b == '\n'
	}
	if !e.pending {
		flush(len(p))
	}
}
