import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { invalid } from '../lib/errors.ts';
import { type ApiRequest, readJson } from './router.ts';

/**
 * Request bodies checked the way dockerd's Go decoder checks them (encoding/json into the API's
 * structs), so a wrong type is a 400 naming the field and its type and nothing is stored:
 *
 * - every field has its Go type: strings, bools, sized integers (a fraction, or a value out of the
 *   type's range, is refused), arrays, maps and structs;
 * - unknown fields are ignored and dropped (the normalized value has only the schema's fields, as the Go
 *   struct has only its own), and keys match fields case-insensitively when no key matches exactly;
 * - `null` is accepted everywhere: a struct field set to null is left unset (Go: nil pointer, nil
 *   slice or map, or "no effect" on a scalar), a null map value or array element is its type's zero;
 * - a strslice (Cmd, Entrypoint, Shell, CapAdd, CapDrop) is also a single string.
 *
 * Schemas are plain JSON Schema built with the helpers below, one file per resource in api/schemas/.
 * Each is compiled once, on its first use (ajv, ~8 MB, is loaded only then, as daemon/config.ts does).
 */
export type Schema = Record<string, unknown>;

/** Go integer types and their ranges (int is 64-bit on every platform dockerd runs on). */
const INT_RANGES = {
  int: [-(2 ** 63), 2 ** 63 - 1], int64: [-(2 ** 63), 2 ** 63 - 1], int32: [-(2 ** 31), 2 ** 31 - 1],
  uint: [0, 2 ** 64 - 1], uint64: [0, 2 ** 64 - 1], uint32: [0, 2 ** 32 - 1], uint16: [0, 2 ** 16 - 1],
} as const;
export type GoInt = keyof typeof INT_RANGES;

// Marks what the normalizer needs to know beyond JSON Schema; ajv ignores them (annotation keywords).
const GO = 'x-go';
const STRSLICE = 'x-strslice';

export const str = (): Schema => ({ type: 'string', [GO]: 'string' });
export const bool = (): Schema => ({ type: 'boolean', [GO]: 'bool' });
export const int = (go: GoInt = 'int64'): Schema => ({ type: 'integer', minimum: INT_RANGES[go][0], maximum: INT_RANGES[go][1], [GO]: go });
/** Go's []T; null (and a null element's zero value) included. */
export const array = (items: Schema): Schema => ({ type: ['array', 'null'], items, [GO]: `[]${goName(items)}` });
/** Go's map[string]T. */
export const map = (values: Schema): Schema => ({ type: ['object', 'null'], additionalProperties: values, [GO]: `map[string]${goName(values)}` });
/** A Go struct (or a pointer to one): named fields, anything else ignored. */
export const struct = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties, [GO]: 'object' });
/** docker's strslice.StrSlice: an array of strings, or one string. */
export const strslice = (): Schema => ({ ...array(str()), [STRSLICE]: true });
export const strings = (): Schema => array(str());
export const stringMap = (): Schema => map(str());
/** Anything (a field berth does not read but Go would decode into an interface). */
export const any = (): Schema => ({});

function goName(s: Schema): string {
  return typeof s[GO] === 'string' ? s[GO] : 'value';
}

let ajv: Ajv | undefined;

/** Checks a decoded JSON value against a body schema, after applying Go's decoding rules to it. */
export interface BodyValidator<T> {
  /**
   * The value, normalized as Go would decode it (nulls, key case, strslices, unknown struct fields
   * dropped; map keys are kept), or null for a null body.
   * @throws EngineError InvalidParameter naming the field and the expected type
   */
  check(value: unknown, what?: string): T | null;
}

/** A validator for one body schema; made where routes are made, compiled once on first use. */
export function bodyValidator<T>(schema: Schema): BodyValidator<T> {
  let validate: ValidateFunction | undefined;
  return {
    check(value: unknown, what = 'body'): T | null {
      if (value === null) return null;
      if (!validate) {
        if (!ajv) {
          const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
          ajv = new AjvClass({ allErrors: false, strict: false, verbose: true });
        }
        validate = ajv.compile(schema);
      }
      const normalized = normalize(value, schema);
      if (!validate(normalized)) throw invalid(describe(validate.errors?.[0], what));
      return normalized as T;
    },
  };
}

/** Go's zero value for a null map value or array element. Nil slices and maps stay null. */
function zeroOf(s: Schema): unknown {
  switch (s[GO]) {
    case 'string': return '';
    case 'bool': return false;
    case 'object': return {};
    case undefined: return null;
    default: return typeof s[GO] === 'string' && s[GO] in INT_RANGES ? 0 : null;
  }
}

const foldedKeys = new WeakMap<Schema, Map<string, string>>();

/** Applies Go's decoding leniencies in place (the value is fresh from JSON.parse). */
function normalize(value: unknown, s: Schema): unknown {
  if (s[STRSLICE] && typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = s['items'] as Schema | undefined;
    if (!items || !isArrayType(s)) return value;
    return value.map((v) => (v === null ? zeroOf(items) : normalize(v, items)));
  }
  const obj = value as Record<string, unknown>;
  const props = s['properties'] as Record<string, Schema> | undefined;
  if (props) {
    let folded = foldedKeys.get(s);
    if (!folded) {
      folded = new Map(Object.keys(props).map((k) => [k.toLowerCase(), k]));
      foldedKeys.set(s, folded);
    }
    for (const key of Object.keys(obj)) {
      let field = key;
      if (!Object.hasOwn(props, key)) {
        const canonical = folded.get(key.toLowerCase());
        if (canonical === undefined) {
          // Go ignores an unknown field and so never stores it: neither do we (nor show it in inspect).
          delete obj[key];
          continue;
        }
        field = canonical;
        obj[field] = obj[key];
        delete obj[key];
      }
      if (obj[field] === null) delete obj[field];
      else obj[field] = normalize(obj[field], props[field]!);
    }
    return obj;
  }
  const values = s['additionalProperties'];
  if (values && typeof values === 'object') {
    for (const key of Object.keys(obj)) {
      obj[key] = obj[key] === null ? zeroOf(values as Schema) : normalize(obj[key], values as Schema);
    }
  }
  return obj;
}

function isArrayType(s: Schema): boolean {
  const t = s['type'];
  return t === 'array' || (Array.isArray(t) && t.includes('array'));
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** A field path as people write it: HostConfig.Binds[0], Labels["com.example.x"]. */
function fieldPath(instancePath: string, what: string): string {
  if (instancePath === '') return what;
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Go's wording, with the field as the client wrote it: `json: cannot unmarshal string into HostConfig.Memory of type int64`. */
function describe(e: ErrorObject | undefined, what: string): string {
  if (!e) return `json: cannot unmarshal ${what}`;
  const field = fieldPath(e.instancePath, what);
  const goType = goName((e.parentSchema ?? {}) as Schema);
  const data: unknown = e.data;
  const kind = jsonTypeOf(data);
  // Go names the value only when the type was right but the number was not (a fraction, out of range).
  const got = kind === 'number' && goType in INT_RANGES ? `number ${String(data)}` : kind;
  const expected = goType === 'object' ? 'object' : goType === 'value' ? String((e.params as { type?: unknown }).type ?? 'value') : goType;
  return `json: cannot unmarshal ${got} into ${field} of type ${expected}`;
}

/**
 * Reads a JSON body (capped, see readJson) and checks it; an empty or null body is null.
 * @throws EngineError InvalidParameter for malformed JSON, a body too large, or a wrong type
 */
export async function readBody<T>(req: ApiRequest, validator: BodyValidator<T>): Promise<T | null> {
  return validator.check(await readJson<unknown>(req, null));
}
