// The deployment files, checked without Docker, a cluster or a running
// system: docker-compose.yml (and `docker-compose config -q` when Debian's
// docker-compose is installed, also with the archive profile),
// deploy/k8s/**/*.yaml and deploy/Dockerfile against docs/configuration.md's
// table and the health paths the services really serve
// (ws/internal/wsnode/wsnode.go, api/internal/httpapi/server.go,
// api/cmd/archiver/main.go). Every
// check is a function returning a list of problems; the last test breaks a
// copy of each file and asserts that the check notices.
// DEPLOY_CHECK_ROOT=/some/copy points the checks at another checkout.
// Mode-independent: it runs in the single-Redis pass and skips in cluster mode.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_DOC, configTable } from '../lib/docs.mjs';

const ROOT = path.resolve(process.env.DEPLOY_CHECK_ROOT
  ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
const MODE = process.env.E2E_REDIS || 'single';
const SKIP = MODE === 'single' ? false
  : `the deploy files do not depend on Redis (E2E_REDIS=${MODE}): checked in the single pass only`;
if (SKIP) console.log(`deploy-files: skipped: ${SKIP}`);

/** Environment variables set in the deploy files that are not roomwire's own (docs/configuration.md), with the reason they are allowed. */
const EXTERNAL_ENV = {
  GOMAXPROCS: 'Go runtime: CPU threads (match a container CPU limit)',
  GOMEMLIMIT: 'Go runtime: soft memory limit (match a container memory limit)',
  GOGC: 'Go runtime: garbage collector target',
  GODEBUG: 'Go runtime: debugging switches',
  TZ: 'time zone of log timestamps',
};

/** Final Dockerfile stages allowed to run as root, with the reason. */
const ROOT_STAGES = {};

/** Files of the nginx image that nginx.conf may include without a mount. */
const NGINX_STOCK = new Set(['/etc/nginx/mime.types', '/etc/nginx/fastcgi_params', '/etc/nginx/scgi_params', '/etc/nginx/uwsgi_params']);

const read = (rel) => readFileSync(path.join(ROOT, rel), 'utf8');

// ---------------------------------------------------------------- sources

/** servedPaths lists the GET routes each service registers in its source. */
export function servedPaths(wsMain, apiServer, archiverMain = '') {
  const mux = (src) => new Set([...src.matchAll(/\.Handle(?:Func)?\(\s*"(?:GET )?(\/[^"\s]*)"/g)].map((m) => m[1]));
  const api = new Set([...apiServer.matchAll(/\br\.GET\(\s*"(\/[^"]*)"/g)].map((m) => m[1]));
  return { ws: mux(wsMain), api, archiver: mux(archiverMain) };
}

/** seconds parses a Go duration ("10s", "1m30s", "500ms") or a number of seconds. */
export function seconds(v) {
  if (typeof v === 'number') return v;
  const unit = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const s = String(v).trim();
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return NaN;
  let total = 0;
  for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(n) * unit[u];
  return total;
}

function loadContext() {
  const config = configTable(read(CONFIG_DOC));
  const served = servedPaths(read('ws/internal/wsnode/wsnode.go'), read('api/internal/httpapi/server.go'), read('api/cmd/archiver/main.go'));
  assert.ok(served.ws.has('/readyz') && served.api.has('/readyz') && served.archiver.has('/readyz'), `could not find the services' routes in their source: ${JSON.stringify({ ws: [...served.ws], api: [...served.api], archiver: [...served.archiver] })}`);
  return { root: ROOT, config, served };
}

/** envProblems: every name is documented for the role (or "both") in docs/configuration.md, or an EXTERNAL_ENV. */
function envProblems(where, role, names, config) {
  const out = [];
  for (const name of names) {
    if (EXTERNAL_ENV[name]) continue;
    const doc = config.get(name);
    if (!doc) out.push(`${where}: ${name} is not in ${CONFIG_DOC}'s table (document it there, or list it in EXTERNAL_ENV of this test with a reason)`);
    else if (doc.service !== 'both' && doc.service !== role) out.push(`${where}: ${name} is set for ${role}, but ${CONFIG_DOC} documents it for ${doc.service} only`);
  }
  return out;
}

// ---------------------------------------------------------------- docker-compose.yml

function envOf(svc) {
  const e = svc.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => { const i = String(kv).indexOf('='); return i < 0 ? [kv, undefined] : [kv.slice(0, i), kv.slice(i + 1)]; }));
  return e;
}
const hasHealthcheck = (svc) => {
  const hc = svc.healthcheck;
  if (!hc || hc.disable) return false;
  const t = Array.isArray(hc.test) ? hc.test : [hc.test];
  return t.length > 0 && t[0] != null && t[0] !== 'NONE';
};
/** The roomwire binaries run as services; the archiver (the PostgreSQL archive) is optional. */
const ROLES = ['api', 'ws', 'archiver'];
const ROLE_IMAGE = /roomwire[/-](api|ws|archiver)\b/;
/** composeRole: api, ws, archiver, or undefined, from the build target or a roomwire/<role> image. */
function composeRole(svc) {
  const target = svc.build && typeof svc.build === 'object' ? svc.build.target : undefined;
  if (ROLES.includes(target)) return target;
  return ROLE_IMAGE.exec(svc.image ?? '')?.[1];
}
const isPostgres = (svc) => /(^|\/)postgres(:|@|$)/.test(svc.image ?? '');
function publishedPorts(svc) {
  return (svc.ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: Number(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/\w+$/, '').split(':');
    return parts.length === 1 ? { published: NaN, target: Number(parts[0]) } : { published: Number(parts.at(-2)), target: Number(parts.at(-1)) };
  });
}
function bindMounts(svc) {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v === 'object') return v.type === 'bind' ? { source: v.source, target: v.target } : null;
    const [source, target] = String(v).split(':');
    return target && /^[./~]/.test(source) ? { source, target } : null;
  }).filter(Boolean);
}
const commandTokens = (c) => (Array.isArray(c) ? c.map(String) : String(c ?? '').split(/\s+/));

