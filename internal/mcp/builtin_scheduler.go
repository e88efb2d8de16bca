package mcp

import (
	"context"
	"errors"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"openagent/internal/schedule"
)

// errNoScheduler is what the scheduler tools answer while it is off.
var errNoScheduler = errors.New("the scheduler is not running (scheduler.enabled is false)")

// Scheduler is the scheduler builtin: create, list, update and delete
// scheduled tasks. get returns the running scheduler, or nil when it is
// off; it is called on every tool call, so it may be wired after the pool.
func Scheduler(get func() *schedule.Scheduler) Builtin {
	return Builtin{Name: "scheduler", Enabled: true, Server: func() *sdk.Server { return schedulerServer(get) }}
}

type taskCreateIn struct {
	Name           string `json:"name" jsonschema:"a short name for the task"`
	CronExpression string `json:"cron_expression" jsonschema:"a 5-field cron expression (minute hour day month weekday, local time), or @once:<unix epoch seconds> for a single run"`
	Prompt         string `json:"prompt" jsonschema:"the message the agent receives when the task runs"`
	Enabled        *bool  `json:"enabled,omitempty" jsonschema:"false to create it paused"`
}

type taskListIn struct {
	EnabledOnly bool `json:"enabled_only,omitempty" jsonschema:"only enabled tasks, soonest first"`
}

type taskIDIn struct {
	ID string `json:"id" jsonschema:"the task's id"`
}

type taskUpdateIn struct {
	ID             string  `json:"id" jsonschema:"the task's id"`
	Name           *string `json:"name,omitempty"`
	CronExpression *string `json:"cron_expression,omitempty"`
	Prompt         *string `json:"prompt,omitempty"`
	Enabled        *bool   `json:"enabled,omitempty"`
}

func schedulerServer(get func() *schedule.Scheduler) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "scheduler"}, nil)
	sched := func() (*schedule.Scheduler, error) {
		if sc := get(); sc != nil {
			return sc, nil
		}
		return nil, errNoScheduler
	}
	sdk.AddTool(s, &sdk.Tool{Name: "create_task", Description: "Schedule a prompt to run on a cron schedule, or once at a given time."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in taskCreateIn) (*sdk.CallToolResult, any, error) {
			sc, err := sched()
			if err != nil {
				return nil, nil, err
			}
			t, err := sc.Create(ctx, schedule.NewTask{Name: in.Name, CronExpression: in.CronExpression, Prompt: in.Prompt, Enabled: in.Enabled})
			if err != nil {
				return nil, nil, err
			}
			return jsonResult(t)
		})
	sdk.AddTool(s, &sdk.Tool{Name: "list_tasks", Description: "List the scheduled tasks."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in taskListIn) (*sdk.CallToolResult, any, error) {
			sc, err := sched()
			if err != nil {
				return nil, nil, err
			}
			ts, err := sc.List(ctx, in.EnabledOnly)
			if err != nil {
				return nil, nil, err
			}
			if ts == nil {
				ts = []schedule.Task{}
			}
			return jsonResult(ts)
		})
	sdk.AddTool(s, &sdk.Tool{Name: "update_task", Description: "Change a scheduled task's name, schedule, prompt or enabled state; fields left out stay as they are."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in taskUpdateIn) (*sdk.CallToolResult, any, error) {
			sc, err := sched()
			if err != nil {
				return nil, nil, err
			}
			t, err := sc.Update(ctx, in.ID, schedule.TaskPatch{Name: in.Name, CronExpression: in.CronExpression, Prompt: in.Prompt, Enabled: in.Enabled})
			if err != nil {
				return nil, nil, err
			}
			return jsonResult(t)
		})
	sdk.AddTool(s, &sdk.Tool{Name: "delete_task", Description: "Delete a scheduled task."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in taskIDIn) (*sdk.CallToolResult, any, error) {
			sc, err := sched()
			if err != nil {
				return nil, nil, err
			}
			if err := sc.Delete(ctx, in.ID); err != nil {
				return nil, nil, err
			}
			return textResult("deleted task " + in.ID), nil, nil
		})
	return s
}
