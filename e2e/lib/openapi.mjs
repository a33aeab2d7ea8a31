// The REST contract check: every request System.api() makes and every answer
// it gets are held to api/openapi.yaml, so the end-to-end suite fails when
// the code and the document drift apart.
//
// Per exchange:
//   - the request: its path and method exist in the spec, path and query
//     parameters match their schemas (no undocumented query parameters), a
//     bearer token is sent where the operation needs one, and the JSON body
//     matches the request body schema (none where the operation takes none);
//   - the answer: its status is documented for the operation, its
//     Content-Type is one the status declares, required headers are present
//     and valid, the body matches the declared schema, and every 4xx/5xx is
//     an application/problem+json Problem whose status is the HTTP status.
//
// A test that sends an off-spec request on purpose (hostile input, a
// missing token) passes { offSpec: 'why' }: the request's own violations
// are then expected, the answer must be a 4xx documented for the operation
// (404/405 problems for unknown paths/methods), and a request so marked
// that turns out to conform is itself reported, so marks cannot go stale.
//
// OpenAPI 3.1 schemas are JSON Schema 2020-12: ajv/dist/2020 with
// ajv-formats checks them, $refs resolved inside the one loaded document.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

/** SPEC_FILE is the repository's api/openapi.yaml. */
export const SPEC_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'api', 'openapi.yaml');

const SPEC_ID = 'https://roomwire.invalid/openapi.yaml';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** SpecViolation is thrown by checkExchange; its message lists every violation. */
export class SpecViolation extends Error {
  constructor(message, violations) {
    super(message);
    this.name = 'SpecViolation';
    this.violations = violations;
  }
}

const loaded = new Map();

/** loadSpec parses an OpenAPI document once per file (default: api/openapi.yaml). */
export function loadSpec(file = SPEC_FILE) {
  const name = path.relative(path.resolve(SPEC_FILE, '..', '..'), file);
  if (!loaded.has(file)) loaded.set(file, new Spec(YAML.parse(readFileSync(file, 'utf8')), name));
  return loaded.get(file);
}

/**
 * checkExchange validates one request and its answer against the spec and
 * throws a SpecViolation naming every mismatch.
 * req: { method, url (path and query), token, body (a JSON value, undefined for none), offSpec }
 * res: { status, headers (Headers or a plain object), text }
 */
export function checkExchange(req, res, spec = loadSpec()) {
  const violations = spec.check(req, res);
  if (violations.length) throw new SpecViolation(describe(spec, req, res, violations), violations);
}

