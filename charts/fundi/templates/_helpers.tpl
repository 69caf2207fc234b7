{{/*
Chart name, shortened to the 63 characters Kubernetes allows in names.
*/}}
{{- define "fundi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's resources: <release>-<chart>, or just the release
name when it already contains the chart name.
*/}}
{{- define "fundi.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "fundi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "fundi.labels" -}}
helm.sh/chart: {{ include "fundi.chart" . }}
{{ include "fundi.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fundi
{{- end }}

{{/*
Labels that select the server pods. They never change between releases.
*/}}
{{- define "fundi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fundi.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Image reference: repository@digest when a digest is given, else repository:tag.
*/}}
{{- define "fundi.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding FUNDI_JWT_SECRET, FUNDI_DATABASE_URL,
FUNDI_REDIS_URL and FUNDI_SMTP_URL.
*/}}
{{- define "fundi.secretName" -}}
{{- required "existingSecret must name a Secret holding FUNDI_JWT_SECRET and FUNDI_PAYOUT_ENCRYPTION_KEY (and FUNDI_DATABASE_URL, FUNDI_REDIS_URL, FUNDI_SMTP_URL as needed)" .Values.existingSecret }}
{{- end }}

{{/*
"true" when the release runs exactly one server pod.
*/}}
{{- define "fundi.singleReplica" -}}
{{- if and (not .Values.autoscaling.enabled) (le (int .Values.replicaCount) 1) }}true{{- end }}
{{- end }}

{{/*
Refuses more than one replica whose uploads would stay on each pod's own
disk: a KYC document uploaded through one pod would be missing on the others.
*/}}
{{- define "fundi.validateUploads" -}}
{{- $s3 := or .Values.uploads.s3Bucket (hasKey .Values.config.extraEnv "FUNDI_S3_BUCKET") }}
{{- if and (not (include "fundi.singleReplica" .)) (not $s3) (not .Values.uploads.sharedDataVolume) }}
{{- fail "more than one replica (replicaCount > 1 or autoscaling) needs shared upload storage: set uploads.s3Bucket (S3-compatible), or uploads.sharedDataVolume=true with a dataVolume every pod mounts (ReadWriteMany)" }}
{{- end }}
{{- end }}

{{/*
Non-secret FUNDI_* settings as a YAML map of strings. The ConfigMap holds
them for the server; the migration Job, which runs before the ConfigMap
exists on first install, receives them as plain env entries.
*/}}
{{- define "fundi.configData" -}}
FUNDI_BIND: {{ printf "0.0.0.0:%v" .Values.containerPort | quote }}
FUNDI_ENV: {{ .Values.config.env | toString | quote }}
FUNDI_DATA_DIR: {{ .Values.config.dataDir | toString | quote }}
{{- if .Values.metrics.port }}
FUNDI_METRICS_BIND: {{ printf "0.0.0.0:%v" .Values.metrics.port | quote }}
{{- end }}
{{- with .Values.config.log }}
FUNDI_LOG: {{ . | toString | quote }}
{{- end }}
{{- with .Values.config.logFormat }}
FUNDI_LOG_FORMAT: {{ . | toString | quote }}
{{- end }}
{{- if kindIs "bool" .Values.config.introspection }}
FUNDI_INTROSPECTION: {{ .Values.config.introspection | toString | quote }}
{{- else if .Values.config.introspection }}
FUNDI_INTROSPECTION: {{ .Values.config.introspection | toString | quote }}
{{- end }}
{{- if .Values.redisTls.rootCertSecret }}
FUNDI_REDIS_ROOT_CERT: {{ include "fundi.redisRootCertPath" . | quote }}
{{- end }}
{{- with .Values.uploads.s3Bucket }}
FUNDI_S3_BUCKET: {{ . | toString | quote }}
{{- end }}
{{- with .Values.uploads.s3Endpoint }}
FUNDI_S3_ENDPOINT: {{ . | toString | quote }}
{{- end }}
{{- with .Values.uploads.s3Region }}
FUNDI_S3_REGION: {{ . | toString | quote }}
{{- end }}
{{- if or .Values.uploads.sharedDataVolume (include "fundi.singleReplica" .) }}
FUNDI_DATA_DIR_SHARED: "true"
{{- end }}
{{- range $key, $value := .Values.config.extraEnv }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Where the private CA of a rediss:// server is mounted (redisTls.rootCertSecret).
*/}}
{{- define "fundi.redisRootCertDir" -}}
/etc/fundi/redis-ca
{{- end }}

{{- define "fundi.redisRootCertPath" -}}
{{- printf "%s/ca.pem" (include "fundi.redisRootCertDir" .) }}
{{- end }}

{{/*
The Redis CA volume and its mount, for the server and the migration Job
alike: every fundi command reads its settings, FUNDI_REDIS_ROOT_CERT too.
*/}}
{{- define "fundi.redisRootCertVolume" -}}
{{- if .Values.redisTls.rootCertSecret -}}
- name: redis-ca
  secret:
    secretName: {{ .Values.redisTls.rootCertSecret }}
    items:
      - key: ca.pem
        path: ca.pem
{{- end }}
{{- end }}

{{- define "fundi.redisRootCertMount" -}}
{{- if .Values.redisTls.rootCertSecret -}}
- name: redis-ca
  mountPath: {{ include "fundi.redisRootCertDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
Volumes for the writable paths of a read-only root filesystem, and the
Redis CA when one is given.
*/}}
{{- define "fundi.volumes" -}}
- name: data
  {{- toYaml .Values.dataVolume | nindent 2 }}
- name: tmp
  emptyDir: {}
{{- with include "fundi.redisRootCertVolume" . }}
{{ . }}
{{- end }}
{{- end }}

{{- define "fundi.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.config.dataDir }}
- name: tmp
  mountPath: /tmp
{{- with include "fundi.redisRootCertMount" . }}
{{ . }}
{{- end }}
{{- end }}

{{/*
Labels of the migration Job and its pod. The name label differs from the
server's so that neither the Service nor the Deployment selects these pods.
*/}}
{{- define "fundi.migrationLabels" -}}
helm.sh/chart: {{ include "fundi.chart" . }}
app.kubernetes.io/name: {{ printf "%s-migrate" (include "fundi.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: migrations
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fundi
{{- end }}
