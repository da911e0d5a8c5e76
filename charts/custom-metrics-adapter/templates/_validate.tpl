{{/*
Values the chart refuses, each with the reason and what to use instead. Included once, from deployment.yaml.
tests/install/test_charts.py asserts every message literally.
*/}}
{{- define "cma.validate" -}}
{{- if hasKey .Values.rules "resource" -}}
{{- fail "rules.resource is refused: resource metrics (metrics.k8s.io, prometheus-adapter's resourceRules) are metrics-server's API, which this adapter does not serve; remove rules.resource and install metrics-server for kubectl top and CPU/memory autoscaling" -}}
{{- end -}}
{{- if not .Values.automountServiceAccountToken -}}
{{- fail "automountServiceAccountToken: false is refused: the adapter lists and watches pods and makes TokenReviews and SubjectAccessReviews with its service account token" -}}
{{- end -}}
{{- if and .Values.tls.enable .Values.certManager.enabled -}}
{{- fail "tls.enable and certManager.enabled are both set: choose one source of the serving certificate" -}}
{{- end -}}
{{- if and .Values.tls.enable (not (and .Values.tls.ca .Values.tls.certificate .Values.tls.key)) -}}
{{- fail "tls.enable needs tls.ca (the CA that signed the certificate, for the APIServices' caBundle), tls.certificate and tls.key (PEM)" -}}
{{- end -}}
{{- if and .Values.adapter.existingTLSSecret (or .Values.tls.enable .Values.certManager.enabled) -}}
{{- fail "adapter.existingTLSSecret cannot be combined with tls.enable or certManager.enabled: choose one source of the serving certificate" -}}
{{- end -}}
{{- if and .Values.adapter.existingTLSSecret (not .Values.tls.ca) -}}
{{- fail "adapter.existingTLSSecret needs tls.ca: the CA that signed the Secret's certificate, for the APIServices' caBundle" -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled .Values.podDisruptionBudget.minAvailable .Values.podDisruptionBudget.maxUnavailable -}}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" -}}
{{- end -}}
{{- if and .Values.adapter.metrics (eq (include "cma.rulesFormat" .) "prometheus-adapter") -}}
{{- fail "adapter.metrics cannot be combined with rules.default, rules.custom or rules.external: one rules file is either the adapter's format (metrics:) or prometheus-adapter's (rules:, externalRules:)" -}}
{{- end -}}
{{- if and (not .Values.rules.existing) (eq (include "cma.rulesFormat" .) "native") (not .Values.adapter.tritonRule) (not .Values.adapter.metrics) -}}
{{- fail "no rules: set adapter.tritonRule, adapter.metrics, rules.default, rules.custom, rules.external or rules.existing" -}}
{{- end -}}
{{- $known := list "secure-port" "bind-address" "tls-cert-file" "tls-private-key-file" "cert-dir" "service-name" "service-namespace" "config" "config-reload-interval" "metrics-relist-interval" "prometheus-url" "prometheus-query-timeout" "metrics-cache-ttl" "max-concurrent-prometheus-queries" "prometheus-token-file" "prometheus-username" "prometheus-password-file" "prometheus-ca-file" "prometheus-client-tls-cert-file" "prometheus-client-tls-key-file" "prometheus-insecure-skip-tls-verify" "prometheus-header" "kubeconfig" "requestheader-client-ca-file" "requestheader-allowed-names" "requestheader-username-headers" "requestheader-group-headers" "requestheader-extra-headers-prefix" "requestheader-refresh-interval" "authentication-token-webhook-cache-ttl" "authorization-webhook-cache-authorized-ttl" "authorization-webhook-cache-unauthorized-ttl" "authorization-always-allow-paths" "request-timeout" "shutdown-timeout" "tls-reload-interval" "log-level" "v" "logtostderr" -}}
{{- range .Values.extraArguments -}}
{{- $flag := regexReplaceAll "^--?([^=]*).*$" (toString .) "${1}" -}}
{{- if eq $flag "insecure-local-mode" -}}
{{- fail "extraArguments: --insecure-local-mode is refused: it serves every caller without authentication or authorization" -}}
{{- else if eq $flag "pods-file" -}}
{{- fail "extraArguments: --pods-file is refused: it replaces the Kubernetes API with a local file (local runs only)" -}}
{{- else if not (has $flag $known) -}}
{{- fail (printf "extraArguments: %s is not a flag of custom-metrics-adapter (custom-metrics-adapter --help lists them; docs/migrating-from-prometheus-adapter.md maps prometheus-adapter's)" (toString .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
