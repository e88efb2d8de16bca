package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// oncePrefix marks a one-shot expression: "@once:<epoch seconds>".
const oncePrefix = "@once:"

// Expr is a parsed schedule expression: a 5-field cron expression, a
// descriptor (@daily, @hourly, @every 90m, …) or a one-shot @once:<epoch>.
type Expr struct {
	text  string
	cron  cron.Schedule // nil for a one-shot
	runAt time.Time     // the one-shot's time
}

// Parse validates a schedule expression. Its error says what is wrong, in the
// contract's words: Invalid cron expression '<expr>': <detail>.
func Parse(expr string) (e Expr, err error) {
	expr = strings.TrimSpace(expr)
	bad := func(detail string) error {
		return &ValidationError{Msg: fmt.Sprintf("Invalid cron expression '%s': %s", expr, detail)}
	}
	if rest, ok := strings.CutPrefix(expr, oncePrefix); ok {
		f, perr := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
			return Expr{}, bad("@once needs a positive epoch in seconds, e.g. @once:1767225600")
		}
		sec, frac := math.Modf(f)
		return Expr{text: expr, runAt: time.Unix(int64(sec), int64(frac*1e9))}, nil
	}
	if expr == "" {
		return Expr{}, bad("the expression is empty")
	}
	defer func() {
		// robfig/cron panics on a few malformed inputs (e.g. a bare "TZ=").
		if p := recover(); p != nil {
			e, err = Expr{}, bad(fmt.Sprint(p))
		}
	}()
	sched, perr := cron.ParseStandard(expr)
	if perr != nil {
		return Expr{}, bad(perr.Error())
	}
	// A syntactically valid expression may never fire (0 0 30 2 *).
	if sched.Next(time.Now()).IsZero() {
		return Expr{}, bad("it never fires")
	}
	return Expr{text: expr, cron: sched}, nil
}

// String is the expression as given (trimmed).
func (e Expr) String() string { return e.text }

// Once reports whether e is a one-shot, and its time.
func (e Expr) Once() (time.Time, bool) { return e.runAt, e.cron == nil }

// Next is the first firing strictly after t; for a one-shot it is its time,
// whatever t is. The zero time means never.
func (e Expr) Next(t time.Time) time.Time {
	if e.cron == nil {
		return e.runAt
	}
	return e.cron.Next(t)
}
