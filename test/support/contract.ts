import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * The contract check: every JSON answer a test receives through `call()` is validated against
 * the service's own /openapi.json — the operation of its route, the response of its status,
 * the schema of its media type — so code and document cannot drift apart unnoticed.
 */

interface MediaType {
  schema?: object;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  responses?: Record<string, ResponseObject>;
}
export interface ContractDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
}

interface Template {
  path: string;
  pattern: RegExp;
  /** Exact paths first, then parameters, then wildcards; longer literal text first within each. */
  rank: [number, number];
}

interface Compiled {
  doc: ContractDocument;
  templates: Template[];
  validators: Map<string, ValidateFunction>;
}

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateFormats: true }));
const documents = new Map<string, Promise<Compiled | null>>();
let schemaIds = 0;

function templateOf(path: string): Template {
  const literal = path.replace(/\{[^}]*\}/g, '');
  const wildcard = path.endsWith('{*}');
  const params = /\{[^}]*\}/.test(path);
  const source = path
    .split(/(\{[^}]*\})/)
    .map((part) => (part === '{*}' ? '.*' : part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return { path, pattern: new RegExp(`^${source}$`), rank: [wildcard ? 2 : params ? 1 : 0, -literal.length] };
}

async function load(base: string): Promise<Compiled | null> {
  let res: Response;
  try {
    res = await fetch(`${base}/openapi.json`);
  } catch {
    return null;
  }
  if (res.status !== 200) return null;
  const doc = (await res.json()) as ContractDocument;
  const templates = Object.keys(doc.paths)
    .map(templateOf)
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
  return { doc, templates, validators: new Map() };
}

/** The service's document (fetched once per base URL; null where there is none). */
export function contractDocument(base: string): Promise<Compiled | null> {
  let found = documents.get(base);
  if (!found) {
    found = load(base);
    documents.set(base, found);
    // a server that was not up yet is asked again next time
    void found.then((d) => {
      if (d === null) documents.delete(base);
    });
  }
  return found;
}

function validatorFor(compiled: Compiled, key: string, schema: object): ValidateFunction {
  let v = compiled.validators.get(key);
  if (!v) {
    // the document's components ride along so `#/components/schemas/…` resolves as in the document
    v = ajv.compile({ $id: `contract-${++schemaIds}`, components: compiled.doc.components, ...schema });
    compiled.validators.set(key, v);
  }
  return v;
}

export interface ReceivedAnswer {
  method: string;
  /** Path and query as requested. */
  path: string;
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

/**
 * Problems of one answer against the document; empty when it conforms, or when the request
 * matched no documented operation (an unknown path or method is the kernel's 404).
 */
export function contractProblems(compiled: Compiled, answer: ReceivedAnswer): string[] {
  let path = answer.path.split('?')[0] ?? '/';
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) return [];
  const method = answer.method.toLowerCase() === 'head' ? 'get' : answer.method.toLowerCase();
  const template = compiled.templates.find((t) => t.pattern.test(path) && compiled.doc.paths[t.path]?.[method]);
  if (!template) return [];
  const label = `${answer.method} ${template.path} → ${answer.status}`;
  const responses = compiled.doc.paths[template.path]?.[method]?.responses ?? {};
  const response = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`] ?? responses.default;
  if (!response) return [`${label}: status not documented (documented: ${Object.keys(responses).join(', ')})`];
  const mediaType = (answer.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!response.content) return answer.text === '' ? [] : [`${label}: documented without a body, answered ${JSON.stringify(answer.text.slice(0, 80))}`];
  // only JSON answers are checked against a schema (static files, index.html and the accrual's
  // text/plain 429 are not JSON)
  if (!/^application\/([\w.+-]*\+)?json$/.test(mediaType)) return [];
  if (answer.text === '') return [];
  const media = response.content['application/json'];
  if (!media) return [`${label}: answered JSON, documented ${Object.keys(response.content).join(', ')}`];
  if (!media.schema) return [];
  const validate = validatorFor(compiled, `${method} ${template.path} ${answer.status}`, media.schema);
  if (validate(answer.json)) return [];
  return [`${label}: body ${answer.text.slice(0, 200)} does not match the documented schema: ${ajv.errorsText(validate.errors)}`];
}

/** Throws when the answer does not conform to its service's document. */
export async function assertAnswerConforms(base: string, answer: ReceivedAnswer): Promise<void> {
  const compiled = await contractDocument(base);
  if (!compiled) return;
  const problems = contractProblems(compiled, answer);
  if (problems.length > 0) throw new Error(`contract check (${base}/openapi.json): ${problems.join('; ')}`);
}

/** The document is valid OpenAPI 3 (checked by a full validator of the specification's schema). */
export async function openApiProblems(doc: object): Promise<string[]> {
  const result = await new Validator().validate(doc as never);
  if (result.valid) return [];
  return Array.isArray(result.errors) ? result.errors.map((e) => `${e.instancePath} ${e.message ?? ''}`.trim()) : [String(result.errors)];
}
