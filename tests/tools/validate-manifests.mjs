// Validates Kubernetes manifests (the output of `helm template`, on standard input) without a cluster, and prints
// them as one JSON array on standard output for the tests' own assertions. Exit code 1 and one line per problem
// on standard error when anything is wrong.
//
// Three checks, each standing in for a part of what the API server does:
//  1. types, required fields, enums and formats: the Kubernetes OpenAPI schemas compiled by kubernetes-models
//     (and @kubernetes-models/prometheus-operator for the ServiceMonitor);
//  2. unknown fields, which `kubectl apply` (strict field validation) refuses: every key must be a field of the
//     Kubernetes release-1.36 API types, read from @kubernetes/client-node's generated models;
//  3. a few rules of the API server's own validation that are not in the schemas: DNS names, port names
//     (IANA service names, at most 15 characters), unique ports, node ports in the default range.
import { parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node/dist/gen/models/all.js"; // the models only: the client needs a newer Node.js

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});

const problems = [];
const objects = [];
for (const doc of parseAllDocuments(input)) {
  if (doc.errors.length > 0) {
    problems.push(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    continue;
  }
  const object = doc.toJS();
  if (object == null) continue;
  objects.push(object);
}

const modules = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

for (const object of objects) {
  const where = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  const module = modules[object.apiVersion];
  if (!module) {
    problems.push(`${where}: unexpected apiVersion ${object.apiVersion}`);
    continue;
  }
  let Model;
  try {
    Model = (await import(`${module}/${object.kind}`))[object.kind];
  } catch {
    problems.push(`${where}: ${object.apiVersion} has no kind ${object.kind}`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
  // The client library's type of the kind at its version: V1Service, V2HorizontalPodAutoscaler, ...
  const version = object.apiVersion.split("/").pop();
  const typeName = `${version[0].toUpperCase()}${version.slice(1)}${object.kind}`;
  if (k8s[typeName] && object.apiVersion !== "monitoring.coreos.com/v1") {
    unknownFields(object, typeName, where, "");
  }
  apiServerRules(object, where);
}

// Every key of a Kubernetes type must be one of its fields (Kubernetes' strict field validation).
function unknownFields(value, type, where, path) {
  if (value == null) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, array[1], where, `${path}[${i}]`));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [key, item] of Object.entries(value)) unknownFields(item, map[1], where, `${path}.${key}`);
    return;
  }
  const model = k8s[type];
  if (typeof model?.getAttributeTypeMap !== "function" || typeof value !== "object") return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    if (!fields.has(key)) {
      problems.push(`${where}: unknown field ${path ? path.slice(1) + "." : ""}${key}`);
    } else {
      unknownFields(item, fields.get(key), where, `${path}.${key}`);
    }
  }
}

function apiServerRules(object, where) {
  const name = object.metadata?.name ?? "";
  const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
  const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (object.kind === "Service" ? !(dns1035Label.test(name) && name.length <= 63) : !(subdomain.test(name) && name.length <= 253)) {
    problems.push(`${where}: invalid name '${name}'`);
  }
  for (const [key, value] of Object.entries(object.metadata?.labels ?? {})) {
    if (typeof value !== "string" || value.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)) {
      problems.push(`${where}: invalid value of label ${key}: '${value}'`);
    }
  }
  const portName = (n) => n.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n) && /[a-z]/.test(n) && !n.includes("--");
  const unique = (items, key, what) => {
    const seen = new Set();
    for (const item of items) {
      const k = key(item);
      if (seen.has(k)) problems.push(`${where}: duplicate ${what} ${k}`);
      seen.add(k);
    }
  };
  if (object.kind === "Service") {
    const ports = object.spec?.ports ?? [];
    ports.filter((p) => !portName(p.name ?? "")).forEach((p) => problems.push(`${where}: invalid port name '${p.name}'`));
    unique(ports, (p) => p.name, "port name");
    unique(ports, (p) => `${p.port}/${p.protocol ?? "TCP"}`, "port");
    for (const p of ports.filter((p) => p.nodePort !== undefined)) {
      if (object.spec.type !== "NodePort" && object.spec.type !== "LoadBalancer") problems.push(`${where}: nodePort on a ${object.spec.type} Service`);
      if (p.nodePort < 30000 || p.nodePort > 32767) problems.push(`${where}: nodePort ${p.nodePort} outside the default range 30000-32767`);
    }
    if (object.spec?.externalTrafficPolicy && !["NodePort", "LoadBalancer"].includes(object.spec.type)) {
      problems.push(`${where}: externalTrafficPolicy on a ${object.spec.type} Service`);
    }
  }
  const pod = object.spec?.template?.spec;
  for (const container of pod?.containers ?? []) {
    const ports = container.ports ?? [];
    ports.filter((p) => p.name !== undefined && !portName(p.name)).forEach((p) => problems.push(`${where}: invalid container port name '${p.name}'`));
    unique(ports.filter((p) => p.name !== undefined), (p) => p.name, "container port name");
    unique(ports, (p) => p.containerPort, "container port");
    unique(container.env ?? [], (e) => e.name, "environment variable");
    const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.has(mount.name)) problems.push(`${where}: volumeMount ${mount.name} has no volume`);
    }
    for (const probe of [container.livenessProbe, container.readinessProbe].filter(Boolean)) {
      const port = probe.httpGet?.port;
      if (typeof port === "string" && !ports.some((p) => p.name === port)) problems.push(`${where}: probe port ${port} is not a container port`);
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
process.stdout.write(JSON.stringify(objects));
