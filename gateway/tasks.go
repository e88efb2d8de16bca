package gateway

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"openagent/internal/schedule"
)

// errSchedulerOff is every scheduled-task route's answer while the
// scheduler is not running (contract §4.8).
var errSchedulerOff = errorf(http.StatusServiceUnavailable, "Scheduler is not running (scheduler.enabled is false)")

// taskList is GET /api/scheduled-tasks.
type taskList struct {
	Tasks []schedule.Task `json:"tasks"`
}

// taskRunList is GET /api/scheduled-tasks/{id}/runs.
type taskRunList struct {
	Runs []schedule.Run `json:"runs"`
}

// taskDeleted is DELETE /api/scheduled-tasks/{id}.
type taskDeleted struct {
	OK bool   `json:"ok"`
	ID string `json:"id"`
}

// taskBody is the body of POST, PATCH and PUT; absent fields are nil.
type taskBody struct {
	Name           *string `json:"name"`
	CronExpression *string `json:"cron_expression"`
	Prompt         *string `json:"prompt"`
	Enabled        *bool   `json:"enabled"`
}

// taskError maps the scheduler's errors to statuses.
func taskError(err error, id string) error {
	var ve *schedule.ValidationError
	switch {
	case errors.Is(err, schedule.ErrNotFound):
		return errorf(http.StatusNotFound, "Task '"+id+"' not found")
	case errors.As(err, &ve):
		return errorf(http.StatusBadRequest, ve.Msg)
	}
	return err
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	only := strings.ToLower(r.URL.Query().Get("enabled_only"))
	tasks, err := s.cfg.Scheduler.List(r.Context(), only == "1" || only == "true" || only == "yes")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, taskList{tasks})
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	var b taskBody
	if err := decodeJSON(r, &b, false); err != nil {
		return err
	}
	t, err := s.cfg.Scheduler.Create(r.Context(), schedule.NewTask{
		Name: taskStr(b.Name), CronExpression: taskStr(b.CronExpression), Prompt: taskStr(b.Prompt), Enabled: b.Enabled,
	})
	if err != nil {
		return taskError(err, "")
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	id := chi.URLParam(r, "id")
	t, err := s.cfg.Scheduler.Get(r.Context(), id)
	if err != nil {
		return taskError(err, id)
	}
	return writeJSON(w, http.StatusOK, t)
}

// updateTask serves PATCH and PUT alike (decision A14).
func (s *Server) updateTask(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	id := chi.URLParam(r, "id")
	if _, err := s.cfg.Scheduler.Get(r.Context(), id); err != nil {
		return taskError(err, id) // 404 before a body error, as the reference does
	}
	var b taskBody
	if err := decodeJSON(r, &b, false); err != nil {
		return err
	}
	t, err := s.cfg.Scheduler.Update(r.Context(), id, schedule.TaskPatch{
		Name: b.Name, CronExpression: b.CronExpression, Prompt: b.Prompt, Enabled: b.Enabled,
	})
	if err != nil {
		return taskError(err, id)
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	id := chi.URLParam(r, "id")
	if err := s.cfg.Scheduler.Delete(r.Context(), id); err != nil {
		return taskError(err, id)
	}
	return writeJSON(w, http.StatusOK, taskDeleted{true, id})
}

// listTaskRuns returns a task's run history, newest first (?limit=N).
func (s *Server) listTaskRuns(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Scheduler == nil {
		return errSchedulerOff
	}
	id := chi.URLParam(r, "id")
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errorf(http.StatusBadRequest, "limit must be a positive integer, not '"+v+"'")
		}
		limit = n
	}
	runs, err := s.cfg.Scheduler.Runs(r.Context(), id, limit)
	if err != nil {
		return taskError(err, id)
	}
	return writeJSON(w, http.StatusOK, taskRunList{runs})
}

func taskStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