export class Spec {
  constructor(doc, name = 'openapi.yaml') {
    this.doc = doc;
    this.name = name;
    this.ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: SPEC_ID });
    this.validators = new Map();
    // Literal segments before templated ones: /a/b wins over /a/{x}.
    this.routes = Object.keys(doc.paths ?? {}).map((template) => {
      const names = [];
      const source = template.split('/').map((seg) => {
        const m = /^\{(.+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]);
        return '([^/]+)';
      }).join('/');
      return { template, names, re: new RegExp(`^${source}$`) };
    }).sort((a, b) => a.names.length - b.names.length);
  }

  /** check returns the violations of one exchange (see checkExchange), as strings. */
  check(req, res) {
    const method = req.method.toLowerCase();
    const url = new URL(req.url, 'http://spec.invalid');
    const out = { request: [], response: [] };
    const route = this.#route(url.pathname);
    let op;
    let opPointer;
    let fallback; // the response every answer must be when no operation applies
    if (!route) {
      out.request.push(`path ${url.pathname} is not in the spec`);
      fallback = this.#deref('#/components/responses/NotFound');
    } else if (!this.doc.paths[route.template][method]) {
      out.request.push(`${req.method.toUpperCase()} is not an operation of ${route.template}`);
      fallback = this.#deref('#/components/responses/MethodNotAllowed');
    } else {
      op = this.doc.paths[route.template][method];
      opPointer = `#/paths/${esc(route.template)}/${method}`;
      this.#checkRequest(req, url, route, op, opPointer, out.request);
    }

    const status = String(res.status);
    const headers = new Headers(res.headers ?? {});
    if (op) {
      const key = [status, `${status[0]}XX`, 'default'].find((k) => op.responses?.[k]);
      if (!key) out.response.push(`status ${status} is not documented for ${req.method.toUpperCase()} ${route.template} (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
      else this.#checkResponse(this.#deref(`${opPointer}/responses/${esc(key)}`), res, headers, out.response);
    } else if (fallback) {
      const want = route ? 405 : 404;
      if (res.status !== want) out.response.push(`an unknown ${route ? 'method' : 'path'} must be answered ${want}, got ${status}`);
      else this.#checkResponse(fallback, res, headers, out.response);
    }
    if (res.status >= 400) this.#checkProblem(res, headers, out.response);

    const refused = out.request.length > 0;
    if (refused && res.status < 400) out.response.push(`the spec refuses this request, yet it was answered ${status}`);
    const violations = out.response.map((v) => `response: ${v}`);
    if (req.offSpec && !refused) violations.push('request: marked offSpec but it conforms to the spec: drop the mark');
    if (!req.offSpec) violations.unshift(...out.request.map((v) => `request: ${v}`));
    return violations;
  }

  #route(pathname) {
    for (const r of this.routes) {
      const m = r.re.exec(pathname);
      if (!m) continue;
      const params = {};
      r.names.forEach((n, i) => {
        try { params[n] = decodeURIComponent(m[i + 1]); } catch { params[n] = m[i + 1]; }
      });
      return { ...r, params };
    }
    return undefined;
  }

  #checkRequest(req, url, route, op, opPointer, out) {
    // Parameters: the path item's, overridden by the operation's.
    const params = new Map();
    const item = `#/paths/${esc(route.template)}`;
    for (const [base, list] of [[item, this.doc.paths[route.template].parameters], [opPointer, op.parameters]]) {
      (list ?? []).forEach((_, i) => {
        const p = this.#deref(`${base}/parameters/${i}`);
        params.set(`${p.value.in}:${p.value.name}`, p);
      });
    }
    const queryNames = new Set(url.searchParams.keys());
    for (const { value: p, pointer } of params.values()) {
      let raw;
      if (p.in === 'path') raw = route.params[p.name];
      else if (p.in === 'query') {
        queryNames.delete(p.name);
        const all = url.searchParams.getAll(p.name);
        raw = all.length === 0 ? undefined : p.schema?.type === 'array' ? all : all.length === 1 ? all[0] : all;
        if (Array.isArray(raw) && p.schema?.type !== 'array') {
          out.push(`query parameter ${p.name} is given ${raw.length} times`);
          continue;
        }
      } else continue; // header and cookie parameters: none in this API
      if (raw === undefined) {
        if (p.required) out.push(`${p.in} parameter ${p.name} is required`);
        continue;
      }
      const v = this.#validator(`${pointer}/schema`);
      if (!v(coerce(raw, p.schema))) out.push(`${p.in} parameter ${p.name}=${JSON.stringify(raw)}: ${errors(v)}`);
    }
    for (const n of queryNames) out.push(`query parameter ${n} is not documented`);

    const security = op.security ?? this.doc.security ?? [];
    const needsBearer = security.length > 0 && security.every((s) => Object.keys(s).length > 0);
    if (needsBearer && !req.token) out.push('the operation needs a bearer token and none was sent');

    if (req.body === undefined) {
      if (op.requestBody && this.#deref(`${opPointer}/requestBody`).value.required) out.push('the operation requires a body and none was sent');
      return;
    }
    if (!op.requestBody) {
      out.push('the operation takes no body, yet one was sent');
      return;
    }
    const rb = this.#deref(`${opPointer}/requestBody`);
    if (!rb.value.content?.['application/json']) {
      out.push(`the body is JSON, the operation takes ${Object.keys(rb.value.content ?? {}).join(', ')}`);
      return;
    }
    const v = this.#validator(`${rb.pointer}/content/application~1json/schema`);
    if (!v(req.body)) out.push(`body: ${errors(v)}`);
  }

  #checkResponse({ value: resp, pointer }, res, headers, out) {
    for (const [name] of Object.entries(resp.headers ?? {})) {
      const { value: h, pointer: hp } = this.#deref(`${pointer}/headers/${esc(name)}`);
      const got = headers.get(name);
      if (got === null) {
        if (h.required) out.push(`header ${name} is required`);
        continue;
      }
      if (h.schema) {
        const v = this.#validator(`${hp}/schema`);
        if (!v(coerce(got, h.schema))) out.push(`header ${name}: ${JSON.stringify(got)}: ${errors(v)}`);
      }
    }
    const text = res.text ?? '';
    const content = resp.content ?? {};
    if (Object.keys(content).length === 0) {
      if (text !== '') out.push(`status ${res.status} declares no body, yet one came: ${text.slice(0, 200)}`);
      return;
    }
    const type = (headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const media = Object.keys(content).find((m) => mediaMatches(m, type));
    if (!media) {
      out.push(`Content-Type ${JSON.stringify(type)} is not declared for status ${res.status} (declared: ${Object.keys(content).join(', ')})`);
      return;
    }
    if (!content[media].schema || !isJSON(type)) return; // text bodies (metrics, YAML, HTML) are not schema-checked
    let body;
    try { body = JSON.parse(text); } catch { out.push(`the ${type} body is not JSON: ${text.slice(0, 200)}`); return; }
    const v = this.#validator(`${pointer}/content/${esc(media)}/schema`);
    if (!v(body)) out.push(`body: ${errors(v)}`);
  }

  #checkProblem(res, headers, out) {
    const type = (headers.get('content-type') ?? '').split(';')[0].trim();
    if (type !== 'application/problem+json') {
      out.push(`a ${res.status} must be application/problem+json, got ${JSON.stringify(type)}`);
      return;
    }
    let body;
    try { body = JSON.parse(res.text ?? ''); } catch { return; } // reported by #checkResponse
    const v = this.#validator('#/components/schemas/Problem');
    if (!v(body)) out.push(`problem: ${errors(v)}`);
    else if (body.status !== res.status) out.push(`problem status ${body.status} is not the HTTP status ${res.status}`);
  }

  /** #deref follows $refs from a pointer ('#/a/b') to the object and its pointer. */
  #deref(pointer) {
    for (let hops = 0; hops < 20; hops++) {
      const value = pointer.slice(2).split('/').reduce((o, seg) => o?.[unesc(seg)], this.doc);
      if (value === undefined) throw new Error(`${this.name}: ${pointer} does not exist`);
      if (typeof value.$ref !== 'string' || !value.$ref.startsWith('#/')) return { value, pointer };
      pointer = value.$ref;
    }
    throw new Error(`${this.name}: $ref loop at ${pointer}`);
  }

  #validator(pointer) {
    let v = this.validators.get(pointer);
    if (!v) {
      const fragment = pointer.slice(1).split('/').map((s) => encodeURIComponent(s)).join('/');
      v = this.ajv.compile({ $ref: `${SPEC_ID}#${fragment}` });
      this.validators.set(pointer, v);
    }
    return v;
  }
}

