// Request checks for the mutating Compute Engine methods, with the real API's wording, so a
// client that sends a wrong body fails here the way it would against Google.
import { isZone, MACHINE_TYPES } from './compute-catalog.js';
import { GoogleError, invalid } from './errors.js';

const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const METADATA_KEY = /^[a-zA-Z0-9_-]{1,128}$/;
const IMAGE = /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\/)?projects\/[a-z][-a-z0-9]*\/global\/images\/(?:family\/)?[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
const DISK_TYPES = ['pd-standard', 'pd-balanced', 'pd-ssd'];
/** Smallest boot disk the public Debian/Ubuntu images allow. */
export const MIN_BOOT_DISK_GB = 10;

/** Top-level Instance fields the API knows; any other name is refused, not ignored. */
const INSTANCE_FIELDS = new Set([
  'advancedMachineFeatures', 'canIpForward', 'confidentialInstanceConfig', 'deletionProtection', 'description', 'disks',
  'displayDevice', 'guestAccelerators', 'hostname', 'keyRevocationActionType', 'labels', 'machineType', 'metadata',
  'minCpuPlatform', 'name', 'networkInterfaces', 'networkPerformanceConfig', 'params', 'privateIpv6GoogleAccessType',
  'reservationAffinity', 'resourcePolicies', 'scheduling', 'serviceAccounts', 'shieldedInstanceConfig',
  'shieldedInstanceIntegrityPolicy', 'sourceMachineImage', 'tags',
]);

export interface InsertRequest {
  name: string;
  machineType: string;
  disk: { sizeGb: number; type: string; image: string };
  labels: Record<string, string>;
  metadata: Array<{ key: string; value: string }>;
  /** An accessConfig asked for a public address. */
  external: boolean;
}

export function checkRequestId(value: string | null): string | undefined {
  if (value === null) return undefined;
  if (!UUID.test(value) || /^[0-]+$/.test(value)) {
    throw invalid(
      `Invalid value for field 'requestId': '${value}'. The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).`,
    );
  }
  return value.toLowerCase();
}

export function checkZone(zone: string): void {
  if (!isZone(zone)) throw invalid(`Invalid value for field 'zone': '${zone}'. Unknown zone.`);
}

export function checkInstanceName(name: string): void {
  if (!NAME.test(name) && !/^[1-9][0-9]{0,19}$/.test(name)) {
    throw invalid(`Invalid value for field 'instance': '${name}'. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}'`);
  }
}

export function parseJsonBody(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw new GoogleError(400, 'Invalid JSON payload received. Unexpected token.', 'parseError');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GoogleError(400, 'Invalid JSON payload received. Expected an object.', 'parseError');
  }
  return value as Record<string, unknown>;
}

/** Accepts "zones/Z/machineTypes/T", "projects/P/zones/Z/machineTypes/T" or the full URL. */
export function machineTypeIn(value: unknown, field: string, project: string, zone: string): string {
  const text = typeof value === 'string' ? value : '';
  const match = /^(?:(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\/)?projects\/([^/]+)\/)?zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(text);
  if (!match) throw invalid(`Invalid value for field '${field}': '${text}'. Invalid machine type URL.`);
  const [, p, z, type] = match as unknown as [string, string | undefined, string, string];
  if ((p !== undefined && p !== project) || z !== zone) {
    throw invalid(`Invalid value for field '${field}': '${text}'. Machine type must be in the same zone as the instance ('${zone}').`);
  }
  if (!MACHINE_TYPES.has(type)) throw invalid(`Invalid value for field '${field}': '${text}'. Machine type with name '${type}' does not exist in zone '${zone}'.`);
  return type;
}

