import type { z } from "zod";
import { configSchema } from "./config-schema.js";

/**
 * Turns zod's validation issues into what an operator can act on: the dotted
 * key (`capture.poll_interval_ms`), what is wrong, and where a secret may come
 * from instead. Values are echoed only for keys that cannot hold a secret.
 */

export interface ConfigIssue {
  /** Dotted TOML key, e.g. `crm.token`, `writeback.status_map.paid`, `crm.signing_secrets[1]`. */
  key: string;
  message: string;
}

type ZodIssue = z.core.$ZodIssue;

export interface IssueContext {
  /** The document that was validated (after env secrets were applied). */
  input: unknown;
  /** Keys that may be set from the environment instead: dotted key -> env name. */
  envAlternatives: ReadonlyMap<string, string>;
}

export function describeConfigIssues(issues: readonly ZodIssue[], context: IssueContext): ConfigIssue[] {
  const described: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const name of issue.keys) {
        const key = dottedKey([...issue.path, name]);
        const suggestion = closestKnownKey(issue.path, name);
        const hint =
          suggestion === undefined ? "" : ` (did you mean "${dottedKey([...issue.path, suggestion])}"?)`;
        described.push({ key, message: `unknown key "${key}"${hint}` });
      }
      continue;
    }
    const key = dottedKey(issue.path);
    described.push({ key, message: describeIssue(issue, valueAt(context.input, issue.path), key, context) });
  }
  return described;
}

function describeIssue(issue: ZodIssue, value: unknown, key: string, context: IssueContext): string {
  switch (issue.code) {
    case "invalid_type": {
      if (value === undefined) {
        const env = context.envAlternatives.get(key);
        return env === undefined ? "required" : `required (or set ${env})`;
      }
      if (issue.expected === "int" && typeof value === "number") return "must be a whole number";
      // TOML reads an unquoted 2024-05-01 as a date; capture.start_from wants the text.
      if (issue.expected === "string" && value instanceof Date)
        return "expected a string, got a date (put it in quotes)";
      return `expected ${typeDescription(issue.expected)}, got ${valueTypeName(value)}`;
    }
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
      return `must be ${issue.inclusive === false ? "more than" : "at least"} ${issue.minimum}${unitOf(issue.origin)}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}${unitOf(issue.origin)}`;
    case "invalid_value": {
      const options = issue.values.map((v) => JSON.stringify(v));
      return options.length === 1 ? `expected ${options[0]}` : `expected one of ${options.join(", ")}`;
    }
    case "invalid_union": {
      const alternatives = issue.errors.flatMap((branch) =>
        branch.map((inner) => describeIssue(inner, value, key, context)),
      );
      return [...new Set(alternatives)].join(" or ") || issue.message;
    }
    case "invalid_key":
      return `invalid key: ${issue.issues.map((inner) => describeIssue(inner, undefined, key, context)).join("; ")}`;
    default:
      return withValue(issue.message, value, key);
  }
}

/** `unknown IANA time zone ("Mars/Base")`: showing the value helps, unless it could be a secret. */
function withValue(message: string, value: unknown, key: string): string {
  if (typeof value !== "string" || /token|secret|password|url/i.test(key)) return message;
  const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  return `${message} (got ${JSON.stringify(shown)})`;
}

function unitOf(origin: string): string {
  if (origin === "string") return " characters";
  if (origin === "array" || origin === "set") return " items";
  return "";
}

function typeDescription(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a table",
    record: "a table",
    array: "an array",
  };
  return names[expected] ?? expected;
}

/** In TOML words: a table, an array, a date... */
export function valueTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a table";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}

/** `crm.token`, `writeback.status_map."in transit"`, `crm.signing_secrets[1]`. */
export function dottedKey(path: readonly PropertyKey[]): string {
  let key = "";
  for (const part of path) {
    if (typeof part === "number") key += `[${part}]`;
    else {
      const name = String(part);
      const bare = /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
      key = key === "" ? bare : `${key}.${bare}`;
    }
  }
  return key;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** The schema's own key at that table closest to a misspelt one (edit distance <= 2). */
function closestKnownKey(tablePath: readonly PropertyKey[], name: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const known of knownKeysAt(tablePath)) {
    const distance = editDistance(name.toLowerCase(), known);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: known, distance };
  }
  return best?.key;
}

/** Keys of the strict object at `path`, looking through .prefault()/.default()/.optional() wrappers. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = configSchema;
  for (const part of [...path, undefined]) {
    for (let guard = 0; guard < 8; guard++) {
      const inner = (schema as { _zod?: { def?: { innerType?: unknown } } })._zod?.def?.innerType;
      if (inner === undefined) break;
      schema = inner;
    }
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (shape === undefined) return [];
    if (part === undefined) return Object.keys(shape);
    schema = shape[String(part)];
  }
  return [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