/** checkCompose returns the problems of a parsed docker-compose.yml (merge keys resolved). */
export function checkCompose(compose, ctx) {
  const out = [];
  const services = compose?.services ?? {};
  const entries = Object.entries(services);

  const redis = entries.filter(([name, s]) => /^redis(:|@|$)/.test(s.image ?? '') || name === 'redis');
  if (redis.length === 0) out.push('no Redis service (image redis:…)');
  for (const [name, s] of redis) {
    const cmd = commandTokens(s.command);
    const aof = cmd.some((t, i) => /^(--)?appendonly$/.test(t) && cmd[i + 1] === 'yes');
    if (!aof) out.push(`service ${name}: Redis runs without AOF (its command needs "--appendonly yes"; got ${JSON.stringify(s.command ?? null)})`);
    if (!hasHealthcheck(s)) out.push(`service ${name}: Redis has no health check (the services wait for service_healthy)`);
  }

  const byRole = { api: [], ws: [], archiver: [] };
  for (const [name, s] of entries) { const r = composeRole(s); if (r) byRole[r].push([name, s]); }
  if (byRole.api.length === 0) out.push('no api service (build target api)');
  const wsReplicas = byRole.ws.reduce((n, [, s]) => n + Number(s.deploy?.replicas ?? s.scale ?? 1), 0);
  if (wsReplicas < 2) out.push(`want two ws replicas (services with build target ws, or deploy.replicas), found ${wsReplicas}`);
  for (const role of ROLES) {
    for (const [name, s] of byRole[role]) {
      if (!hasHealthcheck(s)) out.push(`service ${name} (${role}): no health check`);
      else {
        const url = /https?:\/\/[^/\s"]+(\/[^\s"?]*)/.exec(commandTokens(s.healthcheck.test).join(' '));
        if (url && !ctx.served[role].has(url[1])) out.push(`service ${name} (${role}): health check asks ${url[1]}, which ${role} does not serve (${[...ctx.served[role]].join(', ')})`);
      }
      const env = envOf(s);
      out.push(...envProblems(`service ${name} (${role}) environment`, role, Object.keys(env), ctx.config));
      if (role !== 'archiver' && !('JWT_SECRET' in env)) out.push(`service ${name} (${role}): JWT_SECRET is not passed in (the service refuses to start without it)`);
    }
  }
  // The archive is optional: `docker compose up` alone must not start it.
  for (const [name, s] of entries) {
    if ((composeRole(s) === 'archiver' || isPostgres(s)) && !(s.profiles ?? []).length) out.push(`service ${name}: part of the optional archive but in no compose profile, so plain \`docker compose up\` starts it`);
  }
  for (const [name, s] of entries) {
    const env = envOf(s);
    if ('JWT_SECRET' in env && !/^\$\{JWT_SECRET:?\?[^}]*\}$/.test(String(env.JWT_SECRET))) {
      out.push(`service ${name}: JWT_SECRET must be required from the environment as \${JWT_SECRET:?message}, not ${JSON.stringify(env.JWT_SECRET)}`);
    }
    if (s.build && typeof s.build === 'object' && s.build.dockerfile) {
      const df = path.resolve(ctx.root, s.build.context ?? '.', s.build.dockerfile);
      if (!existsSync(df)) out.push(`service ${name}: build.dockerfile ${s.build.dockerfile} does not exist`);
    }
  }

  const gateways = entries.filter(([, s]) => publishedPorts(s).some((p) => p.published === 80));
  if (gateways.length !== 1) out.push(`want one service publishing port 80 (the nginx gateway), found ${gateways.map(([n]) => n).join(', ') || 'none'}`);
  for (const [name, s] of gateways) {
    if (!/(^|\/)nginx(:|@|$)/.test(s.image ?? '')) out.push(`service ${name} publishes port 80 but is not the nginx image (image ${s.image})`);
    const mounts = bindMounts(s);
    for (const m of mounts) {
      if (!existsSync(path.resolve(ctx.root, m.source))) out.push(`service ${name}: mounted ${m.source} does not exist in the repository`);
    }
    const nginxDir = path.join(ctx.root, 'deploy', 'nginx');
    for (const f of readdirSync(nginxDir).filter((f) => f.endsWith('.conf'))) {
      if (!mounts.some((m) => path.resolve(ctx.root, m.source) === path.join(nginxDir, f))) out.push(`service ${name}: deploy/nginx/${f} is not mounted`);
    }
    const main = mounts.find((m) => m.target === '/etc/nginx/nginx.conf');
    if (!main) { out.push(`service ${name}: nothing is mounted at /etc/nginx/nginx.conf`); continue; }
    const mainFile = path.resolve(ctx.root, main.source);
    if (!existsSync(mainFile)) continue;
    const conf = readFileSync(mainFile, 'utf8').replace(/#.*$/gm, '');
    for (const [, inc] of conf.matchAll(/\binclude\s+([^;\s]+)\s*;/g)) {
      if (!inc.includes('*') && !NGINX_STOCK.has(inc) && !mounts.some((m) => m.target === inc)) out.push(`service ${name}: ${main.source} includes ${inc}, which no volume mounts`);
    }
    for (const [, up, body] of conf.matchAll(/\bupstream\s+(\S+)\s*\{([^}]*)\}/g)) {
      for (const [, host] of body.matchAll(/\bserver\s+([^:;\s]+)/g)) {
        if (!services[host]) out.push(`service ${name}: upstream ${up} in ${main.source} names ${host}, which is not a compose service`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- deploy/k8s

const subset = (sel, labels) => !!sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels?.[k] === v);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** checkK8s returns the problems of the deploy/k8s documents [{file, obj}]. */
export function checkK8s(docs, ctx) {
  const out = [];
  const workloads = docs.filter((d) => WORKLOADS.has(d.obj.kind));
  const found = { api: 0, ws: 0, archiver: 0 };
  for (const { file, obj } of workloads) {
    const pod = obj.spec?.template?.spec ?? {};
    const labels = obj.spec?.template?.metadata?.labels ?? {};
    for (const c of pod.containers ?? []) {
      const role = ROLE_IMAGE.exec(c.image ?? '')?.[1] ?? (ROLES.includes(c.name) ? c.name : undefined);
      if (!role) continue;
      found[role]++;
      const where = `${file}: ${obj.kind} ${obj.metadata?.name} container ${c.name}`;
      const ports = c.ports ?? [];
      for (const [probe, want] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
        const get = c[probe]?.httpGet;
        if (!get) { out.push(`${where}: no ${probe} with httpGet (want ${want})`); continue; }
        if (get.path !== want) out.push(`${where}: ${probe} asks ${get.path}, want ${want}`);
        if (!ctx.served[role].has(get.path)) out.push(`${where}: ${probe} path ${get.path} is not served by ${role} (it serves ${[...ctx.served[role]].join(', ')})`);
        if (!ports.some((p) => p.name === get.port || p.containerPort === get.port)) out.push(`${where}: ${probe} port ${get.port} is not a port of the container`);
      }
      const req = c.resources?.requests;
      if (!req?.cpu || !req?.memory) out.push(`${where}: resources.requests needs cpu and memory (got ${JSON.stringify(req ?? null)})`);
      const sc = c.securityContext ?? {};
      const psc = pod.securityContext ?? {};
      const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
      const uid = sc.runAsUser ?? psc.runAsUser;
      if (uid === 0 || nonRoot === false || !(nonRoot === true || uid > 0)) out.push(`${where}: not a non-root securityContext (runAsNonRoot: true or runAsUser > 0, in the container or pod; got runAsNonRoot ${nonRoot}, runAsUser ${uid})`);
      if (c.envFrom) out.push(`${where}: envFrom hides variable names from the documentation check; list them under env`);
      const env = c.env ?? [];
      out.push(...envProblems(`${where} env`, role, env.map((e) => e.name), ctx.config));
      if (role === 'ws') {
        const e = env.find((x) => x.name === 'SHUTDOWN_TIMEOUT');
        if (e && e.value === undefined) out.push(`${where}: SHUTDOWN_TIMEOUT must be a literal value so the grace period can be checked`);
        const raw = e?.value ?? ctx.config.get('SHUTDOWN_TIMEOUT')?.default;
        const shutdown = seconds(raw);
        const preStop = Number(c.lifecycle?.preStop?.sleep?.seconds ?? 0);
        const grace = pod.terminationGracePeriodSeconds ?? 30; // the Kubernetes default
        if (!(grace > shutdown + preStop)) out.push(`${where}: terminationGracePeriodSeconds ${grace} must exceed SHUTDOWN_TIMEOUT ${raw} + preStop sleep ${preStop}s, or Kubernetes SIGKILLs the node before its clients are told to reconnect`);
        const pdb = docs.some((d) => d.obj.kind === 'PodDisruptionBudget' && subset(d.obj.spec?.selector?.matchLabels, labels));
        if (!pdb) out.push(`${where}: no PodDisruptionBudget selects the ws pods (labels ${JSON.stringify(labels)})`);
      }
      if (!docs.some((d) => d.obj.kind === 'Service' && subset(d.obj.spec?.selector, labels))) out.push(`${where}: no Service selects its pods`);
    }
  }
  for (const role of ['api', 'ws']) if (!found[role]) out.push(`no Deployment/StatefulSet runs a roomwire/${role} container`);

  for (const { file, obj } of docs.filter((d) => d.obj.kind === 'Service')) {
    const where = `${file}: Service ${obj.metadata?.name}`;
    const pods = workloads.filter((w) => subset(obj.spec?.selector, w.obj.spec?.template?.metadata?.labels));
    if (pods.length === 0) { out.push(`${where}: its selector ${JSON.stringify(obj.spec?.selector)} matches no Deployment/StatefulSet in deploy/k8s`); continue; }
    const cports = pods.flatMap((w) => (w.obj.spec.template.spec.containers ?? []).flatMap((c) => c.ports ?? []));
    for (const p of obj.spec?.ports ?? []) {
      const t = p.targetPort ?? p.port;
      const hit = typeof t === 'string' ? cports.find((c) => c.name === t) : cports.find((c) => c.containerPort === t);
      if (!hit) out.push(`${where}: port ${p.port} targets ${t}, which no selected container declares (${cports.map((c) => `${c.name ?? ''}:${c.containerPort}`).join(', ')})`);
    }
  }
  return out;
}

function loadK8s(root = ROOT) {
  const dir = path.join(root, 'deploy', 'k8s');
  const docs = [];
  const errors = [];
  // Subdirectories too: archive/ holds the optional archiver.
  for (const f of readdirSync(dir, { recursive: true }).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const d of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) {
      if (d.errors.length) errors.push(`deploy/k8s/${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      const obj = d.toJS();
      if (obj) docs.push({ file: `deploy/k8s/${f}`, obj });
    }
  }
  return { docs, errors };
}

// ---------------------------------------------------------------- deploy/Dockerfile

/** dockerStages parses a Dockerfile into stages of instructions. */
export function dockerStages(text) {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  for (const l of lines) {
    const [, cmd, args] = /^(\S+)\s*(.*)$/.exec(l);
    const op = cmd.toUpperCase();
    if (op === 'FROM') {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ base: words[0], name: /^as$/i.test(words[1] ?? '') ? words[2].toLowerCase() : String(stages.length), ins: [] });
    } else if (stages.length) stages.at(-1).ins.push({ op, args });
  }
  return stages;
}

/** checkDockerfile returns the problems of deploy/Dockerfile, given the --target names docker-compose.yml uses. */
export function checkDockerfile(text, targets) {
  const out = [];
  const stages = dockerStages(text);
  const names = new Set(stages.map((s) => s.name));
  const used = new Set();
  for (const s of stages) {
    if (names.has(s.base?.toLowerCase())) used.add(s.base.toLowerCase());
    for (const i of s.ins) for (const [, from] of i.args.matchAll(/--(?:mount=[^\s]*?)?from=([^\s,]+)/g)) used.add(from.toLowerCase());
  }
  const finals = stages.filter((s, i) => i === stages.length - 1 || !used.has(s.name));
  for (const s of finals) {
    const user = s.ins.filter((i) => i.op === 'USER').at(-1)?.args.split(':')[0];
    const ok = user !== undefined && (user === 'nonroot' || (/^\d+$/.test(user) && Number(user) > 0));
    if (ROOT_STAGES[s.name]) {
      if (ok) out.push(`stage ${s.name} is non-root now: drop it from ROOT_STAGES in this test`);
      continue;
    }
    if (!ok) out.push(`final stage ${s.name}: ${user === undefined ? 'no USER' : `USER ${user}`}; want USER <non-zero uid> or nonroot (so Kubernetes' runAsNonRoot can verify it)`);
  }
  for (const name of Object.keys(ROOT_STAGES)) if (!names.has(name)) out.push(`ROOT_STAGES names ${name}, which is no stage any more`);

  let builds = 0;
  for (const s of stages) {
    let cgo;
    for (const i of s.ins) {
      if (i.op === 'ENV' || i.op === 'ARG') {
        const m = /(?:^|\s)CGO_ENABLED(?:=|\s+)"?(\w*)"?/.exec(i.args);
        if (m) cgo = m[1];
      }
      if (i.op !== 'RUN') continue;
      for (const part of i.args.split(/&&|;|\|\|/)) {
        if (!/\bgo\s+build\b/.test(part)) continue;
        builds++;
        const inline = /\bCGO_ENABLED=(\w+)/.exec(part)?.[1];
        if ((inline ?? cgo) !== '0') out.push(`stage ${s.name}: "${part.trim().slice(0, 60)}…" runs with CGO_ENABLED=${inline ?? cgo ?? '(unset: 1 when a C compiler exists)'}; want ENV CGO_ENABLED=0 (static binaries for distroless/static)`);
      }
    }
  }
  if (builds === 0) out.push('no RUN go build found');
  for (const t of targets) if (!names.has(t.toLowerCase())) out.push(`docker-compose.yml builds --target ${t}, which is no stage of deploy/Dockerfile (stages: ${[...names].join(', ')})`);
  return out;
}

const composeTargets = (compose) => Object.values(compose?.services ?? {})
  .filter((s) => s.build && typeof s.build === 'object' && s.build.target && /(^|\/)deploy\/Dockerfile$/.test(s.build.dockerfile ?? ''))
  .map((s) => s.build.target);

// ---------------------------------------------------------------- tests

const report = (file, problems) => {
  if (problems.length) assert.fail(`${file}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
};
const loadCompose = () => parse(read('docker-compose.yml'), { merge: true });

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try { accessSync(path.join(dir, cmd), constants.X_OK); return path.join(dir, cmd); } catch { /* next */ }
  }
  return null;
}
const COMPOSE = onPath('docker-compose');
const composeSkip = SKIP || (COMPOSE ? false : 'the docker-compose command is not installed (Debian: apt-get install docker-compose; .ci/run installs it)');
if (!SKIP && !COMPOSE) console.log(`deploy-files: docker-compose config skipped: ${composeSkip}`);

test('docker-compose config -q accepts docker-compose.yml (also with --profile archive), and refuses it without JWT_SECRET', { skip: composeSkip }, () => {
  const file = path.join(ROOT, 'docker-compose.yml');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deploy-files-'));
  try {
    const envFile = path.join(tmp, 'empty.env'); // no project .env can supply JWT_SECRET
    writeFileSync(envFile, '');
    const run = (env, ...opts) => spawnSync(COMPOSE, ['--env-file', envFile, '-f', file, ...opts, 'config', '-q'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30000 });
    const ok = run({ ...process.env, JWT_SECRET: 'deploy-files-check' });
    assert.equal(ok.status, 0, `docker-compose config -q failed (exit ${ok.status}):\n${ok.stderr}${ok.error ?? ''}`);
    const archive = run({ ...process.env, JWT_SECRET: 'deploy-files-check' }, '--profile', 'archive');
    assert.equal(archive.status, 0, `docker-compose --profile archive config -q failed (exit ${archive.status}):\n${archive.stderr}${archive.error ?? ''}`);
    const { JWT_SECRET: _, ...noSecret } = process.env;
    const bad = run(noSecret);
    assert.notEqual(bad.status, 0, 'docker-compose config accepted docker-compose.yml without JWT_SECRET: it must be required (${JWT_SECRET:?…})');
    assert.match(bad.stderr, /JWT_SECRET/, `without JWT_SECRET docker-compose failed for another reason:\n${bad.stderr}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('docker-compose.yml: Redis with AOF, health checks, two ws replicas, the gateway, documented env, JWT_SECRET required', { skip: SKIP }, () => {
  report('docker-compose.yml', checkCompose(loadCompose(), loadContext()));
});

test('deploy/k8s: probes on served paths, requests, non-root, documented env, grace period, PDB, Service ports', { skip: SKIP }, () => {
  const { docs, errors } = loadK8s();
  report('deploy/k8s', [...errors, ...checkK8s(docs, loadContext())]);
});

test('deploy/Dockerfile: non-root final stages, CGO_ENABLED=0, the compose targets exist', { skip: SKIP }, () => {
  report('deploy/Dockerfile', checkDockerfile(read('deploy/Dockerfile'), composeTargets(loadCompose())));
});

/** catches asserts that breaking a copy (mutate) adds a problem matching re to what check reports. */
function catches(check, original, mutate, re) {
  const base = check(original);
  const broken = structuredClone(original);
  const next = mutate(broken) ?? broken;
  const added = check(next).filter((p) => !base.includes(p));
  assert.ok(added.some((p) => re.test(p)), `want a new problem matching ${re}; new: ${JSON.stringify(added)}`);
}

test('each check catches drift in a broken copy', { skip: SKIP }, async (t) => {
  const ctx = loadContext();
  const compose = loadCompose();
  const svc = (role) => Object.values(compose.services).filter((s) => composeRole(s) === role);
  const wsNames = Object.keys(compose.services).filter((n) => composeRole(compose.services[n]) === 'ws');
  const redisName = Object.keys(compose.services).find((n) => /^redis(:|@|$)/.test(compose.services[n].image ?? ''));
  const gw = Object.keys(compose.services).find((n) => publishedPorts(compose.services[n]).some((p) => p.published === 80));
  assert.ok(redisName && svc('api').length && wsNames.length && gw, 'docker-compose.yml lacks the Redis, api, ws or gateway services the mutations below need');
  const cc = (c) => checkCompose(c, ctx);
  const broken = {
    'Redis without AOF': [(c) => { c.services[redisName].command = ['redis-server']; }, /without AOF/],
    'Redis without health check': [(c) => { delete c.services[redisName].healthcheck; }, /Redis has no health check/],
    'api without health check': [(c) => { for (const s of Object.values(c.services)) if (composeRole(s) === 'api') delete s.healthcheck; }, /\(api\): no health check/],
    'api health check on an unserved path': [(c) => { for (const s of Object.values(c.services)) if (composeRole(s) === 'api') s.healthcheck.test = ['CMD', 'chatctl', 'healthcheck', 'http://localhost:8080/ready']; }, /asks \/ready, which api does not serve/],
    'a ws health check disabled': [(c) => { c.services[wsNames[0]].healthcheck = { disable: true }; }, /\(ws\): no health check/],
    'one ws replica': [(c) => { for (const n of wsNames.slice(1)) delete c.services[n]; c.services[wsNames[0]].deploy = { replicas: 1 }; }, /two ws replicas/],
    'gateway on 8080': [(c) => { c.services[gw].ports = ['8080:80']; }, /publishing port 80/],
    'locations.conf not mounted': [(c) => { c.services[gw].volumes = c.services[gw].volumes.filter((v) => !String(v.source ?? v).includes('locations.conf')); }, /locations\.conf is not mounted|includes .*locations\.conf/],
    'a mount of a missing file': [(c) => { c.services[gw].volumes.push('./deploy/nginx/gone.conf:/etc/nginx/conf.d/gone.conf:ro'); }, /gone\.conf does not exist/],
    'an undocumented api variable': [(c) => { svcIn(c, 'api').environment.ROOMWIRE_TURBO = '1'; }, /ROOMWIRE_TURBO is not in docs\/configuration\.md/],
    'a ws variable on the api': [(c) => { svcIn(c, 'api').environment.WS_ADDR = ':1'; }, /WS_ADDR is set for api, but docs\/configuration\.md documents it for ws only/],
    'a hard-coded JWT_SECRET': [(c) => { c.services[wsNames[0]].environment.JWT_SECRET = 'secret'; }, /JWT_SECRET must be required/],
    'a JWT_SECRET with a default': [(c) => { svcIn(c, 'api').environment.JWT_SECRET = '${JWT_SECRET:-dev}'; }, /JWT_SECRET must be required/],
    'archiver health check on an unserved path': [(c) => { svcIn(c, 'archiver').healthcheck.test = ['CMD', 'chatctl', 'healthcheck', 'http://localhost:8082/ready']; }, /asks \/ready, which archiver does not serve/],
    'an api variable on the archiver': [(c) => { svcIn(c, 'archiver').environment.API_ADDR = ':1'; }, /API_ADDR is set for archiver, but docs\/configuration\.md documents it for api only/],
    'the archiver outside its profile': [(c) => { delete svcIn(c, 'archiver').profiles; }, /part of the optional archive but in no compose profile/],
    'PostgreSQL outside its profile': [(c) => { for (const s of Object.values(c.services)) if (isPostgres(s)) delete s.profiles; }, /part of the optional archive but in no compose profile/],
  };
  function svcIn(c, role) { const s = Object.values(c.services).find((x) => composeRole(x) === role); if (Array.isArray(s.environment)) s.environment = envOf(s); return s; }
  for (const [name, [mutate, re]] of Object.entries(broken)) await t.test(`docker-compose.yml: ${name}`, () => catches(cc, compose, mutate, re));

  const { docs } = loadK8s();
  const ck = (d) => checkK8s(d, ctx);
  const container = (d, role) => d.find((x) => WORKLOADS.has(x.obj.kind) && x.obj.spec.template.spec.containers.some((c) => c.image.includes(`roomwire/${role}`)));
  const c0 = (d, role) => container(d, role).obj.spec.template.spec.containers.find((c) => c.image.includes(`roomwire/${role}`));
  const k8s = {
    'ws readiness on /ready': [(d) => { c0(d, 'ws').readinessProbe.httpGet.path = '/ready'; }, /readinessProbe path \/ready is not served by ws/],
    'api liveness on /readyz': [(d) => { c0(d, 'api').livenessProbe.httpGet.path = '/readyz'; }, /livenessProbe asks \/readyz, want \/healthz/],
    'api without liveness probe': [(d) => { delete c0(d, 'api').livenessProbe; }, /no livenessProbe/],
    'probe on an undeclared port': [(d) => { c0(d, 'ws').readinessProbe.httpGet.port = 9999; }, /port 9999 is not a port/],
    'ws without requests': [(d) => { delete c0(d, 'ws').resources.requests; }, /resources\.requests/],
    'api running as root': [(d) => { container(d, 'api').obj.spec.template.spec.securityContext = { runAsUser: 0 }; delete c0(d, 'api').securityContext?.runAsNonRoot; }, /not a non-root securityContext/],
    'an undocumented ws variable': [(d) => { c0(d, 'ws').env.push({ name: 'WS_TURBO', value: '1' }); }, /WS_TURBO is not in docs\/configuration\.md/],
    'short ws grace period': [(d) => { container(d, 'ws').obj.spec.template.spec.terminationGracePeriodSeconds = 12; }, /terminationGracePeriodSeconds 12 must exceed/],
    'ws SHUTDOWN_TIMEOUT above the grace period': [(d) => { c0(d, 'ws').env = c0(d, 'ws').env.filter((e) => e.name !== 'SHUTDOWN_TIMEOUT').concat({ name: 'SHUTDOWN_TIMEOUT', value: '1m' }); }, /must exceed SHUTDOWN_TIMEOUT 1m/],
    'no ws PodDisruptionBudget': [(d) => d.filter((x) => !(x.obj.kind === 'PodDisruptionBudget' && subset(x.obj.spec.selector.matchLabels, container(d, 'ws').obj.spec.template.metadata.labels))), /no PodDisruptionBudget selects the ws pods/],
    'Service targetPort drift': [(d) => { d.find((x) => x.obj.kind === 'Service').obj.spec.ports[0].targetPort = 'web'; }, /targets web, which no selected container declares/],
    'Service port number drift': [(d) => { for (const x of d) if (x.obj.kind === 'Service') x.obj.spec.ports[0].targetPort = 9090; }, /targets 9090/],
    'archiver readiness on /ready': [(d) => { c0(d, 'archiver').readinessProbe.httpGet.path = '/ready'; }, /readinessProbe path \/ready is not served by archiver/],
    'a ws variable on the archiver': [(d) => { c0(d, 'archiver').env.push({ name: 'WS_ADDR', value: ':1' }); }, /WS_ADDR is set for archiver, but docs\/configuration\.md documents it for ws only/],
    'archiver without a Service': [(d) => d.filter((x) => !(x.obj.kind === 'Service' && x.obj.metadata.name === 'roomwire-archiver')), /container archiver: no Service selects its pods/],
  };
  for (const [name, [mutate, re]] of Object.entries(k8s)) await t.test(`deploy/k8s: ${name}`, () => catches(ck, docs, mutate, re));

  const dockerfile = read('deploy/Dockerfile');
  const targets = composeTargets(compose);
  const cd = (x) => checkDockerfile(x.text, x.targets);
  const df = {
    'ws stage without USER': [(x) => ({ ...x, text: x.text.replace(/(FROM [^\n]* AS ws\n(?:(?!FROM)[^\n]*\n)*?)USER [^\n]*\n/i, '$1') }), /final stage ws: no USER/],
    'api stage as root': [(x) => ({ ...x, text: x.text.replace(/(FROM [^\n]* AS api\n(?:(?!FROM)[^\n]*\n)*?)USER [^\n]*\n/i, '$1USER root\n') }), /final stage api: USER root/],
    'cgo on': [(x) => ({ ...x, text: x.text.replace(/ENV CGO_ENABLED=0/, 'ENV CGO_ENABLED=1') }), /CGO_ENABLED=1; want ENV CGO_ENABLED=0/],
    'cgo unset': [(x) => ({ ...x, text: x.text.replace(/ENV CGO_ENABLED=0\n/, '') }), /CGO_ENABLED=\(unset/],
    'a compose target that is no stage': [(x) => ({ ...x, targets: [...x.targets, 'worker'] }), /--target worker, which is no stage/],
  };
  for (const [name, [mutate, re]] of Object.entries(df)) await t.test(`deploy/Dockerfile: ${name}`, () => catches(cd, { text: dockerfile, targets }, mutate, re));
});
