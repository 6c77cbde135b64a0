package bundle

import (
	"bufio"
	"fmt"
	"io"
)

// zipWriter appends stored entries to w in one sequential pass and ends the
// container with the central directory. The caller supplies each entry's
// size and CRC-32 up front, so no data descriptors are needed and every
// header is final when written.
type zipWriter struct {
	bw      *bufio.Writer
	n       uint64 // bytes written so far
	t       dosTime
	entries []zipEntry
}

func newZipWriter(w io.Writer, t dosTime) *zipWriter {
	return &zipWriter{bw: bufio.NewWriterSize(w, 64<<10), t: t}
}

// add writes one entry whose data is exactly size bytes read from body.
func (z *zipWriter) add(name string, size uint64, crc uint32, body io.Reader) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("entry name %q is longer than %d bytes", name, maxNameLen)
	}
	e := zipEntry{name: name, offset: z.n, size: size, crc: crc}
	hdr := e.localHeader(z.t)
	if _, err := z.bw.Write(hdr); err != nil {
		return fmt.Errorf("write entry %s: %w", name, err)
	}
	z.n += uint64(len(hdr))
	// bufio.Writer.ReadFrom hands a file-to-file copy to the kernel
	// (copy_file_range) once its buffer is empty.
	n, err := io.Copy(z.bw, io.LimitReader(body, int64(size)))
	z.n += uint64(n)
	if err != nil {
		return fmt.Errorf("write entry %s: %w", name, err)
	}
	if uint64(n) != size {
		return fmt.Errorf("write entry %s: got %d of %d bytes", name, n, size)
	}
	z.entries = append(z.entries, e)
	return nil
}

// close writes the central directory and the end records and flushes.
func (z *zipWriter) close() error {
	cdOffset := z.n
	for i := range z.entries {
		h := z.entries[i].centralHeader(z.t)
		if _, err := z.bw.Write(h); err != nil {
			return fmt.Errorf("write central directory: %w", err)
		}
		z.n += uint64(len(h))
	}
	tr := trailer(uint64(len(z.entries)), z.n-cdOffset, cdOffset)
	if _, err := z.bw.Write(tr); err != nil {
		return fmt.Errorf("write end of central directory: %w", err)
	}
	z.n += uint64(len(tr))
	if err := z.bw.Flush(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}
