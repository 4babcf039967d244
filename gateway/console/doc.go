// Package console shares, records and polices BMC serial consoles.
//
// A Hub keeps one console per BMC: a Line (the console transport: by
// default a proxy/sol line, one SOL payload on the BMC; any Opener in
// Config.Open, such as a BMC's own SSH console, plugs in the same way), a
// scrollback ring shown to each viewer on attach, the attached
// viewers (one per SSH session) and at most one writer. Output from the BMC
// reaches every viewer unchanged; a slow viewer loses output (and is told)
// rather than slowing the others. Input is taken from the writer only.
// Escape sequences at the start of a line (default escape character "~")
// control the session and never reach the BMC.
//
// Every console session is recorded into the audit log as chunked records:
// output once per console, input once per writer, each chunk at most
// audit.MaxDataSize bytes. Output is flushed at least every 250 ms. Input is
// recorded before it is sent: a batch of keystrokes reaches the BMC only
// once its console.input chunk is durably committed (input.go), and a batch
// that cannot be recorded is never sent. Input the BMC did not get (typed
// while the console is not connected, or lost with the payload before the
// BMC accepted it) is not held for later: the writer is told and a
// console.input record with outcome "error" says which bytes and why. A
// chunk that cannot be written ends the sessions it belongs to (fail
// closed).
//
// The package knows users and policy; proxy/sol below it knows only BMCs.
package console
