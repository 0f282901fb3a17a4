// Public shapes of the fake Google APIs: what tests seed, inject and read back.

export type Service = 'oauth' | 'compute' | 'monitoring';

/** A transport-level failure injected before (or, with afterApply, after) a request is handled. */
export type Fault =
  | { status: 429 | 500 | 503; afterApply?: boolean }
  | { drop: true }
  | { delayMs: number }
  /** Held until the promise settles, then handled: a slow call that ends when the test says. */
  | { heldUntil: Promise<void> };

export interface FaultMatch {
  service?: Service;
  method?: string;
  pathIncludes?: string;
}

export interface CallRecord {
  service: Service;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** client_email behind the bearer token (or the JWT's iss on the token endpoint), when known. */
  account?: string;
  /** The project named in the path, when there is one. */
  project?: string;
  /** HTTP status sent; 0 while pending or when the socket was dropped. */
  status: number;
}

/** The service-account key JSON as the Cloud console downloads it. */
export interface ServiceAccountKeyJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface OAuthGrant {
  account: string;
  kid: string;
  scope: string;
  at: number;
}

/** An error that a zone operation ends with instead of taking effect. */
export interface OperationFailure {
  code: string;
  message: string;
  /** httpErrorStatusCode on the operation; default 403 (what quota errors carry). */
  httpStatus?: number;
  errorDetails?: unknown[];
}

export interface OperationFaultMatch {
  project?: string;
  operationType?: 'insert' | 'delete' | 'start' | 'stop' | 'setMachineType';
  instance?: string;
}

export type InstanceStatus =
  | 'PROVISIONING'
  | 'STAGING'
  | 'RUNNING'
  | 'STOPPING'
  | 'STOPPED'
  | 'SUSPENDING'
  | 'SUSPENDED'
  | 'REPAIRING'
  | 'TERMINATED';

export interface SeedInstance {
  name: string;
  machineType?: string;
  status?: InstanceStatus;
  labels?: Record<string, string>;
  diskSizeGb?: number;
  /** Default: an hour before the fake's now. */
  lastStartTimestamp?: string;
}

/** A value at a time: a constant, a function of time, or recorded samples. */
export type Sampler = number | ((at: Date) => number) | Array<{ at: Date; value: number }>;

export interface LoadProfile {
  /** CPU utilisation as a fraction 0–1, the way compute.googleapis.com reports it. */
  cpu: Sampler;
  /** Memory used, percent 0–100; reported only when the Ops Agent is installed. */
  memory?: Sampler;
  /** Disk used, percent 0–100; reported only when the Ops Agent is installed. */
  disk?: Sampler;
  /** Default: true when memory or disk is given. */
  opsAgent?: boolean;
  /** No data before this instant (a VM that just started). */
  from?: Date;
}
