//go:build !unix

package train

// processAlive cannot tell here: the holder's lease expires instead.
func processAlive(int) bool { return true }
