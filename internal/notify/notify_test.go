package notify

import "testing"

func TestHubCoalescesAndNeverBlocks(t *testing.T) {
	t.Parallel()
	var h Hub
	ch, unsub := h.Subscribe()
	for i := 0; i < 10; i++ {
		h.Publish("titanic")
	}
	if got := <-ch; got != "titanic" {
		t.Fatalf("got %q, want titanic", got)
	}
	select {
	case got := <-ch:
		t.Fatalf("second signal %q pending; want coalesced", got)
	default:
	}
	unsub()
	h.Publish("x")
	select {
	case got := <-ch:
		t.Fatalf("signal %q after unsubscribe", got)
	default:
	}
}

func TestNilHubPublish(t *testing.T) {
	t.Parallel()
	var h *Hub
	h.Publish("x") // must not panic
}
