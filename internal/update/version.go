package update

import (
	"strconv"
	"strings"
)

// Compare orders two version strings the semver way and returns -1, 0 or
// +1. It is lenient: a leading "v" is ignored, missing parts count as 0
// (1.2 == 1.2.0), build metadata (+…) is ignored, and a pre-release
// (1.2.0-rc.1, 0.1.0-dev) sorts before its release. A part that is not a
// number counts as 0, so "dev" is older than any release.
func Compare(a, b string) int {
	am, ap := splitVersion(a)
	bm, bp := splitVersion(b)
	for i := 0; i < max(len(am), len(bm)); i++ {
		if c := cmpInt(part(am, i), part(bm, i)); c != 0 {
			return c
		}
	}
	switch {
	case ap == "" && bp == "":
		return 0
	case ap == "":
		return 1
	case bp == "":
		return -1
	}
	return comparePre(strings.Split(ap, "."), strings.Split(bp, "."))
}

func splitVersion(v string) (nums []int, pre string) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	v, _, _ = strings.Cut(v, "+")
	v, pre, _ = strings.Cut(v, "-")
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			n = 0
		}
		nums = append(nums, n)
	}
	return nums, pre
}

func part(nums []int, i int) int {
	if i < len(nums) {
		return nums[i]
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// comparePre orders pre-release identifiers (semver §11): numbers
// numerically and below words, words lexically, a shorter list first.
func comparePre(a, b []string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		an, aerr := strconv.Atoi(a[i])
		bn, berr := strconv.Atoi(b[i])
		switch {
		case aerr == nil && berr == nil:
			if c := cmpInt(an, bn); c != 0 {
				return c
			}
		case aerr == nil:
			return -1
		case berr == nil:
			return 1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}
