import type { Catalog } from '../catalog/catalog.js';
import { schemasOf, type JsonSchema } from '../catalog/json-schema.js';
import type { CliSpec, HttpMethod, Operation } from '../catalog/operation.js';

/** One input field as the command line sees it. */
export interface FieldSpec {
  name: string;
  /** JSON type: string, integer, number, boolean, array, object. */
  type: string;
  required: boolean;
  description?: string;
  default?: unknown;
  enum?: string[];
  format?: string;
  /** null is a value it takes (clearing it): the word `null` on the command line. */
  nullable?: boolean;
}

/**
 * A catalog operation described for the command line only: what help, argument
 * parsing and output formatting need, as plain JSON. The build writes these to
 * dist/cli/commands.json, so `supervisor --help` and calls through the daemon
 * never load the catalog, zod or any domain.
 */
export interface CommandSpec {
  name: string;
  domain: string;
  title: string;
  description: string;
  access: 'admin' | 'any';
  readOnly: boolean;
  rest: { method: HttpMethod; path: string };
  cli: CliSpec;
  input: FieldSpec[];
  /** Top-level output fields, and for arrays of objects the fields of their items. */
  output: Array<{ name: string; type: string; format?: string; items?: Array<{ name: string; type: string; format?: string }> }>;
}

/** A group of commands (`supervisor secrets …`) with what its domain is for. */
export interface GroupSpec {
  name: string;
  description: string;
}

export interface CommandManifest {
  version: 1;
  groups: GroupSpec[];
  commands: CommandSpec[];
}

function typeOf(prop: JsonSchema): string {
  if (typeof prop.type === 'string') return prop.type;
  if (Array.isArray(prop.type)) return (prop.type as string[]).find((t) => t !== 'null') ?? 'string';
  const variants = (prop.anyOf ?? prop.oneOf) as JsonSchema[] | undefined;
  return variants?.map(typeOf).find((t) => t !== 'null') ?? 'string';
}

function concrete(prop: JsonSchema): JsonSchema {
  const variants = (prop.anyOf ?? prop.oneOf) as JsonSchema[] | undefined;
  return variants?.find((v) => v.type !== 'null') ?? prop;
}

function takesNull(prop: JsonSchema): boolean {
  const variants = (prop.anyOf ?? prop.oneOf) as JsonSchema[] | undefined;
  return (Array.isArray(prop.type) && (prop.type as unknown[]).includes('null')) || (variants?.some((v) => v.type === 'null') ?? false);
}

function fieldsOf(schema: JsonSchema): Array<{ name: string; type: string; format?: string }> {
  return Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).map(([name, prop]) => {
    const format = concrete(prop).format as string | undefined;
    return { name, type: typeOf(prop), ...(format ? { format } : {}) };
  });
}

export function describeCommand(op: Operation): CommandSpec {
  const { input, output } = schemasOf(op);
  const required = new Set((input.required ?? []) as string[]);
  const fields = Object.entries((input.properties ?? {}) as Record<string, JsonSchema>).map(([name, prop]): FieldSpec => {
    const shape = concrete(prop);
    return {
      name,
      type: typeOf(prop),
      required: required.has(name),
      ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
      ...(prop.default !== undefined ? { default: prop.default } : {}),
      ...(Array.isArray(shape.enum) ? { enum: (shape.enum as unknown[]).map(String) } : {}),
      ...(typeof shape.format === 'string' ? { format: shape.format } : {}),
      ...(takesNull(prop) ? { nullable: true } : {}),
    };
  });
  const outputs = Object.entries((output.properties ?? {}) as Record<string, JsonSchema>).map(([name, prop]) => {
    const shape = concrete(prop);
    const items = shape.items as JsonSchema | undefined;
    const format = shape.format as string | undefined;
    return { name, type: typeOf(prop), ...(format ? { format } : {}), ...(items?.properties ? { items: fieldsOf(items) } : {}) };
  });
  return {
    name: op.name,
    domain: op.domain,
    title: op.title,
    description: op.description,
    access: op.access,
    readOnly: op.annotations.readOnlyHint,
    rest: op.rest,
    cli: op.cli,
    input: fields,
    output: outputs,
  };
}

/** Every command of the catalog, and each CLI group with its domain's description. */
export function describeCommands(catalog: Catalog): CommandManifest {
  const groups = new Map<string, string>();
  for (const toolset of catalog.toolsets) {
    for (const group of [toolset.id, ...(toolset.cliGroups ?? [])]) if (!groups.has(group)) groups.set(group, toolset.description);
  }
  const commands = catalog.all().map(describeCommand);
  const used = new Set(commands.map((c) => c.cli.command[0]));
  return { version: 1, groups: [...groups].filter(([name]) => used.has(name)).map(([name, description]) => ({ name, description })), commands };
}
