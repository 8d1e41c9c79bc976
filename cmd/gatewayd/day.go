package main

import (
	"fmt"
	"time"

	"gatewayd/internal/clock"
)

// parseDay reads a command's YYYY-MM-DD argument as that day in
// Europe/Rome; name says which argument it is in the error.
func parseDay(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("%s is required (YYYY-MM-DD)", name)
	}
	t, err := time.ParseInLocation(time.DateOnly, v, clock.Rome)
	if err != nil {
		return t, fmt.Errorf("%s %q: write the day as YYYY-MM-DD", name, v)
	}
	return t, nil
}
