{{/* The chart name, overridable. */}}
{{- define "credbroker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name prefix (63 characters at most). */}}
{{- define "credbroker.fullname" -}}
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

{{- define "credbroker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "credbroker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "credbroker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "credbroker.labels" -}}
helm.sh/chart: {{ include "credbroker.chart" . }}
{{ include "credbroker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "credbroker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "credbroker.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "credbroker.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Where the projected service-account token is mounted. */}}
{{- define "credbroker.projectedTokenDir" -}}
/var/run/secrets/credbroker/serviceaccount
{{- end }}

{{/*
Pod security, the same for both roles and not overridable: non-root, RuntimeDefault seccomp.
*/}}
{{- define "credbroker.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container security, the same for both roles and not overridable: read-only root filesystem (the broker
writes nothing; /tmp is an emptyDir), no privilege escalation, every capability dropped.
*/}}
{{- define "credbroker.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* A secretKeyRef env var. Arguments: name (env var), secret, key. */}}
{{- define "credbroker.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
{{- end }}

{{/*
The environment of both roles. Argument: dict with root (the chart context) and role.
Secrets reach the broker only as secretKeyRef env vars, under the env names the broker reads by default.
*/}}
{{- define "credbroker.env" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $fullname := include "credbroker.fullname" $root -}}
- name: CREDBROKER_ROLE
  value: {{ .role | quote }}
- name: CREDBROKER_CONFIG
  value: /etc/credbroker/credbroker.yaml
- name: CREDBROKER_HOST
  value: "0.0.0.0"
- name: CREDBROKER_PORT
  value: "8080"
- name: CREDBROKER_WORKER_PORT
  value: "8081"
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- if $v.secrets.signerKek.enabled }}
{{ include "credbroker.secretEnv" (dict "name" "CREDBROKER_SIGNER_KEK" "secret" (default (printf "%s-signer-kek" $fullname) $v.secrets.signerKek.name) "key" $v.secrets.signerKek.key) }}
{{- end }}
{{ include "credbroker.secretEnv" (dict "name" "CREDBROKER_AUDIT_HMAC_KEY" "secret" (default (printf "%s-audit-hmac" $fullname) $v.secrets.auditHmacKey.name) "key" $v.secrets.auditHmacKey.key) }}
{{- with $v.redis.auth.existingSecret }}
{{- if and (eq $v.redis.mode "standalone") $v.redis.auth.urlKey }}
{{ include "credbroker.secretEnv" (dict "name" "REDIS_URL" "secret" . "key" $v.redis.auth.urlKey) }}
{{- end }}
{{- if and (ne $v.redis.mode "standalone") $v.redis.auth.passwordKey }}
{{ include "credbroker.secretEnv" (dict "name" "REDIS_PASSWORD" "secret" . "key" $v.redis.auth.passwordKey) }}
{{- end }}
{{- if and (eq $v.redis.mode "sentinel") $v.redis.auth.sentinelPasswordKey }}
{{ include "credbroker.secretEnv" (dict "name" "REDIS_SENTINEL_PASSWORD" "secret" . "key" $v.redis.auth.sentinelPasswordKey) }}
{{- end }}
{{- end }}
{{- with $v.secrets.approvalWebhook.existingSecret }}
{{ include "credbroker.secretEnv" (dict "name" "CREDBROKER_APPROVAL_WEBHOOK_SECRET" "secret" . "key" $v.secrets.approvalWebhook.key) }}
{{- end }}
{{- with $v.secrets.consoleOidc.existingSecret }}
{{ include "credbroker.secretEnv" (dict "name" "CREDBROKER_CONSOLE_CLIENT_SECRET" "secret" . "key" $v.secrets.consoleOidc.key) }}
{{- end }}
{{- with $v.secrets.vault.existingSecret }}
{{- if $v.secrets.vault.tokenKey }}
{{ include "credbroker.secretEnv" (dict "name" "VAULT_TOKEN" "secret" . "key" $v.secrets.vault.tokenKey) }}
{{- end }}
{{- if $v.secrets.vault.secretIdKey }}
{{ include "credbroker.secretEnv" (dict "name" "VAULT_SECRET_ID" "secret" . "key" $v.secrets.vault.secretIdKey) }}
{{- end }}
{{- end }}
{{- with $v.secrets.aws.existingSecret }}
{{ include "credbroker.secretEnv" (dict "name" "AWS_ACCESS_KEY_ID" "secret" . "key" $v.secrets.aws.accessKeyIdKey) }}
{{ include "credbroker.secretEnv" (dict "name" "AWS_SECRET_ACCESS_KEY" "secret" . "key" $v.secrets.aws.secretAccessKeyKey) }}
{{- end }}
{{- if $v.secrets.aws.webIdentityRoleArn }}
- name: AWS_ROLE_ARN
  value: {{ $v.secrets.aws.webIdentityRoleArn | quote }}
- name: AWS_WEB_IDENTITY_TOKEN_FILE
  value: {{ include "credbroker.projectedTokenDir" $root }}/token
{{- end }}
{{- end }}

{{/* Volumes of both roles: the config and policies, /tmp, the projected token, extras. */}}
{{- define "credbroker.volumes" -}}
- name: config
  configMap:
    name: {{ include "credbroker.fullname" . }}
    items:
      - key: credbroker.yaml
        path: credbroker.yaml
      {{- range $file, $_ := .Values.policies }}
      - key: {{ $file | quote }}
        path: policies/{{ $file }}
      {{- end }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.serviceAccount.projectedToken.enabled }}
- name: serviceaccount-token
  projected:
    sources:
      - serviceAccountToken:
          audience: {{ .Values.serviceAccount.projectedToken.audience | quote }}
          expirationSeconds: {{ .Values.serviceAccount.projectedToken.expirationSeconds }}
          path: token
{{- end }}
{{- if .Values.kubernetesIssuer.enabled }}
- name: kube-ca
  configMap:
    name: kube-root-ca.crt
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "credbroker.volumeMounts" -}}
- name: config
  mountPath: /etc/credbroker
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.serviceAccount.projectedToken.enabled }}
- name: serviceaccount-token
  mountPath: {{ include "credbroker.projectedTokenDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.kubernetesIssuer.enabled }}
- name: kube-ca
  mountPath: /var/run/secrets/credbroker/kubernetes
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pod settings both roles share. Service links are off: a Service named "credbroker" would otherwise inject
CREDBROKER_PORT=tcp://… into every pod, which the broker reads as its port.
*/}}
{{- define "credbroker.podCommon" -}}
serviceAccountName: {{ include "credbroker.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "credbroker.podSecurityContext" . | nindent 2 }}
volumes:
  {{- include "credbroker.volumes" . | nindent 2 }}
{{- end }}

{{/* Pod annotations: a checksum of the config, so a changed config or policy rolls the pods. */}}
{{- define "credbroker.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}
