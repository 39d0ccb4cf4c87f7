// Package lb is a round-robin TCP load balancer for the replicas of a node
// run on one machine: the replica tests' and the benchmark's stand-in for
// the load balancer a deployment puts in front of its replicas
// (docs/operations.md). It passes bytes through untouched (the
// federation's mutual TLS ends at the replica) and skips a replica that
// refuses the connection.
package lb

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Balancer accepts on one address and forwards each connection to the
// next backend that answers.
type Balancer struct {
	l        net.Listener
	mu       sync.Mutex
	backends []string
	next     atomic.Uint64
	wg       sync.WaitGroup
	conns    sync.Map // net.Conn → struct{}: open connections, closed by Close
}

// Listen starts a balancer on addr ("127.0.0.1:0" for any free port)
// forwarding to backends.
func Listen(addr string, backends ...string) (*Balancer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &Balancer{l: l, backends: backends}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

// Addr is the address the balancer accepts on.
func (b *Balancer) Addr() string { return b.l.Addr().String() }

// SetBackends replaces the backends for new connections.
func (b *Balancer) SetBackends(backends ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = backends
}

// Close stops accepting and closes every open connection.
func (b *Balancer) Close() error {
	err := b.l.Close()
	b.conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
	b.wg.Wait()
	return err
}

func (b *Balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.pipe(c)
		}()
	}
}

// dial connects to the next backend that answers, trying each once.
func (b *Balancer) dial() (net.Conn, error) {
	b.mu.Lock()
	backends := append([]string(nil), b.backends...)
	b.mu.Unlock()
	var last error = io.ErrUnexpectedEOF
	start := b.next.Add(1)
	for i := range backends {
		addr := backends[(int(start)+i)%len(backends)]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		cancel()
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

func (b *Balancer) pipe(c net.Conn) {
	b.conns.Store(c, struct{}{})
	defer b.conns.Delete(c)
	defer c.Close()
	up, err := b.dial()
	if err != nil {
		return
	}
	b.conns.Store(up, struct{}{})
	defer b.conns.Delete(up)
	defer up.Close()
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Pass the end of one direction on, and end both once either
		// side is gone.
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(up, c)
	go copyHalf(c, up)
	<-done
	// One direction ended: give the other a moment to finish, then cut.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
