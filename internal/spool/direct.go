package spool

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

const (
	blockSize     = 4096    // O_DIRECT alignment of buffers, offsets and sizes
	segmentBuffer = 1 << 20 // bytes per write
)

// createDirect creates path for writing with O_DIRECT, or without it where
// the file system refuses it (tmpfs); it reports which.
func createDirect(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_DIRECT, 0o600)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, syscall.EINVAL) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	return f, false, err
}

// alignedBuffer returns n bytes starting on a block boundary.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+blockSize)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) & (blockSize - 1)); r != 0 {
		off = blockSize - r
	}
	return b[off : off+n : off+n]
}
