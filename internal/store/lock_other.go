//go:build !unix

package store

import "os"

// lockFile opens path; where advisory locks are not available the store is
// not guarded against a second process.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
