// Package config holds the names every congressflow process must agree on
// (task queue, workflow IDs, signals, queries, environment variables) and
// the helpers that read configuration from flags and the environment.
package config

// DefaultTaskQueue is the task queue the worker polls and the starter, the
// temporal CLI and schedules start workflows on. CONGRESSFLOW_TASK_QUEUE
// overrides it.
const DefaultTaskQueue = "congressflow"

// Environment variables read by the worker and the starter.
const (
	EnvTaskQueue  = "CONGRESSFLOW_TASK_QUEUE"
	EnvDatabase   = "DATABASE_URL"
	EnvLogLevel   = "LOG_LEVEL"
	EnvLogFormat  = "LOG_FORMAT"
	EnvWebUI      = "TEMPORAL_UI_URL"
	EnvAPIKey     = "CONGRESS_API_KEY"
	EnvAPIBaseURL = "CONGRESS_API_BASE_URL"
)

// Workflow ID prefixes. A started workflow's ID is the prefix followed by a
// unique suffix ([UniqueWorkflowID] from the starter, the parent's ID for
// children).
const (
	PipelineIDPrefix = "congressflow-pipeline-"
	TuneIDPrefix     = "congressflow-tune-"
	RevertIDPrefix   = "congressflow-tune-revert-"
	IngestIDPrefix   = "congressflow-ingest-"
	ReportIDPrefix   = "congressflow-report-"
)

// ServerLockIDPrefix starts the workflow ID under which changes to one
// PostgreSQL server run (TuneApplyWorkflow, TuneRevertWorkflow): the
// prefix, the server's system identifier and its port, such as
// congressflow-pg-7312345678901234567-5432. Temporal runs one workflow per
// ID at a time, so that ID is the server's lock.
const ServerLockIDPrefix = "congressflow-pg-"

// Signal and query names.
const (
	// SignalPostgresRestarted tells a waiting TuneWorkflow that the
	// PostgreSQL server was restarted by an operator.
	SignalPostgresRestarted = "postgres-restarted"
	// QueryProgress answers a workflow's progress at any time.
	QueryProgress = "progress"
	// SignalTuneProgress carries TuneApplyWorkflow's progress to the
	// TuneWorkflow that started it, which answers the progress query.
	SignalTuneProgress = "tune-progress"
	// SignalRevertProgress carries TuneRevertWorkflow's steps to the
	// RevertTuningWorkflow that started it.
	SignalRevertProgress = "revert-progress"
)

// DefaultWebUI is where the Temporal dev server serves its Web UI.
const DefaultWebUI = "http://localhost:8233"
