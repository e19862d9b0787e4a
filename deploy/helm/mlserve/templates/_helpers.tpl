{{/* The chart's name, at most 63 characters. */}}
{{- define "mlserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name, the prefix of every object: at most 52
characters, so that "-ingest" and the like stay within 63.
*/}}
{{- define "mlserve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "mlserve.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "mlserve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlserve
{{- end }}

{{/* Selector labels of a role's pods; call with (dict "root" $ "role" "api"). */}}
{{- define "mlserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlserve.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{/* Labels of a role's pods: its selector labels and the release's version; same arguments. */}}
{{- define "mlserve.podLabels" -}}
{{ include "mlserve.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: mlserve
{{- end }}

{{/* The ServiceAccount of the roles. */}}
{{- define "mlserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mlserve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository, then @digest or :tag. */}}
{{- define "mlserve.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The pipeline file, as the ConfigMap holds it. */}}
{{- define "mlserve.pipelineFile" -}}
{{- if not .Values.pipelines }}
{{- fail "pipelines: list at least one pipeline (docs/configuration.md)" }}
{{- end }}
{{- dict "pipelines" .Values.pipelines | toYaml }}
{{- end }}

{{/*
The environment every role reads: the database URL, the artifacts URL and
S3 credentials, from existing Secrets; adminToken adds MLSERVE_ADMIN_TOKEN.
Call with (dict "root" $ "adminToken" true "port" 1234 "extra" list).
*/}}
{{- define "mlserve.env" -}}
{{- $v := .root.Values }}
- name: MLSERVE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.database.name: the Secret holding MLSERVE_DATABASE_URL" $v.secrets.database.name }}
      key: {{ $v.secrets.database.key }}
- name: MLSERVE_ARTIFACTS_URL
  value: {{ required "artifactsURL: the s3:// URL of the artifacts bucket" $v.artifactsURL | quote }}
{{- if $v.secrets.s3.name }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.s3.name }}
      key: {{ $v.secrets.s3.accessKeyIDKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.s3.name }}
      key: {{ $v.secrets.s3.secretAccessKeyKey }}
{{- end }}
{{- if and .adminToken $v.secrets.adminToken.name }}
- name: MLSERVE_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.adminToken.name }}
      key: {{ $v.secrets.adminToken.key }}
{{- end }}
{{- if .port }}
- name: MLSERVE_ADDR
  value: {{ printf ":%d" (int .port) | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes of every pod: the pipeline file, /tmp and the working folder /data. */}}
{{- define "mlserve.volumes" -}}
- name: config
  configMap:
    name: {{ include "mlserve.fullname" . }}-pipelines
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
- name: data
  emptyDir:
    sizeLimit: 1Gi
{{- end }}

{{- define "mlserve.volumeMounts" -}}
- name: config
  mountPath: /config
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- end }}

{{/*
A role's Deployment. Call with (dict "root" $ "role" "api" "values"
.Values.api "adminToken" true "replicas" n).
*/}}
{{- define "mlserve.deployment" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $sel := dict "root" $root "role" .role }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mlserve.fullname" $root }}-{{ .role }}
  labels:
    {{- include "mlserve.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  {{- if not .omitReplicas }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "mlserve.selectorLabels" $sel | nindent 6 }}
  {{- if eq .role "trainer" }}
  # A trainer hands its running training back on SIGTERM; two at once is
  # harmless (one pipeline trains on one trainer at a time).
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "mlserve.podLabels" $sel | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A changed pipeline file rolls the pods.
        checksum/pipelines: {{ include "mlserve.pipelineFile" $root | sha256sum }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "mlserve.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      enableServiceLinks: false
      containers:
        - name: {{ .role }}
          image: {{ include "mlserve.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .role | quote }}, "--config", "/config/mlserve.yaml", "--log-format", "json"]
          env:
            {{- include "mlserve.env" (dict "root" $root "adminToken" .adminToken "port" $v.port "extra" $v.env) | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          startupProbe:
            httpGet: {path: /healthz, port: http}
            {{- toYaml $v.startupProbe | nindent 12 }}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            {{- toYaml $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            {{- toYaml $v.readinessProbe | nindent 12 }}
          {{- if $v.preStopSleepSeconds }}
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $v.preStopSleepSeconds }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "mlserve.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "mlserve.volumes" $root | nindent 8 }}
      {{- if $v.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $v.topologySpread.topologyKeys }}
        - maxSkew: {{ $v.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $v.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "mlserve.selectorLabels" $sel | nindent 14 }}
          matchLabelKeys: [pod-template-hash]
        {{- end }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* A role's PodDisruptionBudget; same arguments as mlserve.deployment. */}}
{{- define "mlserve.pdb" -}}
{{- $pdb := .values.podDisruptionBudget }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "mlserve.fullname" .root }}-{{ .role }}
  labels:
    {{- include "mlserve.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  {{- if hasKey $pdb "minAvailable" }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "mlserve.selectorLabels" (dict "root" .root "role" .role) | nindent 6 }}
{{- end }}

{{/* A role's Service; same arguments as mlserve.deployment. */}}
{{- define "mlserve.service" -}}
{{- $svc := .values.service | default dict }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mlserve.fullname" .root }}-{{ .role }}
  labels:
    {{- include "mlserve.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
  {{- with $svc.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $svc.type | default "ClusterIP" }}
  selector:
    {{- include "mlserve.selectorLabels" (dict "root" .root "role" .role) | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.port | default .values.port }}
      targetPort: http
      protocol: TCP
{{- end }}