/** esc escapes one JSON pointer segment. */
const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unesc = (s) => s.replace(/~1/g, '/').replace(/~0/g, '~');

function mediaMatches(declared, type) {
  if (declared === '*/*' || declared === type) return true;
  return declared.endsWith('/*') && type.startsWith(declared.slice(0, -1));
}

const isJSON = (type) => type === 'application/json' || type.endsWith('+json');

/** coerce turns a parameter's or header's text into the type its schema names. */
function coerce(raw, schema = {}) {
  if (Array.isArray(raw)) return raw.map((r) => coerce(r, schema.items));
  const types = [].concat(schema.type ?? []);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function errors(v) {
  return (v.errors ?? []).map((e) => {
    const where = e.instancePath || '(root)';
    const extra = e.params?.additionalProperty ?? e.params?.unevaluatedProperty;
    return `${where} ${e.message}${extra ? ` (${JSON.stringify(extra)})` : ''}`;
  }).join('; ');
}

function describe(spec, req, res, violations) {
  const sent = req.body === undefined ? '' : ` ${JSON.stringify(req.body).slice(0, 300)}`;
  const type = new Headers(res.headers ?? {}).get('content-type') ?? '';
  return [
    `${req.method.toUpperCase()} ${req.url} -> ${res.status} breaks ${spec.name}:`,
    ...violations.map((v) => `  - ${v}`),
    `  request:${sent || ' (no body)'}${req.token ? ' [bearer token]' : ' [no token]'}${req.offSpec ? ` [offSpec: ${req.offSpec}]` : ''}`,
    `  answer: HTTP ${res.status} ${type} ${(res.text ?? '').slice(0, 500)}`,
    '  (fix the code or api/openapi.yaml; a request that is off-spec on purpose passes { offSpec: \'why\' } to sys.api)',
  ].join('\n');
}
