// Package notify broadcasts wake-ups inside one process: "the registry
// changed", "new rows arrived". Subscribers get a channel that holds at most
// one pending signal, so a slow subscriber never blocks a publisher and never
// misses that something happened.
package notify

import "sync"

// Hub fans signals out to subscribers. The zero value is ready to use.
type Hub struct {
	mu   sync.Mutex
	subs map[chan string]struct{}
}

// Subscribe returns a channel that receives a topic (a pipeline name) after
// each Publish, coalescing signals the subscriber has not read yet, and a
// function that unsubscribes.
func (h *Hub) Subscribe() (<-chan string, func()) {
	ch := make(chan string, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan string]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Publish signals every subscriber. It never blocks.
func (h *Hub) Publish(topic string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- topic:
		default: // a signal is already pending
		}
	}
}
