package workflows_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/opendiscourse/congressflow/activities"
	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/ingest"
	"github.com/opendiscourse/congressflow/internal/pgtune"
	"github.com/opendiscourse/congressflow/workflows"
)

// TestWorkflowsRejectMisspeltInput starts each workflow with the raw JSON
// a `temporal workflow start --input` sends: an unknown field or a value
// of the wrong kind fails the workflow at once, non-retryably, naming the
// field and the closest known one, before any activity runs.
func TestWorkflowsRejectMisspeltInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		workflow string
		input    string
		wantErr  string
	}{
		{name: "pipeline stages", workflow: "PipelineWorkflow", input: `{"stagez":["analyze"]}`,
			wantErr: `unknown field "stagez"; did you mean "stages"?`},
		{name: "pipeline extensions", workflow: "PipelineWorkflow", input: `{"stages":["extensions"],"extensions":{"checkonly":true}}`,
			wantErr: `unknown field "checkonly" in extensions; did you mean "check_only"?`},
		{name: "pipeline tune", workflow: "PipelineWorkflow", input: `{"stages":["analyze"],"tune":{"aply":true}}`,
			wantErr: `unknown field "aply" in tune; did you mean "apply"?`},
		{name: "pipeline tune override", workflow: "PipelineWorkflow", input: `{"tune":{"overrides":[{"name":"work_mem","valu":"64MB"}]}}`,
			wantErr: `unknown field "valu" in tune.overrides[0]; did you mean "value"?`},
		{name: "pipeline wrong kind", workflow: "PipelineWorkflow", input: `{"stages":"analyze"}`,
			wantErr: `stages: got a string, want a list`},
		{name: "tune", workflow: "TuneWorkflow", input: `{"aply":true}`,
			wantErr: `unknown field "aply"; did you mean "apply"?`},
		{name: "tune embedded request field", workflow: "TuneWorkflow", input: `{"apply":true,"work_load":"oltp"}`,
			wantErr: `unknown field "work_load"; did you mean "workload"?`},
		{name: "tune wrong kind", workflow: "TuneWorkflow", input: `{"cpus":"8"}`,
			wantErr: `cpus: got a string, want a whole number`},
		{name: "revert", workflow: "RevertTuningWorkflow", input: `{"runid":"x"}`,
			wantErr: `unknown field "runid"; did you mean "run_id"?`},
		{name: "pipeline not an object", workflow: "PipelineWorkflow", input: `"x"`,
			wantErr: `input is a string, not a JSON object: give an object such as {} (null also means {})`},
		{name: "tune not an object", workflow: "TuneWorkflow", input: `[1]`,
			wantErr: `input is a list, not a JSON object`},
		{name: "report", workflow: "ReportWorkflow", input: `{"sinse":"7d"}`,
			wantErr: `unknown field "sinse"; did you mean "since"?`},
		{name: "report wrong kind", workflow: "ReportWorkflow", input: `{"top":"5"}`,
			wantErr: `top: got a string, want a whole number`},
		{name: "report bad period", workflow: "ReportWorkflow", input: `{"since":"7 days","top":500}`,
			wantErr: `since: "7 days" is not a period such as 7d, 2w or 36h`},
		{name: "pipeline report", workflow: "PipelineWorkflow", input: `{"report":{"long_runing":"5m"}}`,
			wantErr: `unknown field "long_runing" in report; did you mean "long_running"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			workflows.Register(env)
			env.RegisterActivity(&activities.System{})
			env.RegisterActivity(&activities.Extensions{})
			env.RegisterActivity(&activities.Tuning{})
			env.RegisterActivity(&activities.Reporter{})
			env.ExecuteWorkflow(tt.workflow, json.RawMessage(tt.input))
			require.True(t, env.IsWorkflowCompleted())
			err := env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, activities.ErrTypeInvalidInput, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.True(t, strings.HasPrefix(appErr.Message(), tt.wantErr), "%q", appErr.Message())
			require.NotContains(t, appErr.Message(), "\n", "one line")
			for _, name := range []string{"AnalyzeSystem", "PlanTuning", "InstallExtensions", "RevertTuning", "Report"} {
				env.AssertActivityNotCalled(t, name, mock.Anything)
				env.AssertActivityNotCalled(t, name, mock.Anything, mock.Anything)
			}
		})
	}
}

// TestNullInputIsTheZeroValue: `--input null` is `--input '{}'`.
func TestNullInputIsTheZeroValue(t *testing.T) {
	t.Parallel()
	env := newTuneEnv(t)
	env.OnActivity(tuning.PlanTuning, mock.Anything, pgtune.Request{}).Return(tunePlan, nil).Once()
	env.RegisterWorkflow(workflows.TuneWorkflow)
	env.ExecuteWorkflow("TuneWorkflow", json.RawMessage(`null`))
	require.NoError(t, env.GetWorkflowError())
	var res workflows.TuneResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.True(t, res.DryRun)
	env.AssertExpectations(t)

	for _, in := range []string{`null`, `{"tune":null,"extensions":null,"stages":null}`} {
		var p workflows.PipelineInput
		require.NoError(t, json.Unmarshal([]byte(in), &p))
		require.NoError(t, p.Validate(), in)
	}
}

// TestInputsKnowEveryFieldTheyEncode: what the starter and the pipeline
// send (every field set) decodes without a problem, and case-insensitive
// names, which encoding/json accepts, count as known.
func TestInputsKnowEveryFieldTheyEncode(t *testing.T) {
	t.Parallel()
	tune := workflows.TuneInput{
		Request: pgtune.Request{Workload: "oltp", Storage: "ssd", DBSize: "mid_ram", OS: "linux", Memory: "4GB", CPUs: 2,
			MaxConnections: 100, PGVersion: 15, SynchronousCommitOff: true, Overrides: []pgtune.Override{{Name: "work_mem", Value: "8MB"}},
			ExtensionProfile: "recommended", ExtensionNames: []string{"hstore"}},
		Apply: true, RestartPolicy: "command", RestartTimeout: "5m",
	}
	pipeline := workflows.PipelineInput{Stages: []string{"tune"}, Tune: tune,
		Extensions: activities.InstallExtensionsInput{Profile: "all", Names: []string{"hstore"}, Database: "x", CheckOnly: true}}
	revert := workflows.RevertInput{RunID: "r", RestartPolicy: "command", RestartTimeout: "1m"}
	ingestIn := workflows.IngestInput{Endpoints: []string{"bill"}, Congress: workflows.Congresses{118}, PageSize: 100,
		PagesPerActivity: 5, MaxParallel: 2, Mode: "incremental"}
	pipeline.Ingest = ingestIn
	reportIn := workflows.ReportInput{Since: "7d", Top: 5, LongRunning: "30s"}
	pipeline.Report = reportIn
	billEp, _ := congress.EndpointByName("law")
	walk, err := ingest.New(billEp, ingest.Options{To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	walk.Next(billEp) // the tasks a running walk carries
	state := activities.WalkState{WalkID: "w", Mode: "full", Walk: walk,
		Stats:   activities.IngestStats{Pages: 3, Requests: 4, Retries: 1},
		Failure: activities.FailureState{Since: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Decode: 1, Seq: 3}}
	endpoint := workflows.IngestEndpointInput{Endpoint: "law", Congresses: []int{118}, PageSize: 100, PagesPerActivity: 5,
		Mode: "full", State: &state, StartedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

	for _, tt := range []struct {
		in  any
		out interface{ Validate() error }
	}{
		{in: tune, out: &workflows.TuneInput{}},
		{in: pipeline, out: &workflows.PipelineInput{}},
		{in: revert, out: &workflows.RevertInput{}},
		{in: ingestIn, out: &workflows.IngestInput{}},
		{in: endpoint, out: &workflows.IngestEndpointInput{}},
		{in: reportIn, out: &workflows.ReportInput{}},
	} {
		data, err := json.Marshal(tt.in)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, tt.out))
		require.NoError(t, tt.out.Validate(), string(data))
	}

	var got workflows.PipelineInput
	require.NoError(t, json.Unmarshal([]byte(`{"Stages":["tune"],"TUNE":{"Apply":true,"Restart_Policy":"command"}}`), &got))
	require.NoError(t, got.Validate())
	require.True(t, got.Tune.Apply)
	require.Equal(t, "command", got.Tune.RestartPolicy)
}
