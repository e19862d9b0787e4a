// Package test checks the Helm chart deploy/helm/mlserve: helm lint and
// helm template pass for the default values and for values-production.yaml,
// and every object they render decodes strictly (an unknown or duplicate
// field fails) into its Kubernetes API type. It is a module of its own so
// that the product's module does not depend on the Kubernetes API.
//
//	cd deploy/helm/test && go test -v ./...
//
// Without helm the tests skip, and fail under CI=true (.ci/run installs
// it: go install helm.sh/helm/v4/cmd/helm@v4.3.2), through the product's
// internal/testenv (this module requires the product's, replaced by the
// checkout it sits in; the product's module requires nothing of this one).
package test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/mlserve/mlserve/internal/testenv"
)

// chart is the chart's folder, relative to this package.
const chart = "../mlserve"

// newObject returns an empty object of the API type for apiVersion and
// kind; a kind the chart may render must be listed here.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "batch/v1 Job":
		return &batchv1.Job{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}, true
	case "monitoring.coreos.com/v1 PrometheusRule":
		return &monitoringv1.PrometheusRule{}, true
	}
	return nil, false
}

// rendered is one object of helm template's output.
type rendered struct {
	source string // the template it came from (helm's "# Source:" line)
	kind   string
	name   string
	obj    any
}

// helm returns the helm binary: on PATH or in $(go env GOPATH)/bin. Without
// one the test skips, or fails under CI (testenv.MissingTool).
func helm(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if p := filepath.Join(dir, "bin", "helm"); fileExists(p) {
				return p
			}
		}
	}
	testenv.MissingTool(t, "helm is not installed (go install helm.sh/helm/v4/cmd/helm@v4.3.2)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// run runs helm with args and returns its stdout, or the error with its
// stderr.
func run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// decodeAll splits a multi-document YAML stream and decodes every object
// strictly into its API type.
func decodeAll(stream string) ([]rendered, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	var objs []rendered
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return objs, fmt.Errorf("split the rendered YAML: %w", err)
		}
		source := ""
		for _, line := range strings.Split(string(doc), "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				source = s
			}
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return objs, fmt.Errorf("%s: %w", source, err)
		}
		if tm.Kind == "" && tm.APIVersion == "" {
			if s := strings.TrimSpace(stripComments(string(doc))); s != "" {
				return objs, fmt.Errorf("%s: a document without apiVersion and kind: %s", source, s)
			}
			continue // comments only
		}
		obj, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			return objs, fmt.Errorf("%s: %s %s is not a kind this test knows; add its type to newObject", source, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return objs, fmt.Errorf("%s: %s: %w", source, tm.Kind, err)
		}
		name := ""
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
		}
		objs = append(objs, rendered{source: source, kind: tm.Kind, name: name, obj: obj})
	}
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestStrictDecodingCatchesUnknownFields shows the decoding the chart
// tests rely on fails on a misspelled field, a field at the wrong level and
// a wrong type.
func TestStrictDecodingCatchesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"misspelled":   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n",
		"wrong level":  "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports:\n    - port: 80\n      readinessProbe: {}\n",
		"wrong type":   "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec:\n  minAvailable: {}\n",
		"unknown kind": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
	} {
		if _, err := decodeAll(doc); err == nil {
			t.Errorf("%s: decoded without an error:\n%s", name, doc)
		}
	}
	objs, err := decodeAll("# a comment only\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n")
	if err != nil || len(objs) != 1 {
		t.Fatalf("a valid stream: %d objects, %v; want 1", len(objs), err)
	}
}

