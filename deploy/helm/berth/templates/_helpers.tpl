{{- define "berth.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "berth.labels" -}}
app.kubernetes.io/part-of: berth
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* selector labels of one service: (dict "root" $ "svc" "gateway") */}}
{{- define "berth.selector" -}}
app.kubernetes.io/name: {{ .svc }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "berth.svcname" -}}
{{ include "berth.fullname" .root }}-{{ .svc }}
{{- end -}}

{{- define "berth.natsUrl" -}}
{{- if .Values.nats.bundled -}}
{{- $n := int .Values.nats.replicas -}}
{{- $urls := list -}}
{{- range $i := until $n -}}
{{- $urls = append $urls (printf "nats://%s-nats-%d.%s-nats.%s.svc:4222" (include "berth.fullname" $) $i (include "berth.fullname" $) $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else -}}
{{- required "nats.url is required when nats.bundled is false" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{- define "berth.mongoSecret" -}}
{{- if .Values.mongodb.existingSecret -}}{{ .Values.mongodb.existingSecret }}{{- else -}}{{ include "berth.fullname" . }}-mongodb{{- end -}}
{{- end -}}

{{/* the Secret holding each service's NATS password (key = service name) */}}
{{- define "berth.natsPasswords" -}}
{{- .Values.nats.passwordsSecret | default (printf "%s-nats-passwords" (include "berth.fullname" .)) -}}
{{- end -}}

{{/* the variable nats-server reads a service's password from: BERTH_NATS_PASSWORD_CLUSTER_MANAGER */}}
{{- define "berth.natsPasswordVar" -}}
BERTH_NATS_PASSWORD_{{ . | upper | replace "-" "_" }}
{{- end -}}
