package script_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, after all tests, that no goroutine was left behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
