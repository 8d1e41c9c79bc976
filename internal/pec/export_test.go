package pec

import "io"

// CheckNoRecover is Check without its recover, for FuzzCheck.
func (v *Verifier) CheckNoRecover(r io.ReaderAt, size int64) *Envelope { return v.check(r, size) }
