package digest

import (
	"fmt"
	"strconv"
	"time"
)

// Week is an ISO 8601 week: Monday to Sunday, week 1 holds the year's first
// Thursday. A digest is one week, so its URL names the week ("2026-W48")
// rather than a date range that readers in other zones would read apart.
type Week struct{ Year, Num int }

// ParseWeek reads "2026-W48" (or "2026-w48"). Week 53 is accepted only in
// the years that have one.
func ParseWeek(s string) (Week, error) {
	if len(s) != 8 || s[4] != '-' || (s[5] != 'W' && s[5] != 'w') {
		return Week{}, fmt.Errorf("week %q: want a year and a week number like 2026-W48", s)
	}
	year, err := digits(s[:4])
	if err != nil || year < 1 {
		return Week{}, fmt.Errorf("week %q: the year must be four digits from 0001 to 9999", s)
	}
	num, err := digits(s[6:])
	if err != nil {
		return Week{}, fmt.Errorf("week %q: the week must be two digits, 01 to 53", s)
	}
	if n := weeksIn(year); num < 1 || num > n {
		return Week{}, fmt.Errorf("week %q: %d has weeks 01 to %d", s, year, n)
	}
	return Week{Year: year, Num: num}, nil
}

// digits reads a run of ASCII digits only: strconv.Atoi alone would take
// "+1" or "-1".
func digits(s string) (int, error) {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a digit: %q", c)
		}
	}
	return strconv.Atoi(s)
}

// weeksIn is 52 or 53: December 28th always falls in a year's last week.
func weeksIn(year int) int {
	_, n := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return n
}

// WeekOf returns the week t falls in, with t read as a wall clock in loc
// (nil: UTC): Sunday 23:30 in Los Angeles is Monday in UTC, yet still the
// old week for a reader there.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, n := t.In(orUTC(loc)).ISOWeek()
	return Week{Year: y, Num: n}
}

// String returns "2026-W48".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// MarshalText writes the week as String does, so JSON shows "2026-W48".
func (w Week) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (w *Week) UnmarshalText(b []byte) error {
	p, err := ParseWeek(string(b))
	if err != nil {
		return err
	}
	*w = p
	return nil
}

// Start returns the week's Monday at 00:00 in loc (nil: UTC). It is built
// with time.Date from the calendar date, never by adding hours, so a week
// that holds a DST change is 167 or 169 hours long, as the clock on the
// wall says.
func (w Week) Start(loc *time.Location) time.Time {
	// January 4th is always in week 1.
	jan4 := time.Date(w.Year, time.January, 4, 0, 0, 0, 0, time.UTC)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(w.Year, time.January, 4-back+7*(w.Num-1), 0, 0, 0, 0, orUTC(loc))
}

// End returns the next Monday at 00:00 in loc: the week is [Start, End).
func (w Week) End(loc *time.Location) time.Time { return w.Next().Start(loc) }

// Prev returns the week before w.
func (w Week) Prev() Week {
	if w.Num > 1 {
		return Week{Year: w.Year, Num: w.Num - 1}
	}
	return Week{Year: w.Year - 1, Num: weeksIn(w.Year - 1)}
}

// Next returns the week after w.
func (w Week) Next() Week {
	if w.Num < weeksIn(w.Year) {
		return Week{Year: w.Year, Num: w.Num + 1}
	}
	return Week{Year: w.Year + 1, Num: 1}
}

// Before reports whether w comes before o.
func (w Week) Before(o Week) bool {
	if w.Year != o.Year {
		return w.Year < o.Year
	}
	return w.Num < o.Num
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