export function checkInsert(body: Record<string, unknown>, project: string, zone: string): InsertRequest {
  for (const name of Object.keys(body)) {
    if (!INSTANCE_FIELDS.has(name)) throw new GoogleError(400, `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`, 'invalid');
  }
  const name = typeof body.name === 'string' ? body.name : '';
  if (!NAME.test(name)) throw invalid(`Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
  if (body.machineType === undefined) throw invalid("Invalid value for field 'resource.machineType': ''. Machine type must be specified.");
  const machineType = machineTypeIn(body.machineType, 'resource.machineType', project, zone);
  return { name, machineType, disk: bootDisk(body.disks, project, zone), labels: labels(body.labels), metadata: metadata(body.metadata), ...networks(body.networkInterfaces) };
}

function bootDisk(value: unknown, project: string, zone: string): InsertRequest['disk'] {
  const disks = Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
  const boots = disks.filter((d) => typeof d === 'object' && d !== null && d.boot === true);
  if (boots.length !== 1) throw invalid("Invalid value for field 'resource.disks': ''. Boot disk must be specified.");
  const boot = boots[0] as Record<string, unknown>;
  const init = (typeof boot.initializeParams === 'object' && boot.initializeParams !== null ? boot.initializeParams : {}) as Record<string, unknown>;
  const image = typeof init.sourceImage === 'string' ? init.sourceImage : '';
  if (!IMAGE.test(image)) throw invalid(`Invalid value for field 'resource.disks[0].initializeParams.sourceImage': '${image}'. The URL is malformed.`);
  // int64 fields travel as decimal strings; numbers are accepted too, as by the real API.
  const size = init.diskSizeGb === undefined ? MIN_BOOT_DISK_GB : Number(init.diskSizeGb);
  if (!Number.isInteger(size)) throw invalid(`Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': '${String(init.diskSizeGb)}'.`);
  if (size < MIN_BOOT_DISK_GB) throw invalid(`Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': '${size}'. Requested disk size cannot be smaller than the image size (${MIN_BOOT_DISK_GB} GB)`);
  let type = 'pd-standard';
  if (init.diskType !== undefined) {
    const match = /(?:^|\/)projects\/[^/]+\/zones\/([^/]+)\/diskTypes\/([^/]+)$|^zones\/([^/]+)\/diskTypes\/([^/]+)$/.exec(String(init.diskType));
    const z = match?.[1] ?? match?.[3];
    const t = match?.[2] ?? match?.[4];
    if (z !== zone || !t || !DISK_TYPES.includes(t)) {
      throw invalid(`Invalid value for field 'resource.disks[0].initializeParams.diskType': '${String(init.diskType)}'. Disk type must be zones/${zone}/diskTypes/<pd-standard|pd-balanced|pd-ssd> in project ${project}.`);
    }
    type = t;
  }
  return { sizeGb: size, type, image };
}

function labels(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid("Invalid value for field 'resource.labels': ''. Labels must be a map.");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      throw invalid(`Invalid value for field 'resource.labels': '${k}'. Label keys must start with a lowercase letter and contain only lowercase letters, digits, '_' and '-'; values at most 63 such characters.`);
    }
    out[k] = v;
  }
  return out;
}

function metadata(value: unknown): InsertRequest['metadata'] {
  if (value === undefined) return [];
  const items = (value as { items?: unknown }).items;
  if (items === undefined) return [];
  if (!Array.isArray(items)) throw invalid("Invalid value for field 'resource.metadata.items': ''. Expected a list.");
  const out: InsertRequest['metadata'] = [];
  for (const [i, item] of (items as Array<Record<string, unknown>>).entries()) {
    if (typeof item?.key !== 'string' || !METADATA_KEY.test(item.key)) throw invalid(`Invalid value for field 'resource.metadata.items[${i}].key': '${String(item?.key)}'. Must be a match of regex '[a-zA-Z0-9-_]{1,128}'`);
    if (typeof item.value !== 'string') throw invalid(`Invalid value for field 'resource.metadata.items[${i}].value'. Expected a string.`);
    if (out.some((o) => o.key === item.key)) throw invalid(`Invalid value for field 'resource.metadata': Duplicate metadata key '${item.key}'.`);
    out.push({ key: item.key, value: item.value });
  }
  if (Buffer.byteLength(JSON.stringify(out)) > 512 * 1024) throw invalid("Invalid value for field 'resource.metadata': Metadata total size exceeds 512 KB.");
  return out;
}

/** At least one interface on a network; the fake has only "default". */
function networks(value: unknown): { external: boolean } {
  const nics = Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
  if (nics.length === 0) throw invalid("Invalid value for field 'resource.networkInterfaces': ''. At least one network interface is required.");
  for (const [i, nic] of nics.entries()) {
    const network = typeof nic?.network === 'string' ? nic.network : undefined;
    const subnetwork = typeof nic?.subnetwork === 'string' ? nic.subnetwork : undefined;
    if (network === undefined && subnetwork === undefined) continue; // the API then uses the default network
    if (network !== undefined && !/(?:^|\/)global\/networks\/default$/.test(network)) {
      throw new GoogleError(404, `The resource '${network}' was not found`, 'notFound');
    }
    if (subnetwork !== undefined && !/regions\/[^/]+\/subnetworks\/default$/.test(subnetwork)) {
      throw invalid(`Invalid value for field 'resource.networkInterfaces[${i}].subnetwork': '${subnetwork}'.`);
    }
  }
  const configs = (nics[0] as { accessConfigs?: unknown }).accessConfigs;
  if (configs !== undefined && !Array.isArray(configs)) throw invalid("Invalid value for field 'resource.networkInterfaces[0].accessConfigs': ''. Expected a list.");
  for (const config of (configs ?? []) as Array<Record<string, unknown>>) {
    if (config.type !== undefined && config.type !== 'ONE_TO_ONE_NAT') throw invalid(`Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].type': '${String(config.type)}'.`);
  }
  return { external: Array.isArray(configs) && configs.length > 0 };
}

export function checkSetMachineType(body: Record<string, unknown>, project: string, zone: string): string {
  for (const name of Object.keys(body)) {
    if (name !== 'machineType') throw new GoogleError(400, `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`, 'invalid');
  }
  return machineTypeIn(body.machineType, 'resource.machineType', project, zone);
}
