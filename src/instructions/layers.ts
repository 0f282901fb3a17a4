// Instruction layers: Markdown files in three folders, assembled in one documented order —
// layer (core, then meta, then the project's own), then file name in code-unit order (so
// "10-x.md" comes before "9-x.md": number files with the same width).
//
//   <root>/.supervisor-core/*.md        every project
//   <root>/.supervisor-meta/*.md        the meta project only
//   <project>/.claude-specific/*.md     that project only
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { SupervisorError, invalidInput } from '../core/errors.js';
import { makeDirectory, writeFileLike } from '../core/files.js';
import { describingFsErrors, errnoCode, fsFailure } from '../core/fs-errors.js';
import { folderInside, readInside, resolveInside } from '../core/inside.js';
import { markerLinesProblem } from './block.js';
import { knownPlaceholdersHint, unknownPlaceholders } from './placeholders.js';
import { byCodeUnits } from '../core/order.js';
import { CHECKOUT_DIR_MODE, CHECKOUT_FILE_MODE } from './modes.js';
import { lineCount } from './text.js';
import { utf8Text } from '../core/utf8.js';

export const LAYERS = ['core', 'meta', 'project'] as const;
export type Layer = (typeof LAYERS)[number];

export const LAYER_DIRS: Record<Layer, string> = {
  core: '.supervisor-core',
  meta: '.supervisor-meta',
  project: '.claude-specific',
};

/** Letters, digits, dot, dash and underscore, ending in .md: safe in paths and in block markers. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,96}\.md$/;
const MAX_LAYER_BYTES = 64 * 1024;

export interface LayerFile {
  layer: Layer;
  name: string;
  /** `core/10-tools.md`: how the file is named in markers, reports and errors. */
  source: string;
  path: string;
  /** With `\n` line ends and no byte-order mark. */
  text: string;
}

export interface LayerRead {
  files: LayerFile[];
  /** Files that could not be used, each as a sentence naming the file. */
  problems: string[];
}

/** Who a layer is for: the project layer lives in the project's directory. */
export interface LayerOwner {
  directory: string;
  isMeta: boolean;
}

export const sharedLayerDir = (root: string, layer: 'core' | 'meta') => join(root, LAYER_DIRS[layer]);
const projectLayerDir = (directory: string) => join(directory, LAYER_DIRS.project);

/**
 * The files of one layer folder in name order. A missing folder is an empty layer, except the
 * core layer: without it every project would silently lose its shared instructions.
 */
export async function readLayer(layer: Layer, dir: string, inside?: Inside): Promise<LayerRead> {
  if (inside) {
    // The project's own folder: a link leading out of the project is not read (nor its file names listed).
    try {
      if ((await folderInside(inside.base, dir, inside.what)) === undefined) return { files: [], problems: [] };
    } catch (err) {
      if (err instanceof SupervisorError && err.code === 'not_found') return { files: [], problems: [] };
      return { files: [], problems: [(err as Error).message] };
    }
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && layer !== 'core') return { files: [], problems: [] };
    if (errnoCode(err) === 'ENOENT') return { files: [], problems: [`the core layer ${dir} does not exist; run \`supervisor instructions init\` (init_instructions over MCP), or set instructionsRoot to the folder of layers another daemon of this database uses`] };
    return { files: [], problems: [(fsFailure('read the folder', dir, err) as Error).message] };
  }
  // Dot files are editors' and our own temp files.
  const names = entries.map((e) => e.name).filter((name) => name.endsWith('.md') && !name.startsWith('.')).sort(byCodeUnits);
  const read = await Promise.all(names.map((name) => readLayerFile(layer, dir, name, inside)));
  return {
    files: read.filter((r): r is LayerFile => typeof r !== 'string'),
    problems: read.filter((r): r is string => typeof r === 'string'),
  };
}

/** Where a layer's files must stay: the project's own layer inside the project's directory. */
interface Inside {
  base: string;
  what: string;
}

async function readLayerFile(layer: Layer, dir: string, name: string, inside?: Inside): Promise<LayerFile | string> {
  const path = join(dir, name);
  if (!FILE_NAME.test(name)) return `${path}: ${nameRule}`;
  try {
    const raw = inside ? await readInside(inside.base, relative(inside.base, path), inside.what) : utf8Text(await readFile(path));
    if (raw === undefined) return inside ? `${path}: removed while it was being read` : `${path} is not UTF-8 text; convert it to UTF-8`;
    const text = raw.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
    return markerLinesProblem(path, text)?.message ?? { layer, name, source: `${layer}/${name}`, path, text };
  } catch (err) {
    return (fsFailure('read', path, err) as Error).message;
  }
}

