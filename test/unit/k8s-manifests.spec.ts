import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_KEYS } from '@herald/config';
import { parseAllDocuments } from 'yaml';
import { NATS_USERS, parseNatsConf, passwordVariable, readNatsConf } from '../support/nats-conf';

/** No cluster here: these tests read deploy/k8s and check what can be checked without one. */
const root = resolve(__dirname, '../..');
const k8s = join(root, 'deploy/k8s');
const APPS = ['gateway', 'orchestrator', 'worker', 'persistence'];
const PROBE_PATHS = new Set(['/health/live', '/health/ready']);
const HEALTH_PORT = 9464;

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string>; file: string };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
function load(file: string): any[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  });
}

/** The resources of a kustomization, following bases and overlays, as kubectl would list them (without patches). */
function build(dir: string): Manifest[] {
  const [kustomization] = load(join(dir, 'kustomization.yaml'));
  return (kustomization.resources as string[]).flatMap((r) => {
    const path = join(dir, r);
    if (!existsSync(path)) throw new Error(`${dir}/kustomization.yaml lists ${r}, which does not exist`);
    return existsSync(join(path, 'kustomization.yaml')) ? build(path) : load(path).map((m) => ({ ...m, file: path }));
  });
}

const base = build(join(k8s, 'base'));
const overlayDir = join(k8s, 'overlays/example');
const overlay = build(overlayDir);
const [overlayKustomization] = load(join(overlayDir, 'kustomization.yaml'));
const of = (kind: string) => overlay.filter((m) => m.kind === kind);
const byName = (kind: string, name: string) => overlay.find((m) => m.kind === kind && m.metadata.name === name);
const workloads = overlay.filter((m) => ['Deployment', 'StatefulSet', 'Job'].includes(m.kind));
const containersOf = (m: Manifest): any[] => m.spec.template.spec.containers;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('deploy/k8s (Kustomize base and example overlay)', () => {
  it('parses every YAML file and lists every base file in the base kustomization', () => {
    for (const file of yamlFiles(k8s)) expect(() => load(file)).not.toThrow();
    const listed = new Set(base.map((m) => m.file));
    const files = yamlFiles(join(k8s, 'base')).filter((f) => !f.endsWith('kustomization.yaml'));
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
  });

  it('has a Deployment for every app, running its built entry point from the image', () => {
    for (const app of APPS) {
      const deployment = byName('Deployment', `herald-${app}`);
      expect(deployment).toBeDefined();
      const [container] = containersOf(deployment!);
      expect(container.command).toEqual(['node', `apps/${app}/dist/main.js`]);
      expect(existsSync(join(root, 'apps', app, 'src/main.ts'))).toBe(true);
      expect(container.image.split(':')[0]).toBe('herald');
      expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
      expect(deployment!.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
    const [migrate] = containersOf(byName('Job', 'herald-migrate')!);
    expect(existsSync(join(root, migrate.command[1].replace('/dist/', '/src/').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('matches every selector to the labels of its pods', () => {
    for (const w of workloads.filter((m) => m.kind !== 'Job')) {
      expect(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels)).toBe(true);
    }
    for (const service of of('Service')) {
      const target = workloads.find((w) => matches(service.spec.selector, w.spec.template.metadata.labels));
      expect({ service: service.metadata.name, found: Boolean(target) }).toEqual({ service: service.metadata.name, found: true });
      const portNames = new Set(containersOf(target!).flatMap((c) => (c.ports ?? []).map((p: any) => p.name)));
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    for (const pdb of of('PodDisruptionBudget')) {
      expect(workloads.some((w) => matches(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels))).toBe(true);
    }
    expect(of('PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(expect.arrayContaining(APPS.map((a) => `herald-${a}`)));
  });

  it('probes real health paths on ports the containers declare (gateway PORT, the others HEALTH_PORT)', () => {
    for (const app of APPS) {
      const [container] = containersOf(byName('Deployment', `herald-${app}`)!);
      const ports = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
      for (const kind of ['readinessProbe', 'livenessProbe']) {
        const probe = container[kind].httpGet;
        expect(PROBE_PATHS.has(probe.path)).toBe(true);
        expect(ports.has(probe.port)).toBe(true);
      }
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      const probePort = ports.get(container.readinessProbe.httpGet.port);
      if (app === 'gateway') {
        expect(probePort).toBe(3000);
        // Metrics stay off the public port: a port of their own (METRICS_PORT's default), not in the Service.
        expect(ports.get('metrics')).toBe(9464);
        const service = byName('Service', 'herald-gateway')!;
        expect(service.spec.ports.map((p: any) => p.targetPort)).not.toContain('metrics');
      } else {
        expect(probePort).toBe(HEALTH_PORT);
        expect(container.env.find((e: any) => e.name === 'HEALTH_PORT')?.value).toBe(String(HEALTH_PORT));
      }
    }
  });

  it('sets only environment variables the config schema knows, from the ConfigMap and the Secret', () => {
    const keys = new Set(CONFIG_KEYS);
    const configMap = byName('ConfigMap', 'herald-config')!;
    const secretKeys = (overlayKustomization.secretGenerator as any[])
      .find((g) => g.name === 'herald-secrets')
      .literals.map((l: string) => l.split('=')[0]);
    const names = [
      ...Object.keys(configMap.data!),
      ...secretKeys,
      ...workloads
        .filter((w) => w.metadata.name.startsWith('herald-'))
        .flatMap((w) => containersOf(w).flatMap((c) => (c.env ?? []).map((e: any) => e.name))),
    ];
    for (const name of names) expect({ name, known: keys.has(name) }).toEqual({ name, known: true });
    expect(secretKeys).toEqual(expect.arrayContaining(['JWT_SECRET', 'DATABASE_URL']));
    for (const w of workloads.filter((m) => m.metadata.name.startsWith('herald-'))) {
      const refs = containersOf(w)[0].envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name);
      expect(refs).toEqual(['herald-config', 'herald-secrets']);
    }
  });

  it('autoscales the gateway and the worker', () => {
    const hpas = of('HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['herald-gateway', 'herald-worker']);
    for (const hpa of hpas) {
      expect(byName(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name)).toBeDefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
  });

  it('runs NATS as a JetStream cluster of three that the services reach', () => {
    const nats = byName('StatefulSet', 'nats')!;
    expect(nats.spec.replicas).toBe(3);
    const conf = byName('ConfigMap', 'nats-config')!.data!['nats.conf'];
    expect(conf).toMatch(/jetstream\s*\{/);
    const routes = conf.match(/nats:\/\/nats-\d\.nats-headless:6222/g) ?? [];
    expect(routes).toHaveLength(3);
    expect(byName('Service', 'nats-headless')!.spec.clusterIP).toBe('None');
    expect(nats.spec.serviceName).toBe('nats-headless');
    const natsUrl = new URL(byName('ConfigMap', 'herald-config')!.data!.NATS_URL);
    expect(byName('Service', natsUrl.hostname)?.spec.ports.map((p: any) => p.port)).toContain(Number(natsUrl.port));
    const helm = load(join(k8s, 'nats/helm-values.yaml'))[0];
    expect(helm.config).toMatchObject({ cluster: { enabled: true, replicas: 3 }, jetstream: { enabled: true } });
    // The streams are replicated on every server of the cluster, or losing one loses events.
    expect(Number(byName('ConfigMap', 'herald-config')!.data!.NATS_STREAM_REPLICAS)).toBe(nats.spec.replicas);
    expect(helm.config.cluster.replicas).toBe(nats.spec.replicas);
  });

  it("runs NATS with deploy/nats/nats-server.conf's users and permissions, each service as its own user, the passwords from a Secret", () => {
    const canonical = parseNatsConf(readNatsConf()).authorization;
    expect(parseNatsConf(byName('ConfigMap', 'nats-config')!.data!['nats.conf']).authorization).toEqual(canonical);
    const [nats] = containersOf(byName('StatefulSet', 'nats')!);
    expect(nats.envFrom).toContainEqual({ secretRef: { name: 'herald-nats' } });
    const natsSecret = (overlayKustomization.secretGenerator as any[]).find((g) => g.name === 'herald-nats');
    expect(natsSecret.literals.map((l: string) => l.split('=')[0]).sort()).toEqual(NATS_USERS.map(passwordVariable).sort());
    for (const app of APPS) {
      const env = containersOf(byName('Deployment', `herald-${app}`)!)[0].env as any[];
      expect(env.find((e) => e.name === 'NATS_USER')).toEqual({ name: 'NATS_USER', value: app });
      expect(env.find((e) => e.name === 'NATS_PASSWORD')).toEqual({
        name: 'NATS_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'herald-nats', key: `HERALD_NATS_${app.toUpperCase()}_PASSWORD` } },
      });
    }
    // The Helm alternative: the same authorization (the chart writes `<< $VAR >>` unquoted), the same Secret.
    const helm = load(join(k8s, 'nats/helm-values.yaml'))[0];
    const helmUsers = (helm.config.merge.authorization.users as any[]).map((u) => ({
      ...u,
      password: u.password.replace(/^<< (.*) >>$/, '$1'),
      permissions: {
        ...u.permissions,
        ...('allow_responses' in u.permissions ? { allow_responses: String(u.permissions.allow_responses) } : {}),
      },
    }));
    expect({ users: helmUsers }).toEqual(canonical);
    for (const user of NATS_USERS) {
      expect(helm.container.env[passwordVariable(user)]).toEqual({
        valueFrom: { secretKeyRef: { name: 'herald-nats', key: passwordVariable(user) } },
      });
    }
  });

  it('routes the example ingress to the gateway Service port', () => {
    const ingress = of('Ingress')[0];
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    const service = byName('Service', backend.name)!;
    expect(service.spec.ports.map((p: any) => p.name)).toContain(backend.port.name);
  });
});
