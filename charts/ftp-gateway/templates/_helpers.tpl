{{/* Chart name, possibly overridden. */}}
{{- define "ftp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "ftp-gateway.fullname" -}}
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

{{- define "ftp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ftp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ftp-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ftp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ftp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ftp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Seconds as a .NET TimeSpan ("hh:mm:ss"): the gateway's configuration format. */}}
{{- define "ftp-gateway.timespan" -}}
{{- $s := int . }}
{{- printf "%02d:%02d:%02d" (div $s 3600) (div (mod $s 3600) 60) (mod $s 60) }}
{{- end }}

{{/* Whether the chart's Secret has anything to carry (users, storage credentials, the relay secret, Redis). */}}
{{- define "ftp-gateway.hasSecret" -}}
{{- $s3 := .Values.storage.s3 }}
{{- $az := .Values.storage.azureBlob }}
{{- if or (and .Values.users (not .Values.usersExistingSecret))
          (and (eq .Values.storage.provider "S3") $s3.accessKey (not $s3.existingSecret))
          (and (eq .Values.storage.provider "AzureBlob") $az.connectionString (not $az.existingSecret))
          (and (include "ftp-gateway.sharedAddress" .) (not .Values.ha.relay.existingSecret))
          (and .Values.state.redis.configuration (not .Values.state.redis.existingSecret)) }}true{{ end }}
{{- end }}

{{/* The HA mode with one address for every pod (ha.mode sharedAddress). */}}
{{- define "ftp-gateway.sharedAddress" -}}
{{- if and .Values.ha.enabled (eq .Values.ha.mode "sharedAddress") }}true{{ end }}
{{- end }}

{{/* The HA mode with one Service and address per pod (ha.mode perPodAddress). */}}
{{- define "ftp-gateway.perPodAddress" -}}
{{- if and .Values.ha.enabled (eq .Values.ha.mode "perPodAddress") }}true{{ end }}
{{- end }}

{{/* sharedAddress: the most pods (ha.maxReplicas, else replicaCount). */}}
{{- define "ftp-gateway.maxReplicas" -}}
{{- if gt (int .Values.ha.maxReplicas) 0 }}{{ int .Values.ha.maxReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* sharedAddress: the passive ports each pod owns (ftp.passive.portsPerReplica, else the range / maxReplicas). */}}
{{- define "ftp-gateway.portsPerReplica" -}}
{{- if gt (int .Values.ftp.passive.portsPerReplica) 0 }}{{ int .Values.ftp.passive.portsPerReplica }}{{ else }}{{ div (add (sub (int .Values.ftp.passive.end) (int .Values.ftp.passive.start)) 1) (max (int (include "ftp-gateway.maxReplicas" .)) 1) }}{{ end }}
{{- end }}

{{/* The relay secret: ha.relay.secret, else the one this release already has, else a new one. */}}
{{- define "ftp-gateway.relaySecret" -}}
{{- if .Values.ha.relay.secret }}{{ .Values.ha.relay.secret }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "ftp-gateway.fullname" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "Ftp__Relay__Secret") }}{{ index $existing.data "Ftp__Relay__Secret" | b64dec }}
{{- else }}{{ randAlphaNum 40 }}{{ end }}
{{- end }}
{{- end }}

{{/* A volume only one pod may use (FileSystem storage on a single-node volume, the event spool's claim): pods must not overlap during an update. */}}
{{- define "ftp-gateway.singleWriterVolume" -}}
{{- if or (and (eq .Values.storage.provider "FileSystem") .Values.persistence.enabled (not (has "ReadWriteMany" .Values.persistence.accessModes))) (and .Values.events.spool.enabled .Values.events.spool.existingClaim) }}true{{ end }}
{{- end }}

{{/*
Combinations the schema cannot express. Each message names the values to change.
*/}}
{{- define "ftp-gateway.validate" -}}
{{- $v := .Values }}
{{- $start := int $v.ftp.passive.start }}
{{- $end := int $v.ftp.passive.end }}
{{- if gt $start $end }}
{{- fail (printf "ftp.passive.start (%d) must not be greater than ftp.passive.end (%d)" $start $end) }}
{{- end }}
{{- if gt (add (sub $end $start) 1) 1000 }}
{{- fail (printf "ftp.passive: %d ports is too many; every passive port is a Service port and a load-balancer listener (at most 1000)" (add (sub $end $start) 1)) }}
{{- end }}
{{- $podPorts := list (int $v.ftp.port) (int $v.management.port) }}
{{- if $v.ftp.tls.implicit.enabled }}
{{- if not $v.ftp.tls.existingSecret }}
{{- fail "ftp.tls.implicit.enabled needs ftp.tls.existingSecret (the certificate)" }}
{{- end }}
{{- if has (int $v.ftp.tls.implicit.port) $podPorts }}
{{- fail "ftp.tls.implicit.port must differ from ftp.port and management.port" }}
{{- end }}
{{- $podPorts = append $podPorts (int $v.ftp.tls.implicit.port) }}
{{- end }}
{{- range $port := $podPorts }}
{{- if and (ge $port $start) (le $port $end) }}
{{- fail (printf "port %d lies inside the passive range ftp.passive.start-end (%d-%d)" $port $start $end) }}
{{- end }}
{{- end }}
{{- if eq (int $v.ftp.port) (int $v.management.port) }}
{{- fail "management.port must differ from ftp.port: probes and scrapes must never be FTP sessions" }}
{{- end }}
{{- if and $v.ha.enabled (not (has $v.ha.mode (list "sharedAddress" "perPodAddress"))) }}
{{- fail (printf "ha.mode '%s' is not one of sharedAddress, perPodAddress" $v.ha.mode) }}
{{- end }}
{{- if include "ftp-gateway.sharedAddress" . }}
{{- $max := int (include "ftp-gateway.maxReplicas" .) }}
{{- $k := int (include "ftp-gateway.portsPerReplica" .) }}
{{- if lt (int $v.replicaCount) 1 }}
{{- fail "ha.enabled needs replicaCount of at least 1" }}
{{- end }}
{{- if or $v.ha.publicAddresses $v.ha.publicHost }}
{{- fail "ha.publicAddresses and ha.publicHost belong to ha.mode perPodAddress (the HA mode before sharedAddress became the default): set ha.mode: perPodAddress to keep an address per pod, or move to one address for all (ftp.passive.publicAddress or ftp.passive.publicHost, state.redis)" }}
{{- end }}
{{- if gt (int $v.replicaCount) $max }}
{{- fail (printf "replicaCount %d is above ha.maxReplicas %d" (int $v.replicaCount) $max) }}
{{- end }}
{{- if and $v.ha.autoscaling.enabled (or (lt (int $v.ha.autoscaling.minReplicas) 1) (gt (int $v.ha.autoscaling.minReplicas) $max)) }}
{{- fail (printf "ha.autoscaling.minReplicas %d must lie between 1 and ha.maxReplicas %d" (int $v.ha.autoscaling.minReplicas) $max) }}
{{- end }}
{{- if lt $k 1 }}
{{- fail (printf "ha.mode sharedAddress: the passive range %d-%d must hold at least one port per replica (ha.maxReplicas %d)" $start $end $max) }}
{{- end }}
{{- if gt (mul $max $k) (add (sub $end $start) 1) }}
{{- fail (printf "ha.mode sharedAddress: ha.maxReplicas %d × ftp.passive.portsPerReplica %d = %d ports do not fit in the passive range %d-%d" $max $k (mul $max $k) $start $end) }}
{{- end }}
{{- if not (or $v.ftp.passive.publicAddress $v.ftp.passive.publicHost) }}
{{- fail "ha.mode sharedAddress needs ftp.passive.publicAddress or ftp.passive.publicHost: the load balancer's address, which every pod announces in PASV" }}
{{- end }}
{{- if not (or $v.state.redis.configuration $v.state.redis.existingSecret) }}
{{- fail "ha.mode sharedAddress needs state.redis.configuration or state.redis.existingSecret: bans, failed-login counts and session limits must be shared by the pods" }}
{{- end }}
{{- if and $v.ha.relay.secret (lt (len $v.ha.relay.secret) 16) }}
{{- fail "ha.relay.secret must be at least 16 characters (or empty: the chart makes one)" }}
{{- end }}
{{- $relay := int $v.ha.relay.port }}
{{- if or (has $relay $podPorts) (and (ge $relay $start) (le $relay $end)) }}
{{- fail (printf "ha.relay.port %d must differ from ftp.port, management.port, ftp.tls.implicit.port and lie outside the passive range" $relay) }}
{{- end }}
{{- if and $v.events.spool.enabled $v.events.spool.existingClaim }}
{{- fail "ha.enabled: events.spool.existingClaim would be shared by every pod; leave it empty (a spool per pod)" }}
{{- end }}
{{- end }}
{{- if include "ftp-gateway.perPodAddress" . }}
{{- if lt (int $v.replicaCount) 1 }}
{{- fail "ha.enabled needs replicaCount of at least 1" }}
{{- end }}
{{- if or $v.ftp.passive.publicAddress $v.ftp.passive.publicHost }}
{{- fail "ha.mode perPodAddress: ftp.passive.publicAddress or publicHost would make every pod announce one address; use ha.publicAddresses or ha.publicHost (or ha.mode sharedAddress)" }}
{{- end }}
{{- if and (ne $v.ha.podService.type "ClusterIP") (not (or $v.ha.publicAddresses $v.ha.publicHost)) }}
{{- fail "ha.enabled needs ha.publicAddresses or ha.publicHost: what each pod announces in PASV" }}
{{- end }}
{{- if and (eq $v.ha.podService.type "NodePort") (or (lt $start 30000) (gt $end 32767)) }}
{{- fail (printf "ha.podService.type NodePort: the passive range %d-%d must lie in the node-port range 30000-32767" $start $end) }}
{{- end }}
{{- if and $v.events.spool.enabled $v.events.spool.existingClaim }}
{{- fail "ha.enabled: events.spool.existingClaim would be shared by every pod; leave it empty (a spool per pod)" }}
{{- end }}
{{- if lt (add (sub $end $start) 1) (int $v.replicaCount) }}
{{- fail (printf "ha.enabled: the passive range %d-%d must hold at least one port per replica (%d)" $start $end (int $v.replicaCount)) }}
{{- end }}
{{- if and $v.ha.publicAddresses (ne (len $v.ha.publicAddresses) (int $v.replicaCount)) }}
{{- fail (printf "ha.publicAddresses must have one address per replica (%d), in pod-ordinal order" (int $v.replicaCount)) }}
{{- end }}
{{- end }}
{{- if and $v.podDisruptionBudget.enabled (or $v.ha.enabled (gt (int $v.replicaCount) 1)) }}
{{- $least := int $v.replicaCount }}
{{- if and (include "ftp-gateway.sharedAddress" .) $v.ha.autoscaling.enabled }}
{{- $least = int $v.ha.autoscaling.minReplicas }}
{{- end }}
{{- if ge (int $v.podDisruptionBudget.minAvailable) $least }}
{{- fail (printf "podDisruptionBudget.minAvailable %d must be below the replicas (%d): no node could ever be drained" (int $v.podDisruptionBudget.minAvailable) $least) }}
{{- end }}
{{- end }}
{{- if and (not $v.ha.enabled) $v.events.spool.enabled $v.events.spool.existingClaim (ne (int $v.replicaCount) 1) }}
{{- fail "events.spool.existingClaim holds one pod's spool: use it with replicaCount 1" }}
{{- end }}
{{- if and $v.ftp.passive.publicAddress $v.ftp.passive.publicHost }}
{{- fail "ftp.passive.publicAddress and ftp.passive.publicHost are two answers to one question: set one" }}
{{- end }}
{{- if gt (int $v.replicaCount) 1 }}
{{- if and (not $v.ha.enabled) (ne $v.service.sessionAffinity "ClientIP") }}
{{- fail "replicaCount > 1 needs ha.enabled (each pod its own passive slice and Service) or service.sessionAffinity: ClientIP, or passive data connections land on another pod than their control connection" }}
{{- end }}
{{- if and (eq $v.storage.provider "FileSystem") (not (and $v.persistence.enabled (or $v.persistence.existingClaim (has "ReadWriteMany" $v.persistence.accessModes)))) }}
{{- fail "replicaCount > 1 with storage.provider FileSystem needs one shared volume: persistence.enabled with accessModes [ReadWriteMany] (or an existingClaim that is ReadWriteMany), or use S3 or AzureBlob" }}
{{- end }}
{{- if not (or $v.users $v.usersExistingSecret $v.anonymous.enabled $v.usersFile.enabled) }}
{{- fail "replicaCount > 1 needs users (or usersExistingSecret): without them every pod makes up its own demo password" }}
{{- end }}
{{- end }}
{{- if and (eq $v.storage.provider "S3") (not $v.storage.s3.existingSecret) (ne (empty $v.storage.s3.accessKey) (empty $v.storage.s3.secretKey)) }}
{{- fail "storage.s3.accessKey and storage.s3.secretKey go together: set both, or neither to use the pod's identity" }}
{{- end }}
{{- if eq $v.storage.provider "AzureBlob" }}
{{- $az := $v.storage.azureBlob }}
{{- if not (or $az.connectionString $az.existingSecret $az.serviceUri) }}
{{- fail "storage.provider AzureBlob needs storage.azureBlob.connectionString, existingSecret or serviceUri" }}
{{- end }}
{{- end }}
{{- $managed := list "Ftp:Port" "Ftp:PassivePortRange" "Ftp:PublicAddress" "Ftp:PublicAddresses" "Ftp:PublicHost" "Ftp:Replica" "Ftp:Replicas" "Ftp:PassivePortsPerReplica" "Ftp:Relay" "State:Redis" "Ftp:AllowEpsv" "Ftp:AllowActiveMode" "Ftp:DrainTimeout" "Ftp:DrainDelay" "Ftp:Tls" "Ftp:ProxyProtocol:TrustedProxies" "Security:AllowedAddresses" "Security:DeniedAddresses" "Security:Bans:Enabled" "Security:Bans:MaxFailures" "Security:Bans:Exempt" "Users:File" "Events:Webhooks" "Events:SpoolDirectory" "Events:MaxSpoolBytes" "Management" "Storage:Provider" "Storage:FileSystem:Root" "Users" "Anonymous" "Logging:Format" "Logging:LogLevel:Default" }}
{{- range $k := list "Bucket" "Prefix" "Region" "ServiceUrl" "ForcePathStyle" "ChecksumMode" "StorageClass" "ServerSideEncryption" "KmsKeyId" "AccessKey" "SecretKey" "ObjectLock" }}
{{- $managed = append $managed (printf "Storage:S3:%s" $k) }}
{{- end }}
{{- range $k := list "Container" "Prefix" "ServiceUri" "ConnectionString" "AccessTier" }}
{{- $managed = append $managed (printf "Storage:AzureBlob:%s" $k) }}
{{- end }}
{{- range $key, $_ := $v.config }}
{{- range $m := $managed }}
{{- if or (eq (lower $key) (lower $m)) (hasPrefix (printf "%s:" (lower $m)) (lower $key)) }}
{{- fail (printf "config.%s is set by the chart from its own values; use those (see values.yaml)" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