const nameRule = 'a layer file name is letters, digits, ".", "_" and "-", ending in .md (e.g. 10-ports.md)';

/** The core and meta layers, read once per run and shared by every project. */
export interface SharedLayers {
  core: LayerRead;
  meta: LayerRead;
}

export async function readSharedLayers(root: string): Promise<SharedLayers> {
  const [core, meta] = await Promise.all([readLayer('core', sharedLayerDir(root, 'core')), readLayer('meta', sharedLayerDir(root, 'meta'))]);
  return { core, meta };
}

/** Every layer that applies to `owner`, in assembly order. */
export async function layersFor(shared: SharedLayers, owner: LayerOwner): Promise<LayerRead> {
  const project = await readLayer('project', projectLayerDir(owner.directory), { base: owner.directory, what: 'project directory' });
  const parts = owner.isMeta ? [shared.core, shared.meta, project] : [shared.core, project];
  return { files: parts.flatMap((p) => p.files), problems: parts.flatMap((p) => p.problems) };
}

export interface LayerListing {
  layer: Layer;
  name: string;
  path: string;
  lines: number;
  bytes: number;
}

/**
 * The layer files that apply to `owner`, or with no owner the shared ones (core and meta).
 * Problems are listed rather than thrown, so one bad file does not hide the others.
 */
export async function listLayers(root: string, owner?: LayerOwner): Promise<{ files: LayerListing[]; problems: string[] }> {
  const shared = await readSharedLayers(root);
  const read = owner ? await layersFor(shared, owner) : { files: [...shared.core.files, ...shared.meta.files], problems: [...shared.core.problems, ...shared.meta.problems] };
  const files = read.files.map((f) => ({
    layer: f.layer,
    name: f.name,
    path: f.path,
    lines: lineCount(f.text),
    bytes: Buffer.byteLength(f.text),
  }));
  return { files, problems: read.problems };
}

export interface WriteLayerInput {
  root: string;
  layer: Layer;
  name: string;
  text: string;
  /** Required for the project layer. */
  project?: { directory: string };
}

/**
 * Writes or replaces one layer file, atomically and keeping its mode. The name cannot leave
 * the layer folder, and the text must only use placeholders that exist, so a bad write is
 * refused here instead of failing every project's next regeneration.
 */
export async function writeLayerFile(input: WriteLayerInput): Promise<{ path: string; status: 'created' | 'updated' | 'unchanged' }> {
  if (!FILE_NAME.test(input.name)) throw invalidInput(`"${input.name}" is not a layer file name: ${nameRule}`, { name: input.name });
  if (Buffer.byteLength(input.text) > MAX_LAYER_BYTES) {
    throw new SupervisorError('too_large', `${input.name} is over ${MAX_LAYER_BYTES / 1024} KiB; instructions that long cost every session context: split or shorten it`, { field: 'text' });
  }
  const markers = markerLinesProblem(input.name, input.text);
  if (markers) throw invalidInput(markers.message, { field: 'text', lines: markers.lines });
  const unknown = unknownPlaceholders(input.text);
  if (unknown.length > 0) {
    const listed = unknown.map((u) => `{{${u.name}}} on line ${u.line}`).join(', ');
    throw invalidInput(`${input.name} uses unknown placeholders: ${listed}. ${knownPlaceholdersHint()}`, { unknown });
  }
  const target = await resolveInside(...whereToWrite(input)).catch((err: unknown) => {
    // A shared layer before the root was made: say what makes it.
    if (input.layer === 'project' || !(err instanceof SupervisorError) || err.code !== 'not_found') throw err;
    throw new SupervisorError('not_found', `${err.message}; \`init_instructions\` creates it with the starter layers`, err.details);
  });
  const current = target.stats ? await describingFsErrors('read', target.shown, () => readFile(target.path, 'utf8')) : undefined;
  if (current === input.text) return { path: target.shown, status: 'unchanged' };
  await describingFsErrors('write', target.shown, async () => {
    await makeDirectory(dirname(target.path), CHECKOUT_DIR_MODE);
    await writeFileLike(target.path, input.text, target.stats, CHECKOUT_FILE_MODE);
  });
  return { path: target.shown, status: current === undefined ? 'created' : 'updated' };
}

/** The project layer may only land inside the project, the shared layers inside the root. */
function whereToWrite(input: WriteLayerInput): [base: string, relative: string, what: string] {
  if (input.layer !== 'project') return [input.root, join(LAYER_DIRS[input.layer], input.name), 'instructions root'];
  if (!input.project) throw invalidInput('writing to the project layer needs a project');
  return [input.project.directory, join(LAYER_DIRS.project, input.name), 'project directory'];
}