// TestChart lints and renders the chart for each values file and checks
// what it renders.
func TestChart(t *testing.T) {
	bin := helm(t)
	for _, tc := range []struct {
		name   string
		values []string
		want   map[string]int // objects by kind
	}{
		{
			name: "default",
			want: map[string]int{"ServiceAccount": 1, "ConfigMap": 2, "Service": 3, "Deployment": 3,
				"PodDisruptionBudget": 1, "Job": 1},
		},
		{
			// Everything optional turned the other way: no ingest, migrate
			// without apply, no S3 keys or admin token (pod identity), and
			// NetworkPolicy and monitoring without the production file.
			name: "minimal",
			values: []string{"--set", "ingest.enabled=false", "--set", "migrate.apply=false", "--set", "secrets.s3.name=",
				"--set", "secrets.adminToken.name=", "--set", "networkPolicy.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
				"--set", "metrics.prometheusRule.enabled=true", "--set", "serviceAccount.create=false", "--set", "api.podDisruptionBudget.enabled=false"},
			want: map[string]int{"ConfigMap": 2, "Service": 2, "Deployment": 2, "Job": 1, "NetworkPolicy": 2,
				"ServiceMonitor": 1, "PrometheusRule": 1},
		},
		{
			name:   "production",
			values: []string{"-f", filepath.Join(chart, "values-production.yaml")},
			want: map[string]int{"ServiceAccount": 1, "ConfigMap": 2, "Service": 3, "Deployment": 3,
				"PodDisruptionBudget": 3, "Job": 1, "HorizontalPodAutoscaler": 1, "Ingress": 1,
				"ServiceMonitor": 1, "PrometheusRule": 1, "NetworkPolicy": 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := run(bin, append([]string{"lint", "--strict", chart}, tc.values...)...); err != nil {
				t.Fatal(err)
			} else {
				t.Logf("helm lint: %s", lastLine(out))
			}
			out, err := run(bin, append([]string{"template", "mlserve", chart, "--namespace", "mlserve"}, tc.values...)...)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeAll(out)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, o := range objs {
				got[o.kind]++
			}
			if !mapsEqual(got, tc.want) {
				t.Errorf("rendered objects by kind: %v, want %v", got, tc.want)
			}
			t.Logf("%d objects rendered and decoded strictly: %v", len(objs), got)
			checkObjects(t, objs)
		})
	}
}

// TestChartRefusesMissingSecretName: the database Secret's name is
// required; helm template fails naming the value.
func TestChartRefusesMissingSecretName(t *testing.T) {
	bin := helm(t)
	_, err := run(bin, "template", "mlserve", chart, "--set", "secrets.database.name=")
	if err == nil || !strings.Contains(err.Error(), "secrets.database.name") {
		t.Fatalf("helm template without secrets.database.name: %v, want an error naming it", err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// secretEnv are the variables that must come from a Secret, never a value
// in the chart.
var secretEnv = []string{"MLSERVE_DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLSERVE_ADMIN_TOKEN"}

// checkObjects checks what the issue asks of the rendered objects beyond
// their decoding: no Secret values, the pods' security settings, probes,
// the migrate hook, Services and autoscaler pointing at what exists, and a
// pipeline file that parses.
func checkObjects(t *testing.T, objs []rendered) {
	t.Helper()
	deployments := map[string]*appsv1.Deployment{}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Secret:
			t.Errorf("%s renders Secret %s: the chart must only reference existing Secrets", o.source, o.name)
		case *appsv1.Deployment:
			deployments[v.Name] = v
			checkPod(t, o, &v.Spec.Template.Spec)
			role := v.Spec.Template.Labels["app.kubernetes.io/component"]
			c := v.Spec.Template.Spec.Containers[0]
			if len(c.Args) == 0 || c.Args[0] != role {
				t.Errorf("%s: args %q, want the role %s first", o.name, c.Args, role)
			}
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
				t.Errorf("%s: readiness probe %+v, want GET /readyz", o.name, p)
			}
			if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
				t.Errorf("%s: liveness probe %+v, want GET /healthz", o.name, p)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s: resources %+v, want a CPU request and a memory limit", o.name, c.Resources)
			}
			if role == "api" && len(v.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
				t.Errorf("%s: no topology spread constraints", o.name)
			}
		case *batchv1.Job:
			checkPod(t, o, &v.Spec.Template.Spec)
			if got := v.Annotations["helm.sh/hook"]; got != "pre-install,pre-upgrade" {
				t.Errorf("Job %s: helm.sh/hook %q, want pre-install,pre-upgrade", o.name, got)
			}
			var steps [][]string
			for _, c := range append(slices.Clone(v.Spec.Template.Spec.InitContainers), v.Spec.Template.Spec.Containers...) {
				steps = append(steps, c.Args)
			}
			apply := v.Spec.Template.Spec.InitContainers != nil
			switch {
			case apply && (len(steps) != 2 || steps[0][0] != "migrate" || strings.Join(steps[1][:3], " ") != "apply -f /config/mlserve.yaml"):
				t.Errorf("Job %s runs %q, want migrate, then apply -f /config/mlserve.yaml", o.name, steps)
			case !apply && (len(steps) != 1 || steps[0][0] != "migrate"):
				t.Errorf("Job %s runs %q, want migrate only (migrate.apply false)", o.name, steps)
			}
		case *corev1.ConfigMap:
			file, ok := v.Data["mlserve.yaml"]
			if !ok {
				t.Errorf("ConfigMap %s has no mlserve.yaml", o.name)
				continue
			}
			var f struct {
				Pipelines []struct {
					Name string `json:"name"`
				} `json:"pipelines"`
			}
			if err := yaml.Unmarshal([]byte(file), &f); err != nil || len(f.Pipelines) == 0 || f.Pipelines[0].Name == "" {
				t.Errorf("ConfigMap %s: mlserve.yaml does not list a named pipeline (%v):\n%s", o.name, err, file)
			}
			checkPipelineFile(t, o.name, file)
		}
	}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			matched := false
			for _, d := range deployments {
				if labels.SelectorFromSet(v.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("Service %s selects no Deployment's pods (%v)", o.name, v.Spec.Selector)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			d, ok := deployments[v.Spec.ScaleTargetRef.Name]
			if !ok {
				t.Errorf("HorizontalPodAutoscaler %s scales %s, which is not rendered", o.name, v.Spec.ScaleTargetRef.Name)
			} else if d.Spec.Replicas != nil {
				t.Errorf("Deployment %s sets replicas while an autoscaler scales it", d.Name)
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(v.Spec.Selector)
			matched := false
			for _, d := range deployments {
				if err == nil && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("PodDisruptionBudget %s selects no Deployment's pods", o.name)
			}
		}
	}
}

