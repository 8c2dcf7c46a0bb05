import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_KEYS } from '@herald/config';
import { parse } from 'yaml';

/** No Docker engine runs here: these tests read docker-compose.yml and check what can be checked. */
const root = resolve(__dirname, '../..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const configKeys = new Set(CONFIG_KEYS);
const APPS = ['gateway', 'orchestrator', 'worker', 'persistence'];

describe('docker-compose.yml', () => {
  const services: Record<string, any> = compose.services;
  const heraldServices = Object.entries(services).filter(([, s]) => s.build);

  it('runs every app, two gateways, and the migration', () => {
    const commands = heraldServices.map(([, s]) => (s.command as string[]).join(' '));
    for (const app of APPS) expect(commands).toContain(`node apps/${app}/dist/main.js`);
    expect(commands.filter((c) => c.includes('apps/gateway/')).length).toBe(2);
    expect(commands).toContain('node libs/db/dist/migrate.cli.js');
  });

  it('points builds at a Dockerfile that exists and builds what the commands run', () => {
    for (const [, s] of heraldServices) {
      expect(existsSync(join(root, s.build.context, s.build.dockerfile))).toBe(true);
    }
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/USER node/);
    expect(dockerfile).toMatch(/--omit=dev/);
    for (const app of APPS) expect(existsSync(join(root, 'apps', app, 'src', 'main.ts'))).toBe(true);
  });

  it('sets only environment variables the config schema knows', () => {
    for (const [name, s] of heraldServices) {
      for (const key of Object.keys(s.environment ?? {})) {
        expect({ service: name, key, known: configKeys.has(key) }).toEqual({ service: name, key, known: true });
      }
    }
  });

  it('fails closed: JWT_SECRET is required (no shared default) and containers listen on their network', () => {
    for (const [, s] of heraldServices) {
      expect(s.environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
      expect(s.environment.HOST).toBe('0.0.0.0');
    }
  });

  it('waits for healthy infrastructure and a finished migration', () => {
    for (const infra of ['nats', 'postgres', 'redis']) expect(services[infra].healthcheck).toBeDefined();
    expect(services.nats.command).toContain('-js');
    for (const app of ['gateway-1', 'persistence', 'worker', 'orchestrator']) {
      expect(services[app].depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(services[app].restart).toBe('unless-stopped');
    }
    expect(services['gateway-1'].healthcheck.test.join(' ')).toContain('/health/ready');
    for (const infra of ['nats', 'postgres', 'redis', 'gateway-2']) expect(services[infra].restart).toBe('unless-stopped');
  });

  it('runs NATS with deploy/nats/nats-server.conf, its four passwords required, and each service as its own NATS user', () => {
    const nats = services.nats;
    const confAt = nats.command[nats.command.indexOf('-c') + 1];
    const mount = (nats.volumes as string[]).find((v) => v.split(':')[1] === confAt);
    expect(mount?.split(':')[0]).toBe('./deploy/nats/nats-server.conf');
    expect(existsSync(join(root, 'deploy/nats/nats-server.conf'))).toBe(true);
    for (const app of APPS) {
      const variable = `HERALD_NATS_${app.toUpperCase()}_PASSWORD`;
      // `${VAR:?message}`: compose refuses to start without it rather than run on a default.
      expect(nats.environment[variable]).toMatch(new RegExp(`^\\$\\{${variable}:\\?.+\\}$`));
    }
    const users = new Map(heraldServices.filter(([name]) => name !== 'migrate').map(([name, s]) => [name, s.environment]));
    expect([...users.keys()].sort()).toEqual(['gateway-1', 'gateway-2', 'orchestrator', 'persistence', 'worker']);
    for (const [name, env] of users) {
      const app = name.replace(/-\d+$/, '');
      expect({ name, user: env.NATS_USER }).toEqual({ name, user: app });
      expect(env.NATS_PASSWORD).toMatch(new RegExp(`^\\$\\{HERALD_NATS_${app.toUpperCase()}_PASSWORD:\\?.+\\}$`));
    }
  });

  it('health-checks every service on the port it serves /health/ready on', () => {
    for (const name of ['gateway-1', 'gateway-2']) {
      const port = services[name].environment.PORT;
      expect(services[name].healthcheck.test.join(' ')).toContain(`127.0.0.1:${port}/health/ready`);
    }
    for (const name of ['persistence', 'worker', 'orchestrator']) {
      const port = services[name].environment.HEALTH_PORT;
      expect(port).toBe('9464');
      expect(services[name].healthcheck.test.join(' ')).toContain(`127.0.0.1:${port}/health/ready`);
    }
  });

  it('builds in one stage and runs from another: production dependencies, non-root, the locked versions', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
    const named = (name: string) => stages.find((s) => new RegExp(`^FROM \\S+ AS ${name}\\b`, 'i').test(s));
    const build = named('build');
    const runtime = stages.at(-1)!;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime).not.toBe(build);
    // The build stage installs exactly the lockfile, compiles, then drops dev dependencies.
    expect(build).toMatch(/^COPY package\.json package-lock\.json \.\/$/m);
    expect(build).toMatch(/^RUN npm ci\b/m);
    expect(build).toMatch(/npm prune --omit=dev/);
    // The image that runs: what the build stage made, as the unprivileged node user.
    expect(runtime).toMatch(/^COPY --from=build\b.* \/app\/node_modules /m);
    expect(runtime).not.toMatch(/^RUN npm (ci|install)\b/m);
    const users = [...runtime.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.indexOf(`USER ${users.at(-1)}`)).toBeLessThan(runtime.search(/^CMD /m));
  });

  it('copies the package.json of every workspace before installing, so npm ci sees the whole workspace', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const workspaces = ['apps', 'libs'].flatMap((dir) =>
      readdirSync(join(root, dir), { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(join(root, dir, e.name, 'package.json')))
        .map((e) => `${dir}/${e.name}`),
    );
    expect(workspaces).toEqual(expect.arrayContaining(APPS.map((a) => `apps/${a}`)));
    const install = dockerfile.search(/^RUN npm ci\b/m);
    for (const ws of workspaces) {
      const copy = dockerfile.search(new RegExp(`^COPY ${ws}/package\\.json ${ws}/$`, 'm'));
      expect({ ws, copied: copy >= 0 && copy < install }).toEqual({ ws, copied: true });
    }
  });

  it('builds the web client into the image', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/node tools\/build-web\.mjs/);
    expect(dockerfile).toMatch(/COPY tools tools/);
    expect(existsSync(join(root, 'tools/build-web.mjs'))).toBe(true);
    // `nx build` of the gateway (its package.json script) makes the bundle it serves, too.
    const gateway = JSON.parse(readFileSync(join(root, 'apps/gateway/package.json'), 'utf8'));
    expect(gateway.scripts.build).toMatch(/node \.\.\/\.\.\/tools\/build-web\.mjs/);
    expect(gateway.nx.targets.build.outputs).toContain('{projectRoot}/public/dist');
  });
});
