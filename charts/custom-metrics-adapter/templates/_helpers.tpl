{{/* Names. The full name follows prometheus-adapter's chart: the release name when it contains the chart name. */}}
{{- define "cma.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cma.fullname" -}}
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

{{/*
The stem of cluster-scoped names (ClusterRoles, ClusterRoleBindings). It always starts with
"custom-metrics-adapter", so that no name collides with another install's (prometheus-adapter's legacy
hpa-controller-custom-metrics, vendors' custom-metrics-reader) and an uninstall never removes someone else's.
*/}}
{{- define "cma.clusterName" -}}
{{- $full := include "cma.fullname" . -}}
{{- if hasPrefix "custom-metrics-adapter" $full -}}
{{- $full -}}
{{- else -}}
{{- printf "custom-metrics-adapter-%s" $full -}}
{{- end -}}
{{- end -}}

{{- define "cma.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "cma.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cma.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cma.labels" -}}
{{ include "cma.selectorLabels" . }}
app.kubernetes.io/part-of: custom-metrics-adapter
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.annotations from customAnnotations (plus extra ones given as a dict), or nothing. */}}
{{- define "cma.annotations" -}}
{{- $all := merge (dict) (.extra | default dict) (.root.Values.customAnnotations | default dict) -}}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "cma.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "cma.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "cma.tlsSecretName" -}}
{{- .Values.adapter.existingTLSSecret | default (printf "%s-tls" (include "cma.fullname" .)) -}}
{{- end -}}

{{/* "prometheus-adapter" when its rules are given (the file is in its format), else "native". */}}
{{- define "cma.rulesFormat" -}}
{{- if or .Values.rules.default .Values.rules.custom .Values.rules.external -}}
prometheus-adapter
{{- else -}}
native
{{- end -}}
{{- end -}}

{{/* Whether v1beta1.external.metrics.k8s.io is registered: only when asked for, or when external rules are given. */}}
{{- define "cma.externalMetrics" -}}
{{- if or .Values.adapter.externalMetrics.enabled .Values.rules.external -}}
true
{{- end -}}
{{- end -}}

{{/*
The CA and serving certificate the chart makes itself when neither tls.enable nor certManager.enabled is set:
reused from the Secret of an earlier install (lookup), so upgrades keep the caBundle; made with genCA and
genSignedCert otherwise. Computed once per render and cached in .Values so the Secret and the APIServices agree.
*/}}
{{- define "cma.generatedCert" -}}
{{- if not (hasKey .Values "__generatedCert") -}}
{{- $ns := include "cma.namespace" . -}}
{{- $svc := include "cma.fullname" . -}}
{{- $existing := lookup "v1" "Secret" $ns (include "cma.tlsSecretName" .) -}}
{{- if and $existing $existing.data (index $existing.data "ca.crt") (index $existing.data "tls.crt") (index $existing.data "tls.key") -}}
{{- $_ := set .Values "__generatedCert" (dict "ca" (index $existing.data "ca.crt" | b64dec) "crt" (index $existing.data "tls.crt" | b64dec) "key" (index $existing.data "tls.key" | b64dec)) -}}
{{- else -}}
{{- $ca := genCA (printf "%s-ca" $svc) 3650 -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc $ns) nil $names 365 $ca -}}
{{- $_ := set .Values "__generatedCert" (dict "ca" $ca.Cert "crt" $cert.Cert "key" $cert.Key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The caBundle (base64 PEM) of the APIServices, or nothing with cert-manager (cainjector fills it). */}}
{{- define "cma.caBundle" -}}
{{- if .Values.certManager.enabled -}}
{{- else if or .Values.tls.enable .Values.adapter.existingTLSSecret -}}
{{- .Values.tls.ca | b64enc -}}
{{- else -}}
{{- include "cma.generatedCert" . -}}
{{- index .Values "__generatedCert" "ca" | b64enc -}}
{{- end -}}
{{- end -}}
