package digest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestParseWeekAcceptsISOWeeksOnly(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Week
		wantErr string // part of the error; "" means no error
	}{
		{in: "2026-W48", want: Week{2026, 48}},
		{in: "2026-w48", want: Week{2026, 48}},
		{in: "2026-W01", want: Week{2026, 1}},
		{in: "2026-W53", want: Week{2026, 53}}, // 2026 starts on a Thursday
		{in: "2020-W53", want: Week{2020, 53}}, // a leap year starting on a Wednesday
		{in: "2015-W53", want: Week{2015, 53}},
		{in: "2025-W53", wantErr: "2025 has weeks 01 to 52"},
		{in: "2024-W53", wantErr: "2024 has weeks 01 to 52"},
		{in: "2026-W00", wantErr: "weeks 01 to 53"},
		{in: "2026-W54", wantErr: "weeks 01 to 53"},
		{in: "2026-W4", wantErr: "like 2026-W48"},
		{in: "2026W48", wantErr: "like 2026-W48"},
		{in: "2026-48", wantErr: "like 2026-W48"},
		{in: "2026-X48", wantErr: "like 2026-W48"},
		{in: " 2026-W48", wantErr: "like 2026-W48"},
		{in: "", wantErr: "like 2026-W48"},
		{in: "0000-W10", wantErr: "four digits"},
		{in: "+026-W10", wantErr: "four digits"},
		{in: "2026-W+1", wantErr: "two digits"},
		{in: "2026-W-1", wantErr: "two digits"},
		{in: "2026-W４8", wantErr: "like 2026-W48"},
	} {
		got, err := ParseWeek(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseWeek(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseWeek(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestWeekStringRoundTripsThroughParseAndJSON(t *testing.T) {
	for _, w := range []Week{{2026, 48}, {2026, 1}, {2020, 53}, {999, 5}} {
		s := w.String()
		got, err := ParseWeek(s)
		if err != nil || got != w {
			t.Errorf("ParseWeek(%q) = %v, %v; want %v", s, got, err, w)
		}
		b, err := json.Marshal(w)
		if err != nil || string(b) != `"`+s+`"` {
			t.Errorf("json of %v = %s, %v", w, b, err)
		}
		var back Week
		if err := json.Unmarshal(b, &back); err != nil || back != w {
			t.Errorf("json back of %s = %v, %v", b, back, err)
		}
	}
	if got := (Week{2026, 8}).String(); got != "2026-W08" {
		t.Errorf("String = %q, want 2026-W08", got)
	}
	var w Week
	if err := json.Unmarshal([]byte(`"2025-W53"`), &w); err == nil {
		t.Errorf("unmarshal 2025-W53: no error")
	}
}

func TestWeekOfAroundYearEnds(t *testing.T) {
	for _, tc := range []struct {
		date string
		want Week
	}{
		{"2024-12-30", Week{2025, 1}}, // a Monday of December in next year's week 1
		{"2024-12-29", Week{2024, 52}},
		{"2021-01-03", Week{2020, 53}}, // a Sunday of January in last year's week 53
		{"2021-01-04", Week{2021, 1}},
		{"2026-01-01", Week{2026, 1}},
		{"2026-12-31", Week{2026, 53}},
		{"2027-01-03", Week{2026, 53}},
		{"2027-01-04", Week{2027, 1}},
		{"2026-11-23", Week{2026, 48}},
		{"2026-11-29", Week{2026, 48}},
	} {
		d, err := time.Parse("2006-01-02", tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := WeekOf(d.Add(12*time.Hour), time.UTC); got != tc.want {
			t.Errorf("WeekOf(%s) = %v, want %v", tc.date, got, tc.want)
		}
	}
}

// TestWeekOfReadsTheLocalClock: around Monday 00:00 local, the week is the
// local one even where UTC is on the other side of midnight.
func TestWeekOfReadsTheLocalClock(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	kolkata := mustLoad(t, "Asia/Kolkata")
	auckland := mustLoad(t, "Pacific/Auckland")
	for _, tc := range []struct {
		name      string
		at        time.Time
		loc       *time.Location
		want, utc Week
	}{
		// Sunday 23:59 in LA is Monday 07:59 UTC.
		{"LA Sunday night", time.Date(2026, 11, 29, 23, 59, 0, 0, la), la, Week{2026, 48}, Week{2026, 49}},
		{"LA Monday midnight", time.Date(2026, 11, 30, 0, 0, 0, 0, la), la, Week{2026, 49}, Week{2026, 49}},
		// Monday 00:01 in Auckland is Sunday 11:01 UTC.
		{"Auckland Monday", time.Date(2026, 11, 30, 0, 1, 0, 0, auckland), auckland, Week{2026, 49}, Week{2026, 48}},
		{"Auckland Sunday", time.Date(2026, 11, 29, 23, 59, 59, 0, auckland), auckland, Week{2026, 48}, Week{2026, 48}},
		// Monday 00:00 in Kolkata is Sunday 18:30 UTC.
		{"Kolkata Monday", time.Date(2026, 11, 30, 0, 0, 0, 0, kolkata), kolkata, Week{2026, 49}, Week{2026, 48}},
		// A year's end: Monday 2027-01-04 00:30 in Auckland is still 2026-W53 in UTC.
		{"Auckland new year", time.Date(2027, 1, 4, 0, 30, 0, 0, auckland), auckland, Week{2027, 1}, Week{2026, 53}},
		{"nil zone is UTC", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), nil, Week{2026, 49}, Week{2026, 49}},
	} {
		if got := WeekOf(tc.at, tc.loc); got != tc.want {
			t.Errorf("%s: WeekOf = %v, want %v", tc.name, got, tc.want)
		}
		if got := WeekOf(tc.at, time.UTC); got != tc.utc {
			t.Errorf("%s: WeekOf in UTC = %v, want %v", tc.name, got, tc.utc)
		}
	}
}

func TestWeekStartAndEndAreLocalMondays(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	kolkata := mustLoad(t, "Asia/Kolkata")
	auckland := mustLoad(t, "Pacific/Auckland")
	for _, tc := range []struct {
		week      Week
		loc       *time.Location
		startDate string
		hours     float64
	}{
		{Week{2026, 48}, time.UTC, "2026-11-23", 168},
		{Week{2026, 48}, kolkata, "2026-11-23", 168},
		{Week{2026, 1}, la, "2025-12-29", 168},
		{Week{2020, 53}, la, "2020-12-28", 168},
		{Week{2025, 1}, time.UTC, "2024-12-30", 168},
		// The US springs forward on Sunday 2026-03-08: a 167-hour week.
		{Week{2026, 10}, la, "2026-03-02", 167},
		// ... and falls back on Sunday 2026-11-01: 169 hours.
		{Week{2026, 44}, la, "2026-10-26", 169},
		// New Zealand falls back on Sunday 2026-04-05 and springs forward on 2026-09-27.
		{Week{2026, 14}, auckland, "2026-03-30", 169},
		{Week{2026, 39}, auckland, "2026-09-21", 167},
	} {
		start, end := tc.week.Start(tc.loc), tc.week.End(tc.loc)
		if got := start.Format("2006-01-02 15:04 Mon"); got != tc.startDate+" 00:00 Mon" {
			t.Errorf("%v in %v: Start = %s, want %s 00:00 Mon", tc.week, tc.loc, got, tc.startDate)
		}
		if start.Location() != tc.loc {
			t.Errorf("%v: Start in %v, want %v", tc.week, start.Location(), tc.loc)
		}
		if end.Weekday() != time.Monday || end.Hour() != 0 || end.Minute() != 0 {
			t.Errorf("%v in %v: End = %s, want a Monday 00:00", tc.week, tc.loc, end.Format(time.RFC3339))
		}
		if got := end.Sub(start).Hours(); got != tc.hours {
			t.Errorf("%v in %v: End-Start = %vh, want %vh", tc.week, tc.loc, got, tc.hours)
		}
		if WeekOf(start, tc.loc) != tc.week || WeekOf(end.Add(-time.Nanosecond), tc.loc) != tc.week || WeekOf(end, tc.loc) != tc.week.Next() {
			t.Errorf("%v in %v: [Start, End) is not the week WeekOf reads", tc.week, tc.loc)
		}
	}
}

// TestEveryWeekOfTheCenturyTilesTheCalendar: each week ends where the next
// starts, seven days later, so no day falls between two digests.
func TestEveryWeekOfTheCenturyTilesTheCalendar(t *testing.T) {
	w := Week{2000, 1}
	start := w.Start(time.UTC)
	for w.Before(Week{2100, 1}) {
		next := w.Next()
		if !w.End(time.UTC).Equal(next.Start(time.UTC)) || !w.Start(time.UTC).Equal(start) {
			t.Fatalf("%v does not tile: start %v end %v next start %v", w, w.Start(time.UTC), w.End(time.UTC), next.Start(time.UTC))
		}
		if next.Prev() != w || !w.Before(next) || next.Before(w) || w.Before(w) {
			t.Fatalf("%v and %v do not order", w, next)
		}
		if got := WeekOf(start.AddDate(0, 0, 3), time.UTC); got != w {
			t.Fatalf("the Thursday of %v is in %v", w, got)
		}
		start = start.AddDate(0, 0, 7)
		w = next
	}
}

func TestPrevAndNextCrossYears(t *testing.T) {
	for _, tc := range []struct{ w, prev, next Week }{
		{Week{2026, 1}, Week{2025, 52}, Week{2026, 2}},
		{Week{2021, 1}, Week{2020, 53}, Week{2021, 2}},
		{Week{2020, 53}, Week{2020, 52}, Week{2021, 1}},
		{Week{2025, 52}, Week{2025, 51}, Week{2026, 1}},
		{Week{2026, 53}, Week{2026, 52}, Week{2027, 1}},
	} {
		if got := tc.w.Prev(); got != tc.prev {
			t.Errorf("%v.Prev() = %v, want %v", tc.w, got, tc.prev)
		}
		if got := tc.w.Next(); got != tc.next {
			t.Errorf("%v.Next() = %v, want %v", tc.w, got, tc.next)
		}
	}
	for _, tc := range []struct {
		a, b Week
		want bool
	}{
		{Week{2025, 52}, Week{2026, 1}, true},
		{Week{2026, 1}, Week{2025, 52}, false},
		{Week{2026, 3}, Week{2026, 4}, true},
		{Week{2026, 4}, Week{2026, 4}, false},
	} {
		if got := tc.a.Before(tc.b); got != tc.want {
			t.Errorf("%v.Before(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
