import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * Module boundaries, in the spirit of @nx/enforce-module-boundaries (whose plugin has no
 * release for Nx 24): projects are tagged in their package.json (`nx.tags`), and these
 * constraints hold for every import in every project's sources.
 */
const DEP_CONSTRAINTS: Record<string, string[]> = {
  'type:app': ['type:lib'],
  'scope:contracts': [],
  'scope:config': ['scope:contracts'],
  'scope:observability': ['scope:contracts'],
  'scope:messaging': ['scope:contracts', 'scope:config', 'scope:observability'],
  'scope:auth': ['scope:contracts', 'scope:config'],
  'scope:markdown-chunker': [],
  'scope:db': ['scope:contracts', 'scope:config', 'scope:markdown-chunker'],
  'scope:agents': ['scope:contracts', 'scope:config'],
  'scope:client': ['scope:contracts'],
};

const root = resolve(__dirname, '../..');

interface Project {
  name: string;
  dir: string;
  tags: string[];
  dependencies: Record<string, string>;
}

function projects(): Project[] {
  return ['apps', 'libs'].flatMap((kind) =>
    readdirSync(join(root, kind)).map((name) => {
      const pkg = JSON.parse(readFileSync(join(root, kind, name, 'package.json'), 'utf8'));
      return { name: pkg.name, dir: join(root, kind, name), tags: pkg.nx?.tags ?? [], dependencies: pkg.dependencies ?? {} };
    }),
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g)) found.add(m[1]);
  return [...found];
}

const all = projects();
const byName = new Map(all.map((p) => [p.name, p]));

describe('module boundaries', () => {
  it('every project is tagged', () => {
    for (const p of all) expect(p.tags.length).toBeGreaterThan(0);
  });

  it.each(all.map((p) => [p.name, p] as const))('%s imports only what its tags allow', (_name, project) => {
    const violations: string[] = [];
    for (const file of sources(join(project.dir, 'src'))) {
      for (const spec of imports(file)) {
        const where = relative(root, file);
        if (spec.startsWith('.')) {
          const target = resolve(file, '..', spec);
          if (!target.startsWith(project.dir)) violations.push(`${where}: relative import leaves the project (${spec})`);
          continue;
        }
        const target = byName.get(spec.split('/').slice(0, 2).join('/'));
        if (!target || target === project) continue;
        const allowed = project.tags.flatMap((t) => DEP_CONSTRAINTS[t] ?? []);
        if (!target.tags.some((t) => allowed.includes(t))) violations.push(`${where}: may not import ${target.name}`);
        if (!file.endsWith('.spec.ts') && !(target.name in project.dependencies) && project.tags.includes('type:lib')) {
          violations.push(`${where}: imports ${target.name} without declaring it in package.json`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('every lib says its one job in the first sentence of its README', () => {
    for (const p of all.filter((p) => p.tags.includes('type:lib'))) {
      const readme = join(p.dir, 'README.md');
      expect([p.name, existsSync(readme)]).toEqual([p.name, true]);
      const [title, , job] = readFileSync(readme, 'utf8').split('\n');
      expect([title, job.length > 0]).toEqual([`# ${p.name}`, true]);
    }
  });

  it('apps never import each other, libs never import apps', () => {
    const apps = all.filter((p) => p.tags.includes('type:app')).map((p) => p.name);
    for (const p of all) {
      for (const file of sources(join(p.dir, 'src'))) {
        for (const spec of imports(file)) expect(apps.filter((a) => a !== p.name)).not.toContain(spec);
      }
    }
  });
});
