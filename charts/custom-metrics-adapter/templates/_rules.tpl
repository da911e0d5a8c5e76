{{/*
The built-in rule (the adapter's own format): the share of request time a Triton pod's requests spend queued
versus computing, summed over the pod's models first (docs/configuration.md).
*/}}
{{- define "cma.tritonRule" -}}
name: triton:queue_compute:ratio
resource: pods
window: 1m
query: >-
  sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))
  / clamp_min(sum by (<<.GroupBy>>) (rate(nv_inference_compute_infer_duration_us{<<.LabelMatchers>>}[<<.Window>>])), 1)
{{- end -}}

{{/*
rules.default: prometheus-adapter's generic discovery rules, with the meaning its chart gives them: cAdvisor
container_* series per pod (counters in seconds and other counters as 5m rates, the rest as they are), and every
other series that has a namespace label, attached to the resources its labels name (counters as 5m rates).
*/}}
{{- define "cma.defaultRules" -}}
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters: []
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: '^container_(.*)_seconds_total$', as: ""}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)'
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
    - isNot: '^container_.*_seconds_total$'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: '^container_(.*)_total$', as: ""}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)'
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  seriesFilters:
    - isNot: '^container_.*_total$'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name: {matches: '^container_(.*)$', as: ""}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)'
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
    - isNot: '.*_total$'
  resources: {template: '<<.Resource>>'}
  name: {matches: "", as: ""}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters:
    - isNot: '.*_seconds_total'
  resources: {template: '<<.Resource>>'}
  name: {matches: '^(.*)_total$', as: ""}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'
- seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
  seriesFilters: []
  resources: {template: '<<.Resource>>'}
  name: {matches: '^(.*)_seconds_total$', as: ""}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)'
{{- end -}}

{{/* The rules file: the adapter's format (metrics:) or prometheus-adapter's (rules:, externalRules:). */}}
{{- define "cma.rulesFile" -}}
{{- if eq (include "cma.rulesFormat" .) "prometheus-adapter" -}}
{{- $rules := list -}}
{{- if .Values.rules.default -}}
{{- $rules = concat $rules (include "cma.defaultRules" . | fromYamlArray) -}}
{{- end -}}
{{- $rules = concat $rules (.Values.rules.custom | default list) -}}
{{- $file := dict -}}
{{- if $rules -}}{{- $_ := set $file "rules" $rules -}}{{- end -}}
{{- with .Values.rules.external -}}{{- $_ := set $file "externalRules" . -}}{{- end -}}
{{- toYaml $file -}}
{{- else -}}
{{- $metrics := list -}}
{{- if .Values.adapter.tritonRule -}}
{{- $metrics = append $metrics (include "cma.tritonRule" . | fromYaml) -}}
{{- end -}}
{{- $metrics = concat $metrics (.Values.adapter.metrics | default list) -}}
{{- toYaml (dict "metrics" $metrics) -}}
{{- end -}}
{{- end -}}
