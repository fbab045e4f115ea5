{{/* Names, labels and the wiring every template shares. */}}

{{- define "harvest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "harvest.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "harvest.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "harvest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: harvest
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "storage"). */}}
{{- define "harvest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "harvest.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The values block of a HARVEST process (the scheduler's is `schedulerService`: `scheduler` holds the
backends). */}}
{{- define "harvest.valuesKey" -}}
{{- if eq . "scheduler" -}}schedulerService{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{- define "harvest.image" -}}
{{- printf "%s:%s" .repository (.tag | default .appVersion) -}}
{{- end -}}

{{- define "harvest.cpuImage" -}}
{{- include "harvest.image" (dict "repository" .Values.image.repository "tag" .Values.image.tag "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{- define "harvest.gpuImage" -}}
{{- include "harvest.image" (dict "repository" .Values.gpuImage.repository "tag" .Values.gpuImage.tag "appVersion" .Chart.AppVersion) -}}
{{- end -}}

{{- define "harvest.jobsNamespace" -}}
{{- .Values.scheduler.jobs.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "harvest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (printf "%s-scheduler" (include "harvest.fullname" .)) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "harvest.authSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "harvest.fullname" .)) -}}
{{- end -}}

{{- define "harvest.storeSecretName" -}}
{{- .Values.objectStore.existingSecret | default (printf "%s-store" (include "harvest.fullname" .)) -}}
{{- end -}}

{{- define "harvest.databaseSecretName" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "harvest.fullname" .)) -}}
{{- end -}}

{{- define "harvest.brokerSecretName" -}}
{{- .Values.broker.existingSecret | default (printf "%s-broker" (include "harvest.fullname" .)) -}}
{{- end -}}

{{- define "harvest.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-grpc-tls" (include "harvest.fullname" .)) -}}
{{- end -}}

{{/* A generated credential that survives upgrades: the value already in the cluster's Secret when there
is one, a new random one otherwise. (dict "root" $ "secret" NAME "key" KEY "length" N) */}}
{{- define "harvest.keptRandom" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $existing (hasKey ($existing.data | default dict) .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int .length) -}}
{{- end -}}
{{- end -}}

{{/* The database of a process: its key in the database Secret and its variable (the worker shares the
scheduler's); empty for the UI. Returns "KEY VARIABLE". */}}
{{- define "harvest.database" -}}
{{- $databases := dict "storage" "storage-url HARVEST_STORAGE_DB_URL" "labels" "labels-url HARVEST_DB_URL" "scheduler" "scheduler-url HARVEST_SCHEDULER_DB_URL" "worker" "scheduler-url HARVEST_SCHEDULER_DB_URL" "inference" "inference-url HARVEST_INFERENCE_DB_URL" -}}
{{- index $databases . | default "" -}}
{{- end -}}

{{/* The health probe of a process: native gRPC probes (plain text only) without TLS, the image's
`harvest probe` with TLS; Streamlit's health endpoint for the UI; a Celery ping for the worker.
(dict "root" $ "component" NAME "port" PORT) */}}
{{- define "harvest.probe" -}}
{{- if eq .component "ui" -}}
httpGet:
  path: /_stcore/health
  port: http
{{- else if or (eq .component "worker") .root.Values.tls.enabled -}}
exec:
  command: ["harvest", "probe", {{ .component | quote }}, "--timeout", "8"]
timeoutSeconds: 10
{{- else -}}
grpc:
  port: {{ .port }}
timeoutSeconds: 5
{{- end -}}
{{- end -}}
