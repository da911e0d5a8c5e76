{{- define "triton.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triton.selectorLabels" -}}
app.kubernetes.io/name: triton
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "triton.labels" -}}
{{ include "triton.selectorLabels" . }}
app.kubernetes.io/part-of: triton-autoscaling
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
model: {{ .Values.model.name | quote }}
{{- end -}}

{{/*
GPUs per pod: TP × PP. A values file that writes the count out (gpu.count, or an nvidia.com/gpu resource) must
agree; tests/install/test_charts.py asserts the message.
*/}}
{{- define "triton.gpus" -}}
{{- $tp := int .Values.parallelism.tensor -}}
{{- $pp := int .Values.parallelism.pipeline -}}
{{- if or (lt $tp 1) (lt $pp 1) -}}
{{- fail (printf "parallelism.tensor and parallelism.pipeline must be positive integers (got %v and %v)" .Values.parallelism.tensor .Values.parallelism.pipeline) -}}
{{- end -}}
{{- $want := mul $tp $pp -}}
{{- if and (not (kindIs "invalid" .Values.gpu.count)) (ne (int .Values.gpu.count) (int $want)) -}}
{{- fail (printf "gpu.count is %v but parallelism.tensor × parallelism.pipeline = %d × %d = %d: each pod needs exactly TP × PP GPUs (one MPI rank per GPU); fix gpu.count or the parallelism" .Values.gpu.count $tp $pp $want) -}}
{{- end -}}
{{- range $part, $res := dict "build" .Values.build.resources "serving" .Values.serving.resources -}}
{{- range $kind := list "requests" "limits" -}}
{{- $given := index ($res | default dict) $kind | default dict -}}
{{- if hasKey $given "nvidia.com/gpu" -}}
{{- fail (printf "%s.resources.%s sets nvidia.com/gpu: the chart computes it as parallelism.tensor × parallelism.pipeline (%d); remove it" $part $kind $want) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $want -}}
{{- end -}}
