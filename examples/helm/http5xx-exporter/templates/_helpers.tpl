{{/* Chart name, at most 63 characters (a DNS label). */}}
{{- define "http5xx-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's resources. */}}
{{- define "http5xx-exporter.fullname" -}}
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

{{- define "http5xx-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every resource carries. */}}
{{- define "http5xx-exporter.labels" -}}
helm.sh/chart: {{ include "http5xx-exporter.chart" . }}
{{ include "http5xx-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels the Service selects every location's pods by. */}}
{{- define "http5xx-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "http5xx-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "http5xx-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "http5xx-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "http5xx-exporter.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The ConfigMap holding http5xx.yml. */}}
{{- define "http5xx-exporter.configMapName" -}}
{{- default (include "http5xx-exporter.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{- define "http5xx-exporter.deployTokensSecret" -}}
{{- if .Values.deployTokens.existingSecret }}
{{- .Values.deployTokens.existingSecret }}
{{- else if .Values.deployTokens.tokens }}
{{- printf "%s-deploy-tokens" (include "http5xx-exporter.fullname" .) }}
{{- end }}
{{- end }}

{{- define "http5xx-exporter.webConfigSecret" -}}
{{- if .Values.webConfig.existingSecret }}
{{- .Values.webConfig.existingSecret }}
{{- else if .Values.webConfig.config }}
{{- printf "%s-web-config" (include "http5xx-exporter.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The workloads: one per location, or a single one without --location. Each
item is a dict with the StatefulSet's name, the location ("" for none) and the
location's own settings.
*/}}
{{- define "http5xx-exporter.locations" -}}
{{- $out := list }}
{{- if .Values.locations }}
{{- $seen := dict }}
{{- range $entry := .Values.locations }}
{{- if kindIs "string" $entry }}
{{- $entry = dict "name" $entry }}
{{- end }}
{{- if not (kindIs "map" $entry) }}
{{- fail (printf "locations: %v is neither a name nor {name: ...}" $entry) }}
{{- end }}
{{- $name := toString ($entry.name | default "") }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) }}
{{- fail (printf "locations: name %q must be a DNS label (lower case letters, digits, -)" $name) }}
{{- end }}
{{- if hasKey $seen $name }}
{{- fail (printf "locations: name %q is listed twice" $name) }}
{{- end }}
{{- $_ := set $seen $name true }}
{{- $out = append $out (dict "name" (printf "%s-%s" (include "http5xx-exporter.fullname" $) $name) "location" $name "nodeSelector" ($entry.nodeSelector | default dict) "extraArgs" ($entry.extraArgs | default list)) }}
{{- end }}
{{- else }}
{{- $out = append $out (dict "name" (include "http5xx-exporter.fullname" .) "location" "" "nodeSelector" dict "extraArgs" list) }}
{{- end }}
{{- toYaml (dict "items" $out) }}
{{- end }}

{{/* What each location's pods do, for NOTES.txt. */}}
{{- define "http5xx-exporter.pods" -}}
{{- if gt (int .Values.shards) 1 }}
{{- printf "%d pods, one per shard" (int .Values.shards) }}
{{- else }}
{{- printf "%d pod(s), each probing every target" (int .Values.replicas) }}
{{- end }}
{{- end }}
