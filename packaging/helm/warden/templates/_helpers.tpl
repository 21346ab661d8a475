{{/* Name of the chart, or nameOverride. */}}
{{- define "warden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: release-chart, or fullnameOverride. */}}
{{- define "warden.fullname" -}}
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

{{- define "warden.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{- define "warden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "warden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "warden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: {{ include "warden.name" . }}
{{- with .Values.commonLabels }}
{{ tpl (toYaml .) $ }}
{{- end }}
{{- end }}

{{- define "warden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "warden.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "warden.image" -}}
{{- $tag := default (printf "v%s" .Chart.AppVersion) .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s/%s:%s@%s" .Values.image.registry .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret holding web-config.yml and auth.yml. */}}
{{- define "warden.webConfigSecret" -}}
{{- default (printf "%s-web-config" (include "warden.fullname" .)) .Values.webConfig.existingSecret }}
{{- end }}

{{/* The Service's DNS name: a SAN of every certificate, and what the ServiceMonitor verifies. */}}
{{- define "warden.serviceDNSName" -}}
{{- printf "%s.%s.svc" (include "warden.fullname" .) (include "warden.namespace" .) }}
{{- end }}

{{- define "warden.serverName" -}}
{{- default (include "warden.serviceDNSName" .) .Values.prometheus.monitor.tlsConfig.serverName }}
{{- end }}

{{/*
"true" when the chart writes the web config and it requires a client
certificate at the TLS handshake: a client CA and neither passwords nor
tokens. Warden counts a client certificate as authentication only when the
handshake requires one; the kubelet's probes then cannot pass TLS.
*/}}
{{- define "warden.clientCertRequired" -}}
{{- $w := .Values.webConfig }}
{{- if and (not $w.existingSecret) $w.clientCA.secretName (not $w.basicAuthUsers) (not $w.bearerTokens) }}true{{ end }}
{{- end }}

{{/* Refuses values that would not give a secure, working exporter. */}}
{{- define "warden.validate" -}}
{{- $v := .Values }}
{{- if eq (ternary 1 0 $v.certManager.enabled | add (ternary 1 0 $v.tlsSecret.enabled) | int) 1 | not }}
{{- fail "set exactly one of certManager.enabled and tlsSecret.enabled: the server certificate's source" }}
{{- end }}
{{- if and $v.certManager.enabled (not $v.certManager.issuerName) }}
{{- fail "certManager.issuerName is required: the cert-manager issuer that signs every node's certificate" }}
{{- end }}
{{- if and $v.tlsSecret.enabled (not $v.tlsSecret.secretName) }}
{{- fail "tlsSecret.secretName is required: a kubernetes.io/tls Secret with the server certificate" }}
{{- end }}
{{- $w := $v.webConfig }}
{{- if not $w.existingSecret }}
{{- if not (or $w.clientCA.secretName $w.basicAuthUsers $w.bearerTokens) }}
{{- fail "webConfig: set clientCA.secretName, basicAuthUsers or bearerTokens: Warden serves only with TLS and authentication" }}
{{- end }}
{{- if and $w.clientAllowedSans (not (include "warden.clientCertRequired" .)) }}
{{- fail "webConfig.clientAllowedSans needs client certificates required: clientCA without basicAuthUsers or bearerTokens" }}
{{- end }}
{{- if not (has $v.readinessProbe.path $w.publicPaths) }}
{{- fail (printf "readinessProbe.path %s must be in webConfig.publicPaths: the kubelet has no credentials" $v.readinessProbe.path) }}
{{- end }}
{{- end }}
{{- $m := $v.prometheus.monitor }}
{{- if $m.enabled }}
{{- if ne $m.scheme "https" }}
{{- fail "prometheus.monitor.scheme must be https" }}
{{- end }}
{{- if $m.tlsConfig.insecureSkipVerify }}
{{- fail "prometheus.monitor.tlsConfig.insecureSkipVerify is refused: set tlsConfig.ca to the CA of the server certificates" }}
{{- end }}
{{- if not $m.tlsConfig.ca }}
{{- fail "prometheus.monitor.tlsConfig.ca is required: the CA that signed the server certificates (a Secret or ConfigMap key)" }}
{{- end }}
{{- if not $v.service.enabled }}
{{- fail "prometheus.monitor needs service.enabled: a ServiceMonitor scrapes the endpoints of a Service" }}
{{- end }}
{{- include "warden.requireSecretOrConfigMap" (list $m.tlsConfig.ca "prometheus.monitor.tlsConfig.ca") }}
{{- if or $m.tlsConfig.cert $m.tlsConfig.keySecret }}
{{- include "warden.requireSecretOrConfigMap" (list $m.tlsConfig.cert "prometheus.monitor.tlsConfig.cert (with keySecret)") }}
{{- include "warden.requireSelector" (list $m.tlsConfig.keySecret "prometheus.monitor.tlsConfig.keySecret (with cert)") }}
{{- end }}
{{- if $m.basicAuth }}
{{- include "warden.requireSelector" (list $m.basicAuth.username "prometheus.monitor.basicAuth.username") }}
{{- include "warden.requireSelector" (list $m.basicAuth.password "prometheus.monitor.basicAuth.password") }}
{{- end }}
{{- if $m.authorization }}
{{- include "warden.requireSelector" (list $m.authorization.credentials "prometheus.monitor.authorization.credentials") }}
{{- end }}
{{- $cert := and $m.tlsConfig.cert $m.tlsConfig.keySecret }}
{{- if not (or $cert $m.basicAuth $m.authorization) }}
{{- fail "prometheus.monitor: set tlsConfig.cert and tlsConfig.keySecret, basicAuth or authorization: how Prometheus authenticates" }}
{{- end }}
{{- if not $w.existingSecret }}
{{- if and $cert (not $w.clientCA.secretName) }}
{{- fail "prometheus.monitor.tlsConfig.cert needs webConfig.clientCA: the CA that signed it" }}
{{- end }}
{{- if and $m.basicAuth (not $w.basicAuthUsers) }}
{{- fail "prometheus.monitor.basicAuth needs webConfig.basicAuthUsers" }}
{{- end }}
{{- if and $m.authorization (not $w.bearerTokens) }}
{{- fail "prometheus.monitor.authorization needs webConfig.bearerTokens" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
warden.requireSelector fails unless (list SELECTOR WHAT)'s SELECTOR is a
{name, key} with both set: the Prometheus Operator skips a ServiceMonitor
whose reference is empty, and nothing would say why no node is scraped.
*/}}
{{- define "warden.requireSelector" -}}
{{- $sel := index . 0 }}
{{- if not (and (kindIs "map" $sel) $sel.name $sel.key) }}
{{- fail (printf "%s needs a name and a key" (index . 1)) }}
{{- end }}
{{- end }}

{{/*
warden.requireSecretOrConfigMap is warden.requireSelector for a
{secret: {name, key}} or {configMap: {name, key}}.
*/}}
{{- define "warden.requireSecretOrConfigMap" -}}
{{- $ref := index . 0 }}
{{- $sel := dict }}
{{- if kindIs "map" $ref }}{{ $sel = default $ref.configMap $ref.secret }}{{ end }}
{{- include "warden.requireSelector" (list $sel (printf "%s: secret or configMap" (index . 1))) }}
{{- end }}
