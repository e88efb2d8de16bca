package app

import (
	"context"
	"log/slog"
	"time"

	"openagent/gateway"
	"openagent/internal/schedule"
	"openagent/internal/upload"
)

// schedulerStopWait bounds how long closing waits for the scheduler to
// record the runs that shutdown cancelled.
const schedulerStopWait = 10 * time.Second

// wireScheduler builds the scheduler when scheduler.enabled is on (the
// default): its turns go through the agent, its changes are broadcast as
// resource_event scheduled_task, and it runs until the gateway stops.
func wireScheduler(gcfg *gateway.Config, svc *services, log *slog.Logger) error {
	if !gcfg.Settings.Config().Scheduler.On() {
		return nil // every /api/scheduled-tasks route answers 503
	}
	var runner schedule.Runner
	if gcfg.Agent != nil {
		runner = gcfg.Agent
	}
	sched, err := schedule.New(schedule.Config{DB: gcfg.DB, Runner: runner, Log: log, Events: gcfg.Events})
	if err != nil {
		return err
	}
	gcfg.Scheduler = sched
	svc.onAttach(func(srv *gateway.Server) {
		sched.OnChange = func(action, id string) { srv.Broadcast("scheduled_task", action, id) }
	})
	var done chan struct{}
	svc.onStart(func(ctx context.Context) {
		done = make(chan struct{})
		go func() {
			defer close(done)
			if err := sched.Run(ctx); err != nil {
				log.Error("scheduler stopped", "err", err)
			}
		}()
	})
	svc.onClose(func() {
		if done == nil {
			return
		}
		select {
		case <-done:
		case <-time.After(schedulerStopWait):
			log.Warn("scheduler did not stop in time")
		}
	})
	return nil
}

// wireUploads stores uploads under <agent_dir>/uploads.
func wireUploads(gcfg *gateway.Config) error {
	up, err := upload.New(upload.Config{Dir: gcfg.Dir, Settings: gcfg.Settings, Log: gcfg.Log})
	if err != nil {
		return err
	}
	gcfg.Uploads = up
	return nil
}