// checkPipelineFile has mlserve load the pipeline file of a ConfigMap
// (`mlserve runs --config FILE` on a throwaway data folder): the file
// the chart renders from its values is one mlserve accepts.
func checkPipelineFile(t *testing.T, configMap, file string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mlserve.yaml")
	if err := os.WriteFile(cfg, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mlserveBinary(t), "runs", "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("ConfigMap %s: mlserve does not load its mlserve.yaml: %v\n%s\nfile:\n%s", configMap, err, out, file)
	}
}

// buildDir holds the mlserve binary once built; TestMain removes it.
var buildDir string

var buildMlserve = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "mlserve-charttest-")
	if err != nil {
		return "", err
	}
	buildDir = dir
	bin := filepath.Join(dir, "mlserve")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/mlserve")
	cmd.Dir = "../../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/mlserve: %w\n%s", err, out)
	}
	return bin, nil
})

// mlserveBinary builds mlserve from this repository once per test run.
func mlserveBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildMlserve()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// checkPod checks a pod template: non-root, read-only root, no privilege
// escalation, no capabilities, seccomp RuntimeDefault, and secrets only
// from Secrets.
func checkPod(t *testing.T, o rendered, spec *corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s %s: pod securityContext %+v, want runAsNonRoot and seccomp RuntimeDefault", o.kind, o.name, psc)
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s %s: container %s has no securityContext", o.kind, o.name, c.Name)
			continue
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s %s: container %s: root filesystem not read-only", o.kind, o.name, c.Name)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s %s: container %s may escalate privileges", o.kind, o.name, c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s %s: container %s capabilities %+v, want drop ALL", o.kind, o.name, c.Name, sc.Capabilities)
		case sc.RunAsUser == nil || *sc.RunAsUser == 0:
			t.Errorf("%s %s: container %s runs as root", o.kind, o.name, c.Name)
		}
		for _, e := range c.Env {
			if slices.Contains(secretEnv, e.Name) && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s %s: container %s sets %s other than from a Secret", o.kind, o.name, c.Name, e.Name)
			}
		}
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/config" }) {
			t.Errorf("%s %s: container %s does not mount the pipeline file at /config", o.kind, o.name, c.Name)
		}
	}
}
