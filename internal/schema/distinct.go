package schema

import (
	"math"
	"math/bits"
)

// distinctExactMax is how many distinct values a distinctCounter counts
// exactly; past it, it estimates with HyperLogLog in fixed memory.
const distinctExactMax = 1 << 16

// hllBits is the HyperLogLog precision: 2^14 one-byte registers, a relative
// standard error of 1.04/sqrt(2^14) ≈ 0.8%.
const hllBits = 14

// distinctCounter counts distinct strings: exactly (a set of 64-bit hashes)
// up to distinctExactMax, then by a HyperLogLog estimate, so memory stays
// bounded whatever the input. It is deterministic: same values, same count.
type distinctCounter struct {
	set map[uint64]struct{} // nil once estimating
	reg []uint8             // HyperLogLog registers, once estimating
}

func (d *distinctCounter) add(s string) {
	h := hashString(s)
	if d.reg != nil {
		d.addHLL(h)
		return
	}
	if d.set == nil {
		d.set = make(map[uint64]struct{})
	}
	d.set[h] = struct{}{}
	if len(d.set) > distinctExactMax {
		d.reg = make([]uint8, 1<<hllBits)
		for h := range d.set {
			d.addHLL(h)
		}
		d.set = nil
	}
}

func (d *distinctCounter) addHLL(h uint64) {
	i := h >> (64 - hllBits)
	rho := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1)) + 1)
	if rho > d.reg[i] {
		d.reg[i] = rho
	}
}

// count returns the number of distinct values and whether it is estimated.
func (d *distinctCounter) count() (int, bool) {
	if d.reg == nil {
		return len(d.set), false
	}
	m := float64(len(d.reg))
	var sum float64
	for _, r := range d.reg {
		sum += math.Ldexp(1, -int(r))
	}
	// Raw HyperLogLog estimate; the small-range correction is not needed
	// as the counter only estimates past distinctExactMax > 2.5m.
	alpha := 0.7213 / (1 + 1.079/m)
	return int(math.Round(alpha * m * m / sum)), true
}

// hashString is FNV-1a with a murmur3 finaliser, so that the high bits
// HyperLogLog reads are well mixed. It is fixed, unlike hash/maphash, so
// counts do not vary between runs.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
