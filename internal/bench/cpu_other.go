//go:build !unix

package bench

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }

// pidCPU is not measured here.
func pidCPU(int) time.Duration { return 0 }

// postmaster is not found here.
func postmaster(int) (int, bool) { return 0, false }

// serverCPU is not measured here.
func serverCPU(int) (time.Duration, bool) { return 0, false }
